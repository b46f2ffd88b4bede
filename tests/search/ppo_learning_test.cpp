// Issue #18: the PPO controller learns at its DEFAULT settings (PpoConfig{})
// from a few hundred noisy rewards with a few failures, on the whole default
// MnasNet space (42 decisions) and the synthetic objective's soft reward:
// the summed entropy falls, late rewards beat early ones, failures stay out
// of the baseline (which is exactly the EMA of successful rewards) and get a
// bounded penalty. Equivalent choices are never sampled.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "common/error.h"
#include "search/ppo_controller.h"
#include "search/reward.h"
#include "search/synthetic.h"
#include "space/search_space.h"

namespace mnas::search {
namespace {

const space::SearchSpace& default_space() {
  static const space::SearchSpace s = space::SearchSpace::mnasnet_default();
  return s;
}

std::vector<std::vector<int>> default_canonical() { return canonical_choices(default_space()); }

space::GlobalParams deploy() { return synthetic_deploy_params(default_space()); }

// The synthetic soft reward of the decisions, without noise.
double true_reward(const std::vector<int>& decisions) {
  const auto arch = default_space().decode(decisions);
  const auto d = deploy();
  return reward(synthetic_accuracy(arch, d), synthetic_latency_ms(arch, d), RewardConfig{});
}

struct Trace {
  std::vector<double> entropy;   // of each proposal
  std::vector<double> truth;     // noise-free reward of each proposal
  std::vector<double> observed;  // what the controller saw (NaN: failure)
  double expected_baseline = 0;  // EMA of successful observed rewards
  int failures = 0;
  int updates = 0;
};

// `trials` proposals at the default settings, each observed with reward +
// N(0, sigma) or, with probability failure_rate, as a failure.
Trace run(PpoController& c, int trials, double sigma, double failure_rate, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  std::bernoulli_distribution fails(failure_rate);
  const double decay = PpoConfig{}.baseline_decay;
  Trace t;
  bool has_baseline = false;
  for (int i = 0; i < trials; ++i) {
    const auto p = c.propose(i);
    t.entropy.push_back(p.entropy);
    t.truth.push_back(true_reward(p.decisions));
    bool updated = false;
    if (fails(rng)) {
      ++t.failures;
      t.observed.push_back(std::nan(""));
      updated = c.observe_failure(i, p.decisions);
    } else {
      const double r = t.truth.back() + noise(rng);
      t.observed.push_back(r);
      if (!has_baseline) t.expected_baseline = r, has_baseline = true;
      t.expected_baseline = decay * t.expected_baseline + (1 - decay) * r;
      updated = c.observe(i, p.decisions, r);
    }
    t.updates += updated;
  }
  return t;
}

double mean(const std::vector<double>& v, size_t from, size_t to) {
  return std::accumulate(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to),
                         0.0) /
         static_cast<double>(to - from);
}

// One seed per test (each about 4-8 s on the 2-core machine). At these
// settings (per-decision ratio, target_kl 0.1), 2026-12-07, seeds 1/2/3:
// summed entropy of the first 40 trials 39.2/40.1/40.3 -> last 40
// 16.7/7.7/12.1 nats, mean true reward 0.876/0.879/0.874 -> 0.900/0.913/
// 0.905 (uniform random search: 0.877; bench/ppo_synthetic prints them; the
// per-architecture ratio with target_kl 0.05, the defaults of 2026-12-03:
// 40.8 -> 20.8/21.1/24.3 nats, 0.869/0.872/0.875 -> 0.897/0.912/0.905). The paper's constants
// (lr 0.00035, batch 20, entropy 1e-5, no normalisation, no clip, no KL
// stop) on the same runs: entropy 40.8 -> 40.7, reward +0.006/-0.008/+0.008.
class PpoLearningSeedTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PpoLearningSeedTest, LearnsFromNoisyRewardsWithFailuresAtTheDefaults) {
  const uint64_t seed = GetParam();
  const PpoConfig defaults;
  constexpr int kTrials = 320;    // 40 updates at the default batch of 8
  constexpr size_t kWindow = 40;  // first and last 5 batches
  PpoController c(default_space().choice_sizes(), defaults, seed, default_canonical());
  const Trace t = run(c, kTrials, 0.02, 0.05, seed + 100);
  EXPECT_EQ(t.updates, kTrials / defaults.batch_size);
  EXPECT_GT(t.failures, 5) << "the test should include failures";

  const double h0 = mean(t.entropy, 0, kWindow);
  const double h1 = mean(t.entropy, kTrials - kWindow, kTrials);
  const double r0 = mean(t.truth, 0, kWindow);
  const double r1 = mean(t.truth, kTrials - kWindow, kTrials);
  RecordProperty("entropy", std::to_string(h0) + " -> " + std::to_string(h1));
  RecordProperty("reward", std::to_string(r0) + " -> " + std::to_string(r1));
  // The summed entropy falls clearly (the paper's constants leave it within
  // 0.2 nats of the start over this many trials).
  EXPECT_LT(h1, h0 - 8.0) << "entropy " << h0 << " -> " << h1;
  // The sampler moved to better architectures: several times the noise's
  // standard error over 40 trials (0.02 / sqrt(40) = 0.003).
  EXPECT_GT(r1, r0 + 0.015) << "reward " << r0 << " -> " << r1;

  // Failures do not dominate: the baseline is the EMA of the successful
  // rewards only, to the bit, and lies among them.
  const auto state = c.state();
  EXPECT_TRUE(state.at("has_baseline").get<bool>());
  const double b = state.at("baseline").get<double>();
  EXPECT_DOUBLE_EQ(b, t.expected_baseline);
  double lo = 1, hi = 0;
  for (double r : t.observed) {
    if (!std::isnan(r)) lo = std::min(lo, r), hi = std::max(hi, r);
  }
  EXPECT_GT(b, lo);
  EXPECT_LT(b, hi);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PpoLearningSeedTest, ::testing::Values(1, 2, 3));

TEST(PpoLearningTest, FailuresStayOutOfTheBaselineWithABoundedPenalty) {
  PpoConfig config;
  config.batch_size = 4;
  config.minibatch_size = 4;
  PpoController c(default_space().choice_sizes(), config, 5, default_canonical());
  // A failure first: no baseline yet, and none started by it.
  auto p = c.propose(0);
  EXPECT_FALSE(c.observe_failure(0, p.decisions));
  EXPECT_FALSE(c.state().at("has_baseline").get<bool>());
  // The first success starts it.
  p = c.propose(1);
  EXPECT_FALSE(c.observe(1, p.decisions, 0.8));
  EXPECT_DOUBLE_EQ(c.state().at("baseline").get<double>(), 0.8);
  p = c.propose(2);
  EXPECT_FALSE(c.observe(2, p.decisions, 0.9));
  const double b = c.state().at("baseline").get<double>();
  EXPECT_DOUBLE_EQ(b, 0.95 * 0.8 + 0.05 * 0.9);
  // Another failure leaves it alone and completes the batch.
  p = c.propose(3);
  EXPECT_TRUE(c.observe_failure(3, p.decisions));
  EXPECT_DOUBLE_EQ(c.state().at("baseline").get<double>(), b);
  const auto u = c.last_update();
  EXPECT_EQ(u.at("failures").get<int>(), 2);
  EXPECT_EQ(u.at("samples").get<int>(), 4);
  // Successes' raw advantages 0 and 0.1: RMS 0.0707; a failure counts as
  // one RMS below the baseline, not as a reward 0 (0.8 below it).
  EXPECT_NEAR(u.at("advantage_rms").get<double>(), std::sqrt(0.1 * 0.1 / 2), 1e-12);
  EXPECT_NEAR(u.at("mean_advantage").get<double>(), 0.05, 1e-12);
  EXPECT_GE(u.at("epochs_run").get<int>(), 1);
  EXPECT_LE(u.at("epochs_run").get<int>(), config.epochs);
  EXPECT_GE(u.at("approx_kl").get<double>(), 0.0);
  // A NaN reward is refused: a child without a reward is a failure.
  p = c.propose(4);
  EXPECT_THROW(c.observe(4, p.decisions, std::nan("")), Error);
}

// A batch of failures only still updates (the penalty pushes away from
// them) without NaNs, and the KL stop bounds how far one update moves.
TEST(PpoLearningTest, KlStopBoundsAnUpdate) {
  PpoConfig config;
  config.learning_rate = 0.05;  // large on purpose
  config.epochs = 20;
  config.target_kl = 0.01;
  PpoController c(default_space().choice_sizes(), config, 9, default_canonical());
  for (int i = 0; i < config.batch_size; ++i) {
    const auto p = c.propose(i);
    if (i % 2) c.observe_failure(i, p.decisions);
    else c.observe(i, p.decisions, 0.5 + 0.01 * i);
  }
  const auto u = c.last_update();
  ASSERT_FALSE(u.is_null());
  EXPECT_LT(u.at("epochs_run").get<int>(), config.epochs) << u.dump();
  EXPECT_TRUE(std::isfinite(u.at("loss").get<double>())) << u.dump();
  EXPECT_LE(u.at("grad_norm").get<double>(), 1e6);
}

TEST(PpoLearningTest, EquivalentChoicesAreNeverSampled) {
  const auto canon = default_canonical();
  const auto& space = default_space();
  // The aliases of the default space: block 0 and 6 repeat 1 + {-1, 0}, and
  // block 0's 16 x {0.75, 1.0} filters (both round to 16).
  int aliases = 0;
  for (size_t i = 0; i < canon.size(); ++i) {
    for (size_t k = 0; k < canon[i].size(); ++k) {
      if (canon[i][k] == static_cast<int>(k)) continue;
      ++aliases;
      // An alias decodes to the same architecture as its canonical choice.
      std::vector<int> a(canon.size(), 0), b(canon.size(), 0);
      a[i] = static_cast<int>(k);
      b[i] = canon[i][k];
      EXPECT_EQ(space.decode(a), space.decode(b)) << space.decisions()[i].name << " " << k;
    }
  }
  EXPECT_GE(aliases, 2);
  PpoController c(space.choice_sizes(), PpoConfig{}, 4, canon);
  for (int t = 0; t < 100; ++t) {
    const auto p = c.propose(t);
    for (size_t i = 0; i < canon.size(); ++i) {
      ASSERT_EQ(canon[i][static_cast<size_t>(p.decisions[i])], p.decisions[i])
          << space.decisions()[i].name;
    }
    c.observe(t, p.decisions, 0.5);
  }
  const auto greedy = c.greedy_probabilities();
  for (size_t i = 0; i < canon.size(); ++i) {
    const auto& probs = greedy[i];
    for (size_t k = 0; k < probs.size(); ++k) {
      if (canon[i][k] != static_cast<int>(k)) {
        EXPECT_EQ(probs[k], 0.0);
      }
    }
  }
  // A map that is not one onto first equivalents is refused.
  auto bad = canon;
  bad[0] = {1, 1, 2, 3};
  EXPECT_THROW(PpoController(space.choice_sizes(), PpoConfig{}, 1, bad), ConfigError);
}

// Resume stays exact with failures in the buffer, and a checkpoint written
// before failures were told apart (no "failed" in its buffer) still loads.
TEST(PpoLearningTest, CheckpointsWithFailuresRestoreExactlyAndOldOnesLoad) {
  const auto sizes = default_space().choice_sizes();
  PpoController a(sizes, PpoConfig{}, 11, default_canonical());
  for (int t = 0; t < 13; ++t) {  // one update, 5 results in the buffer
    const auto p = a.propose(t);
    if (t % 4 == 3) a.observe_failure(t, p.decisions);
    else a.observe(t, p.decisions, 0.8 + 0.001 * t);
  }
  const auto state = a.state();
  ASSERT_EQ(state.at("buffer").size(), 5u);
  EXPECT_TRUE(state.at("buffer")[3].at("failed").get<bool>());  // trial 11
  PpoController b(sizes, PpoConfig{}, 12, default_canonical());
  b.restore(state, a.weights());
  EXPECT_EQ(b.state(), state);
  for (int t = 13; t < 30; ++t) {
    const auto pa = a.propose(t), pb = b.propose(t);
    ASSERT_EQ(pa.decisions, pb.decisions) << "trial " << t;
    if (t % 4 == 3) {
      EXPECT_EQ(a.observe_failure(t, pa.decisions), b.observe_failure(t, pb.decisions));
    } else {
      EXPECT_EQ(a.observe(t, pa.decisions, 0.8), b.observe(t, pb.decisions, 0.8));
    }
  }
  EXPECT_EQ(a.greedy_probabilities(), b.greedy_probabilities());
  EXPECT_EQ(a.state(), b.state());

  auto old = state;
  for (auto& sample : old.at("buffer")) sample.erase("failed");
  PpoController c(sizes, PpoConfig{}, 13, default_canonical());
  c.restore(old, a.weights());
  for (const auto& sample : c.state().at("buffer")) EXPECT_FALSE(sample.at("failed").get<bool>());
}

}  // namespace
}  // namespace mnas::search
