// The PPO controller learns: on a reward with a known optimum it reaches the
// optimum's neighbourhood within a bounded number of samples and beats random
// search with the same budget, for several seeds. Also: checkpoints restore
// the controller exactly (the resumed controller samples what the original
// would have).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
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

PpoConfig per_decision(PpoConfig c) {
  c.per_decision_ratio = true;
  return c;
}

PpoConfig per_architecture(PpoConfig c) {
  c.per_decision_ratio = false;
  return c;
}

TEST(PpoControllerTest, LearnsKnownOptimumAndBeatsRandom) {
  const auto s = sizes();
  const auto o = optimum(s);
  constexpr int kBudget = 400;
  for (uint64_t seed : {1, 2, 3}) {
    PpoController ppo(s, per_architecture(fast_config()), seed);
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

void expect_checkpoint_restores_exactly(const PpoConfig& config) {
  const auto s = sizes();
  const auto o = optimum(s);
  PpoController a(s, config, 7);
  run(a, 50, o);  // two updates and ten pending-free observations
  const auto p50 = a.propose(50);  // one proposal in flight at checkpoint time
  const auto state = a.state();
  const auto weights = a.weights();

  PpoController b(s, config, 99);  // different init, then restored
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

TEST(PpoControllerTest, CheckpointRestoresExactly) {
  expect_checkpoint_restores_exactly(per_architecture(fast_config()));
}

TEST(PpoControllerTest, PerDecisionCheckpointRestoresExactly) {
  expect_checkpoint_restores_exactly(per_decision(fast_config()));
}

TEST(PpoControllerTest, PerDecisionRatioLearnsKnownOptimum) {
  const auto s = sizes();
  const auto o = optimum(s);
  for (uint64_t seed : {1, 2, 3}) {
    PpoController ppo(s, per_decision(fast_config()), seed);
    const Outcome p = run(ppo, 400, o);
    EXPECT_GE(p.best, 17.0 / 18) << "seed " << seed;
    EXPECT_GT(p.last_mean, 0.85) << "seed " << seed;
    EXPECT_GE(score(ppo.greedy_decisions(), o), 17.0 / 18) << "seed " << seed;
  }
}

// While no ratio is clipped (the first gradient step, all ratios 1) the two
// surrogates have the same gradient: d(r A) = A r d(sum_i log p_i) and
// d(sum_i r_i A) = A sum_i r_i d(log p_i). One step from the same samples
// and rewards must leave the same policy.
TEST(PpoControllerTest, PerDecisionRatioTakesTheSameFirstStepAsThePerArchitectureOne) {
  const auto s = sizes();
  const auto o = optimum(s);
  PpoConfig one_step = fast_config();
  one_step.epochs = 1;
  one_step.minibatch_size = one_step.batch_size;
  PpoController arch(s, per_architecture(one_step), 5);
  PpoController dec(s, per_decision(one_step), 5);
  for (int t = 0; t < one_step.batch_size; ++t) {
    const auto pa = arch.propose(t);
    const auto pd = dec.propose(t);
    ASSERT_EQ(pa.decisions, pd.decisions);  // same weights, same RNG
    EXPECT_EQ(arch.observe(t, pa.decisions, score(pa.decisions, o)),
              dec.observe(t, pd.decisions, score(pd.decisions, o)));
  }
  ASSERT_EQ(arch.last_update().at("update"), 1);
  const auto a = arch.greedy_probabilities();
  const auto d = dec.greedy_probabilities();
  ASSERT_EQ(a.size(), d.size());
  double moved = 0;
  const auto before = PpoController(s, per_architecture(one_step), 5).greedy_probabilities();
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t k = 0; k < a[i].size(); ++k) {
      EXPECT_NEAR(a[i][k], d[i][k], 1e-5) << "decision " << i << " choice " << k;
      moved = std::max(moved, std::abs(a[i][k] - before[i][k]));
    }
  }
  EXPECT_GT(moved, 1e-3);  // the step did move the policy
}

// A checkpoint without per-decision log-probabilities (written before they
// were kept) still loads for the per-architecture ratio and is refused, with
// the missing key named, for the per-decision one.
TEST(PpoControllerTest, CheckpointWithoutPerDecisionLogProbs) {
  const auto s = sizes();
  const auto o = optimum(s);
  PpoController a(s, per_architecture(fast_config()), 7);
  run(a, 25, o);         // 5 in the buffer after one update
  a.propose(25);         // one pending
  auto state = a.state();
  ASSERT_EQ(state.at("buffer").size(), 5u);
  for (auto& e : state.at("buffer")) e.erase("old_logps");
  for (auto& e : state.at("pending")) e.erase("old_logps");
  PpoController b(s, per_architecture(fast_config()), 7);
  EXPECT_NO_THROW(b.restore(state, a.weights()));
  PpoController c(s, per_decision(fast_config()), 7);
  try {
    c.restore(state, a.weights());
    FAIL() << "restored a checkpoint without old_logps into a per-decision controller";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("old_logps"), std::string::npos) << e.what();
  }
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
  EXPECT_THROW(ppo_config_from_json({{"per_decision_ratio", 1}}), ConfigError);
  EXPECT_TRUE(ppo_config_from_json({{"per_decision_ratio", true}}).per_decision_ratio);
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
