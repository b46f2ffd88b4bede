// ppo_synthetic: the PPO controller's settings on the synthetic objective
// (docs/search.md, "The controller's defaults"): the whole default MnasNet
// space, the soft reward of synthetic_accuracy / synthetic_latency_ms at
// 224 px, Gaussian noise of sigma on every observed reward and a fraction of
// failures. Prints, per seed, the summed entropy and the mean noise-free
// reward of the first and last WINDOW trials, and their medians over seeds.
// Seconds per variant, not minutes: a screen before the real objective
// (bench/strategies.sh), whose ranking it does not always predict.
//
//   ppo_synthetic [--trials 320] [--seeds 3] [--sigma 0.02] [--failures 0.05]
//                 [--window 40] [--ppo '{"target_kl": 0}'] ...
// Each --ppo is one variant: a strategy.ppo JSON object over the defaults
// (PpoConfig{}); with none, the defaults alone.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "search/ppo_config.h"
#include "search/ppo_controller.h"
#include "search/reward.h"
#include "search/strategy.h"
#include "search/synthetic.h"
#include "space/search_space.h"

namespace {

using namespace mnas;

struct Result {
  double h0 = 0, h1 = 0, r0 = 0, r1 = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Result run(const search::PpoConfig& config, uint64_t seed, int trials, double sigma,
           double failure_rate, int window) {
  const auto space = space::SearchSpace::mnasnet_default();
  const auto deploy = search::synthetic_deploy_params(space);
  search::PpoController c(space.choice_sizes(), config, seed, search::canonical_choices(space));
  std::mt19937_64 rng(seed + 100);
  std::normal_distribution<double> noise(0.0, sigma);
  std::bernoulli_distribution fails(failure_rate);
  Result r;
  for (int i = 0; i < trials; ++i) {
    const auto p = c.propose(i);
    const auto arch = space.decode(p.decisions);
    const double truth =
        search::reward(search::synthetic_accuracy(arch, deploy),
                       search::synthetic_latency_ms(arch, deploy), search::RewardConfig{});
    const bool early = i < window, late = i >= trials - window;
    if (early) r.h0 += p.entropy / window, r.r0 += truth / window;
    if (late) r.h1 += p.entropy / window, r.r1 += truth / window;
    if (fails(rng)) c.observe_failure(i, p.decisions);
    else c.observe(i, p.decisions, truth + noise(rng));
  }
  return r;
}

int usage(const std::string& why) {
  std::cerr << "ppo_synthetic: " << why
            << "\nusage: ppo_synthetic [--trials N] [--seeds N] [--sigma S] [--failures F] "
               "[--window N] [--ppo JSON]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 320, seeds = 3, window = 40;
  double sigma = 0.02, failure_rate = 0.05;
  std::vector<std::string> variants;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage(a + " needs a value");
      const std::string v = argv[++i];
      const auto number = [&](auto parse) {
        size_t used = 0;
        try {
          const auto x = parse(v, &used);
          if (used == v.size()) return x;
        } catch (const std::logic_error&) {
        }
        throw mnas::ConfigError(a + " must be a number, got '" + v + "'");
      };
      const auto to_int = [](const std::string& t, size_t* n) { return std::stoi(t, n); };
      const auto to_double = [](const std::string& t, size_t* n) { return std::stod(t, n); };
      if (a == "--trials") trials = number(to_int);
      else if (a == "--seeds") seeds = number(to_int);
      else if (a == "--window") window = number(to_int);
      else if (a == "--sigma") sigma = number(to_double);
      else if (a == "--failures") failure_rate = number(to_double);
      else if (a == "--ppo") variants.push_back(v);
      else return usage("unknown flag " + a);
    }
    if (trials < 2 || seeds < 1 || window < 1 || 2 * window > trials) {
      return usage("need trials >= 2 x window >= 2 and seeds >= 1");
    }
    if (!(failure_rate >= 0 && failure_rate < 1) || !(sigma >= 0)) {
      return usage("need 0 <= failures < 1 and sigma >= 0");
    }
    if (variants.empty()) variants.push_back("{}");
    search::set_torch_threads(1);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one line per seed as it ends, also into a pipe
    std::printf("%d trials, sigma %.3f, %.0f %% failures; first/last %d trials\n", trials, sigma,
                100 * failure_rate, window);
    for (const auto& v : variants) {
      const auto config = search::ppo_config_from_json(nlohmann::json::parse(v));
      std::vector<double> h1, dr;
      std::printf("\n%s\n", v.c_str());
      for (int s = 1; s <= seeds; ++s) {
        const Result r = run(config, static_cast<uint64_t>(s), trials, sigma, failure_rate, window);
        std::printf("  seed %d: entropy %.1f -> %.1f nats, reward %.3f -> %.3f (%+.3f)\n", s, r.h0,
                    r.h1, r.r0, r.r1, r.r1 - r.r0);
        h1.push_back(r.h1);
        dr.push_back(r.r1 - r.r0);
      }
      std::printf("  median: late entropy %.1f nats, reward gain %+.3f\n", median(h1), median(dr));
    }
  } catch (const nlohmann::json::exception& e) {
    return usage(std::string("--ppo is not JSON: ") + e.what());
  } catch (const std::exception& e) {
    std::cerr << "ppo_synthetic: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
