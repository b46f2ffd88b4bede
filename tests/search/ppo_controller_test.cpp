// The PPO controller learns: on a reward with a known optimum it reaches the
// optimum's neighbourhood within a bounded number of samples and beats random
// search with the same budget, for several seeds. Also: checkpoints restore
// the controller exactly (the resumed controller samples what the original
// would have).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "search/ppo_controller.h"
#include "search/strategy.h"
#include "space/search_space.h"

namespace mnas::search {
namespace {

// The first three blocks of the default MnasNet space: 18 decisions of 2-4
// choices (432^3 = 8e7 architectures); the whole space only makes the test
// slower, not different.
std::vector<int> sizes() {
  auto s = space::SearchSpace::mnasnet_default().choice_sizes();
  s.resize(18);
  return s;
}

// Known optimum: decision i should be (i * 7 + 1) % size_i. Reward = fraction
// of decisions right, so the optimum is 1 and a uniform draw scores ~0.37.
std::vector<int> optimum(const std::vector<int>& s) {
  std::vector<int> o(s.size());
  for (size_t i = 0; i < s.size(); ++i) o[i] = static_cast<int>((i * 7 + 1) % s[i]);
  return o;
}

double score(const std::vector<int>& d, const std::vector<int>& o) {
  int right = 0;
  for (size_t i = 0; i < d.size(); ++i) right += d[i] == o[i];
  return static_cast<double>(right) / static_cast<double>(d.size());
}

struct Outcome {
  double best = 0;
  double last_mean = 0;  // mean reward of the last 100 samples
};

Outcome run(Strategy& s, int budget, const std::vector<int>& o) {
  Outcome r;
  double last = 0;
  for (int t = 0; t < budget; ++t) {
    const auto p = s.propose(t);
    const double rw = score(p.decisions, o);
    s.observe(t, p.decisions, rw);
    r.best = std::max(r.best, rw);
    if (t >= budget - 100) last += rw;
  }
  r.last_mean = last / 100;
  return r;
}

PpoConfig fast_config() {
  // The paper's controller (100 LSTM units, U(-0.1, 0.1), clip 0.2, EMA 0.95,
  // batches of 20) with a larger learning rate, so the test needs few samples.
  PpoConfig c;
  c.learning_rate = 0.01;
  c.batch_size = 20;
  c.minibatch_size = 10;
  c.epochs = 2;
  return c;
}

TEST(PpoControllerTest, LearnsKnownOptimumAndBeatsRandom) {
  const auto s = sizes();
  const auto o = optimum(s);
  constexpr int kBudget = 400;
  for (uint64_t seed : {1, 2, 3}) {
    PpoController ppo(s, fast_config(), seed);
    RandomSearch random(s, seed);
    const Outcome p = run(ppo, kBudget, o);
    const Outcome r = run(random, kBudget, o);
    // Neighbourhood of the optimum: at most 1 of 18 decisions wrong.
    EXPECT_GE(p.best, 17.0 / 18) << "seed " << seed;
    EXPECT_GT(p.best, r.best) << "seed " << seed;
    // The policy itself moved there, not one lucky sample.
    EXPECT_GT(p.last_mean, 0.85) << "seed " << seed;
    EXPECT_LT(r.last_mean, 0.5) << "seed " << seed;
    EXPECT_GE(score(ppo.greedy_decisions(), o), 17.0 / 18) << "seed " << seed;
  }
}

TEST(PpoControllerTest, CheckpointRestoresExactly) {
  const auto s = sizes();
  const auto o = optimum(s);
  PpoController a(s, fast_config(), 7);
  run(a, 50, o);  // two updates and ten pending-free observations
  const auto p50 = a.propose(50);  // one proposal in flight at checkpoint time
  const auto state = a.state();
  const auto weights = a.weights();

  PpoController b(s, fast_config(), 99);  // different init, then restored
  b.restore(state, weights);
  EXPECT_EQ(b.state(), state);
  // Same future: the in-flight trial's result, an update, more proposals.
  for (auto* c : {&a, &b}) c->observe(50, p50.decisions, score(p50.decisions, o));
  for (int t = 51; t < 75; ++t) {
    const auto pa = a.propose(t);
    const auto pb = b.propose(t);
    ASSERT_EQ(pa.decisions, pb.decisions) << "trial " << t;
    EXPECT_DOUBLE_EQ(pa.entropy, pb.entropy);
    EXPECT_EQ(a.observe(t, pa.decisions, score(pa.decisions, o)),
              b.observe(t, pb.decisions, score(pb.decisions, o)));
  }
  // Same policy afterwards (the archive bytes themselves carry per-process
  // TorchScript names, so compare what the weights do).
  EXPECT_EQ(a.greedy_probabilities(), b.greedy_probabilities());
  EXPECT_EQ(a.state(), b.state());
}

TEST(PpoControllerTest, InitialPolicyIsNearUniform) {
  const auto s = sizes();
  PpoController c(s, PpoConfig{}, 3);
  // U(-0.1, 0.1) weights give near-uniform softmaxes: entropy close to the max.
  const auto p = c.propose(0);
  EXPECT_NEAR(p.entropy, uniform_entropy(s), 0.05 * uniform_entropy(s));
  for (const auto& probs : c.greedy_probabilities()) {
    for (double q : probs) EXPECT_NEAR(q, 1.0 / static_cast<double>(probs.size()), 0.1);
  }
}

TEST(PpoControllerTest, RejectsBadConfigAndUnknownTrials) {
  EXPECT_THROW(ppo_config_from_json({{"lstm_hiden", 100}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"learning_rate", -1}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"minibatch_size", 50}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"target_kl", -0.1}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"max_grad_norm", -1}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"failure_penalty", -1}}), ConfigError);
  EXPECT_THROW(ppo_config_from_json({{"normalize_advantages", 1}}), ConfigError);
  EXPECT_EQ(to_json(ppo_config_from_json(to_json(PpoConfig{}))), to_json(PpoConfig{}));
  // The paper's switches: every new mechanism can be turned off.
  const auto paper = ppo_config_from_json({{"learning_rate", 0.00035},
                                           {"normalize_advantages", false},
                                           {"max_grad_norm", 0},
                                           {"target_kl", 0}});
  EXPECT_FALSE(paper.normalize_advantages);
  EXPECT_EQ(paper.max_grad_norm, 0);
  EXPECT_EQ(paper.target_kl, 0);
  PpoController c(sizes(), PpoConfig{}, 1);
  const auto p = c.propose(0);
  EXPECT_THROW(c.observe(1, p.decisions, 0.5), Error);
  EXPECT_THROW(c.restore({{"strategy", "random"}}, ""), ConfigError);
}

}  // namespace
}  // namespace mnas::search
