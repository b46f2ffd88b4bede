// Proxy fidelity (issue #18): does the search's cheap proxy rank
// architectures the way longer training does, and how noisy is it?
//
// Trains every architecture of a fixed list (named models plus seeded random
// draws from the default MnasNet space) under a reference recipe (one seed)
// and under each proxy variant (--seeds seeds each), all through the search's
// own child trainer (train::train_child). Prints, per proxy variant: Kendall's
// tau and Spearman's rho between the proxy's accuracy (mean over seeds) and
// the reference's, the seed noise (mean std over seeds, in points, and the
// fraction of pairs that seed 0 and seed 1 order differently), and the cost
// of a child (training images, seconds).
//
// Every run is appended to --results (JSON lines) as soon as it ends, so a
// killed bench continues where it stopped and a new proxy variant reuses the
// reference runs. --report-only prints the table from the file.
//
//   nice build/bench/proxy_fidelity --results runs/fidelity.jsonl --threads 1
//     --proxy 'full={}' --proxy 'rung0={"stop_fraction":0.3333}'
//     --proxy 'full_w0.1={"warmup_epochs":0.1}'
// (one command line).
//
// Variants and the reference are JSON objects merged over
// experiments/proxy-fashion.json (the default proxy) without its time limit.
// A variant may add "stop_fraction": F, which trains the first F of that
// proxy's schedule and stops (train::ChildStage), as a rung of the search's
// successive halving does (search/asha.h): 'rung0={"stop_fraction":0.1111}'. The default reference
// stands in for the final recipe (experiments/final-fashion.json: 2 epochs
// on all 60k images, about 20 CPU-minutes a model here) at a cost a 24-model
// bench can afford: 4x the proxy's images, drawn from 40k training images,
// scored on 5k held-out images, at the final recipe's peak learning rate,
// warming up for 0.1 epochs. Runs are keyed by their resolved recipe
// (base + overrides), so a changed default proxy means new runs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_file.h"
#include "common/rank_correlation.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "space/search_space.h"
#include "train/child_trainer.h"

#ifndef MNAS_SOURCE_DIR
#define MNAS_SOURCE_DIR "."
#endif

namespace {

using nlohmann::json;

const char* kUsage =
    "usage: proxy_fidelity --results FILE.jsonl [--archs N] [--named a,b,...] [--seed S]\n"
    "                      [--seeds K] [--threads T] [--proxy NAME=JSON]... [--reference JSON]\n"
    "                      [--report-only]\n"
    "  --archs N       random architectures from the default space (default 20)\n"
    "  --named LIST    named models added first (default mnasnet-a1,mnasnet-b1,mnasnet-small,mobilenet-v2)\n"
    "  --seed S        seed of the random draws (default 1)\n"
    "  --seeds K       seeds per proxy variant (default 2)\n"
    "  --threads T     training threads (default 1)\n"
    "  --proxy N=J     a proxy variant: JSON merged over experiments/proxy-fashion.json (default full={})\n"
    "  --reference J   the reference recipe, merged the same way (default: see the source)\n";

const char* kDefaultReference =
    R"({"train_subset": 40000, "val_subset": 5000, "epochs": 1.0, "lr": 0.1, "warmup_epochs": 0.1})";

struct Variant {
  std::string name;  // a label
  json overrides;
  int seeds = 1;
  // The base merged with the overrides, without "threads" and "seed": what
  // identifies a run's recipe in the results file, so a changed default
  // proxy is never mistaken for the recipe a stored run used.
  json resolved;
  std::string key() const { return resolved.dump(); }
};

struct Run {
  std::string status;
  double top1 = 0, seconds = 0;
  int64_t images = 0;
};

std::string run_key(const std::string& variant, const std::string& arch, int seed) {
  return variant + "\n" + arch + "\n" + std::to_string(seed);
}

// Reads the results file; a torn last line (the bench was killed while
// writing it) is ignored.
std::map<std::string, Run> read_results(const std::string& path) {
  std::map<std::string, Run> runs;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      continue;
    }
    Run r{j.at("status").get<std::string>(), j.at("top1").get<double>(),
          j.at("train_seconds").get<double>(), j.at("images_seen").get<int64_t>()};
    runs[run_key(j.at("config").dump(), j.at("arch").get<std::string>(),
                 j.at("seed").get<int>())] = r;
  }
  return runs;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / static_cast<double>(v.size());
}

double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return NAN;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

void report(const std::vector<Variant>& proxies, const Variant& reference,
            const std::vector<std::string>& archs, const std::map<std::string, Run>& runs) {
  auto find = [&](const Variant& v, const std::string& a, int seed) -> const Run* {
    const auto it = runs.find(run_key(v.key(), a, seed));
    return it == runs.end() ? nullptr : &it->second;
  };
  std::printf("reference %s\n", reference.resolved.dump().c_str());
  std::printf("%-10s %6s %7s %7s %9s %9s %11s %9s %9s\n", "proxy", "archs", "tau", "rho",
              "seed_std", "swap_0v1", "images", "seconds", "failed");
  for (const auto& p : proxies) {
    std::vector<double> ref, prox, s0, s1, stds, secs, imgs;
    int failed = 0;
    for (const auto& a : archs) {
      const Run* r = find(reference, a, 0);
      if (!r) continue;
      std::vector<double> acc;
      bool complete = true, ok = r->status == "ok";
      for (int s = 0; s < p.seeds; ++s) {
        const Run* q = find(p, a, s);
        if (!q) {
          complete = false;
          break;
        }
        ok = ok && q->status == "ok";
        acc.push_back(q->top1);
        secs.push_back(q->seconds);
        imgs.push_back(static_cast<double>(q->images));
      }
      if (!complete) continue;
      if (!ok) {
        ++failed;
        continue;
      }
      ref.push_back(r->top1);
      prox.push_back(mean(acc));
      if (acc.size() >= 2) {
        s0.push_back(acc[0]), s1.push_back(acc[1]);
        stds.push_back(stdev(acc));
      }
    }
    std::printf("%-10s %6zu %7.3f %7.3f %9.2f %9.3f %11.0f %9.1f %9d\n", p.name.c_str(),
                ref.size(), mnas::kendall_tau(prox, ref), mnas::spearman_rho(prox, ref),
                100 * mean(stds), s0.size() >= 2 ? mnas::discordant_fraction(s0, s1) : NAN,
                mean(imgs), mean(secs), failed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string results;
    int n_random = 20, seeds = 2, threads = 1;
    uint64_t seed = 1;
    bool report_only = false;
    std::vector<std::string> named{"mnasnet-a1", "mnasnet-b1", "mnasnet-small", "mobilenet-v2"};
    std::vector<Variant> proxies;
    Variant reference{"reference", json::parse(kDefaultReference), 1, json()};
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw mnas::ConfigError(a + " needs a value\n" + kUsage);
        return argv[++i];
      };
      if (a == "--results") {
        results = value();
      } else if (a == "--archs") {
        n_random = std::stoi(value());
      } else if (a == "--named") {
        named.clear();
        std::stringstream ss(value());
        for (std::string w; std::getline(ss, w, ',');) {
          if (!w.empty()) named.push_back(w);
        }
      } else if (a == "--seed") {
        seed = std::stoull(value());
      } else if (a == "--seeds") {
        seeds = std::stoi(value());
      } else if (a == "--threads") {
        threads = std::stoi(value());
      } else if (a == "--proxy") {
        const std::string v = value();
        const auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
          throw mnas::ConfigError("--proxy '" + v + "': expected NAME=JSON, e.g. ninth={\"epochs\":0.111}");
        }
        proxies.push_back({v.substr(0, eq), json::parse(v.substr(eq + 1)), 0, json()});
      } else if (a == "--reference") {
        reference.overrides = json::parse(value());
      } else if (a == "--report-only") {
        report_only = true;
      } else if (a == "--help" || a == "-h") {
        std::cout << kUsage;
        return 0;
      } else {
        throw mnas::ConfigError("unknown argument '" + a + "'\n" + kUsage);
      }
    }
    if (results.empty()) throw mnas::ConfigError(std::string("--results is required\n") + kUsage);
    if (n_random < 0 || seeds < 1 || threads < 1) {
      throw mnas::ConfigError("--archs must be >= 0, --seeds and --threads >= 1");
    }
    if (proxies.empty()) proxies.push_back({"full", json::object(), 0, json()});
    for (auto& p : proxies) p.seeds = seeds;

    const json base = mnas::load_json_file(std::string(MNAS_SOURCE_DIR) + "/experiments/proxy-fashion.json", "the default proxy");
    // Budgets are steps; a loaded machine must not cut a run short (a
    // variant may still set its own limit).
    auto resolve = [&](Variant& v) {
      v.resolved = base;
      v.resolved["time_limit_s"] = 0;
      v.resolved.merge_patch(v.overrides);
      v.resolved.erase("threads");
      v.resolved.erase("seed");
    };
    resolve(reference);
    for (auto& p : proxies) resolve(p);
    // The proxy config of a variant and, with "stop_fraction", the stage.
    auto config_of = [&](const Variant& v, int s) {
      json j = v.resolved;
      j.erase("stop_fraction");
      j["threads"] = threads;
      j["seed"] = static_cast<uint64_t>(s);
      auto c = mnas::train::proxy_config_from_json(j);
      mnas::train::validate(c);
      return c;
    };
    auto stage_of = [&](const Variant& v, int s) {
      mnas::train::ChildStage stage;
      if (v.overrides.contains("stop_fraction")) {
        const double f = v.overrides.at("stop_fraction").get<double>();
        if (!(f > 0 && f <= 1)) throw mnas::ConfigError(v.name + ": stop_fraction must be in (0, 1]");
        const auto total = mnas::train::proxy_total_steps(config_of(v, s));
        stage.max_steps = std::max<int64_t>(1, std::llround(f * static_cast<double>(total)));
      }
      return stage;
    };
    // Validate every variant before any training.
    stage_of(reference, 0);
    for (const auto& p : proxies) stage_of(p, 0);

    std::vector<std::string> archs;
    for (const auto& n : named) archs.push_back(mnas::space::arch_to_string(mnas::space::named_arch_spec(n)));
    const auto space = mnas::space::SearchSpace::mnasnet_default();
    std::mt19937_64 rng(seed);
    for (int i = 0; i < n_random; ++i) {
      std::vector<int> d;
      for (int size : space.choice_sizes()) {
        d.push_back(std::uniform_int_distribution<int>(0, size - 1)(rng));
      }
      archs.push_back(mnas::space::arch_to_string(space.decode(d)));
    }

    auto runs = read_results(results);
    if (!report_only) {
      std::ofstream out(results, std::ios::app);
      if (!out) throw mnas::Error("cannot append to '" + results + "'");
      for (size_t i = 0; i < archs.size(); ++i) {
        std::vector<std::pair<const Variant*, int>> todo{{&reference, 0}};
        for (const auto& p : proxies) {
          for (int s = 0; s < p.seeds; ++s) todo.emplace_back(&p, s);
        }
        for (const auto& [v, s] : todo) {
          const auto key = run_key(v->key(), archs[i], s);
          if (runs.count(key)) continue;
          const auto r = mnas::train::train_child(
              mnas::space::decode_arch(mnas::space::split_block_strings(archs[i])), config_of(*v, s),
              stage_of(*v, s));
          const json line{{"variant", v->name}, {"config", v->resolved}, {"arch", archs[i]}, {"seed", s},
                          {"status", mnas::to_string(r.status)}, {"top1", r.top1},
                          {"train_seconds", r.train_seconds}, {"images_seen", r.images_seen}};
          out << line.dump() << "\n" << std::flush;
          runs[key] = {mnas::to_string(r.status), r.top1, r.train_seconds, r.images_seen};
          std::fprintf(stderr, "[%zu/%zu] %-10s seed %d: %s top1 %.4f, %.1f s\n", i + 1, archs.size(),
                       v->name.c_str(), s, mnas::to_string(r.status), r.top1, r.train_seconds);
        }
      }
    }
    report(proxies, reference, archs, runs);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "proxy_fidelity: " << e.what() << "\n";
    return 2;
  }
}
