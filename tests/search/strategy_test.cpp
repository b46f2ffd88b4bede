#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "search/strategy.h"

namespace mnas::search {
namespace {

const std::vector<int> kSizes = {4, 2, 2, 3, 3, 3, 4, 2, 2, 3, 3, 3};

double score(const std::vector<int>& d) {  // optimum: every decision 1
  int right = 0;
  for (int v : d) right += v == 1;
  return static_cast<double>(right) / static_cast<double>(d.size());
}

TEST(RandomSearchTest, DeterministicCoversAllChoicesAndRestores) {
  RandomSearch a(kSizes, 5), b(kSizes, 5), c(kSizes, 6);
  std::vector<std::set<int>> seen(kSizes.size());
  bool differs = false;
  for (int t = 0; t < 200; ++t) {
    const auto p = a.propose(t);
    EXPECT_EQ(p.decisions, b.propose(t).decisions);
    differs |= p.decisions != c.propose(t).decisions;
    check_decisions(p.decisions, kSizes);
    for (size_t i = 0; i < kSizes.size(); ++i) seen[i].insert(p.decisions[i]);
    EXPECT_NEAR(p.entropy, uniform_entropy(kSizes), 1e-12);
  }
  EXPECT_TRUE(differs);
  for (size_t i = 0; i < kSizes.size(); ++i) EXPECT_EQ(static_cast<int>(seen[i].size()), kSizes[i]);
  RandomSearch r(kSizes, 99);
  r.restore(a.state(), "");
  for (int t = 200; t < 210; ++t) EXPECT_EQ(r.propose(t).decisions, a.propose(t).decisions);
}

TEST(EvolutionTest, RandomStartThenOneDecisionMutationsWithAging) {
  EvolutionConfig cfg;
  cfg.population_size = 10;
  cfg.sample_size = 3;
  RegularizedEvolution ev(kSizes, cfg, 1);
  std::vector<std::vector<int>> all;
  for (int t = 0; t < 60; ++t) {
    const auto p = ev.propose(t);
    check_decisions(p.decisions, kSizes);
    if (t >= cfg.population_size) {
      // A child differs from some member of the current population in exactly
      // one decision.
      const auto pop = ev.state()["population"];
      bool one_step = false;
      for (const auto& m : pop) {
        const auto d = m["decisions"].get<std::vector<int>>();
        int diff = 0;
        for (size_t i = 0; i < d.size(); ++i) diff += d[i] != p.decisions[i];
        one_step |= diff == 1;
      }
      EXPECT_TRUE(one_step) << "trial " << t;
      EXPECT_TRUE(std::isnan(p.entropy));
    }
    ev.observe(t, p.decisions, score(p.decisions));
    EXPECT_LE(ev.state()["population"].size(), 10u);
    all.push_back(p.decisions);
  }
  // Aging: the population is the last 10 observed, oldest first.
  const auto pop = ev.state()["population"];
  for (size_t k = 0; k < 10; ++k) EXPECT_EQ(pop[k]["decisions"].get<std::vector<int>>(), all[50 + k]);
}

TEST(EvolutionTest, RestoreContinuesIdenticallyAndBeatsRandom) {
  EvolutionConfig cfg{20, 5};
  RegularizedEvolution a(kSizes, cfg, 3);
  RandomSearch r(kSizes, 3);
  double best_a = 0, best_r = 0, last_a = 0, last_r = 0;
  for (int t = 0; t < 300; ++t) {
    const auto p = a.propose(t);
    a.observe(t, p.decisions, score(p.decisions));
    const double sr = score(r.propose(t).decisions);
    best_a = std::max(best_a, score(p.decisions));
    best_r = std::max(best_r, sr);
    if (t >= 250) last_a += score(p.decisions) / 50, last_r += sr / 50;
  }
  // Random search scores 0.39 on average (1/4, 1/2, 1/2, 1/3 ... per decision).
  EXPECT_GE(best_a, 11.0 / 12);
  EXPECT_GT(best_a, best_r);
  EXPECT_GT(last_a, last_r + 0.2);
  RegularizedEvolution b(kSizes, cfg, 77);
  b.restore(a.state(), "");
  for (int t = 300; t < 320; ++t) {
    const auto pa = a.propose(t), pb = b.propose(t);
    ASSERT_EQ(pa.decisions, pb.decisions);
    a.observe(t, pa.decisions, score(pa.decisions));
    b.observe(t, pb.decisions, score(pb.decisions));
  }
}

TEST(EvolutionTest, RejectsBadConfig) {
  EXPECT_THROW(evolution_config_from_json({{"population", 10}}), ConfigError);
  EXPECT_THROW(evolution_config_from_json({{"population_size", 10}, {"sample_size", 11}}),
               ConfigError);
  EXPECT_THROW(evolution_config_from_json({{"population_size", 1.5}}), ConfigError);
  EXPECT_EQ(evolution_config_from_json({{"sample_size", 4}}).sample_size, 4);
  RegularizedEvolution ev(kSizes, {}, 1);
  EXPECT_THROW(ev.restore(RandomSearch(kSizes, 1).state(), ""), ConfigError);
  EXPECT_THROW(check_decisions({0, 1}, kSizes), ConfigError);
}

// Issue #18: choices with one label decode alike; each maps to the first.
TEST(StrategyTest, CanonicalChoicesMapEqualLabelsToTheFirst) {
  const std::vector<std::vector<std::string>> labels = {
      {"1", "1", "2"}, {"16", "16", "24"}, {"conv", "sepconv"}, {"3", "4", "3", "4"}};
  const std::vector<std::vector<int>> expect = {{0, 0, 2}, {0, 0, 2}, {0, 1}, {0, 1, 0, 1}};
  EXPECT_EQ(canonical_choices(labels), expect);
}

// A failure is reward 0 to strategies without a baseline: evolution ranks it
// last, random search ignores it.
TEST(StrategyTest, FailuresDefaultToRewardZero) {
  EvolutionConfig cfg;
  cfg.population_size = 2;
  cfg.sample_size = 2;
  RegularizedEvolution ev(kSizes, cfg, 3);
  const auto a = ev.propose(0), b = ev.propose(1);
  EXPECT_FALSE(ev.observe_failure(0, a.decisions));
  EXPECT_FALSE(ev.observe(1, b.decisions, 0.5));
  const auto pop = ev.state().at("population");
  ASSERT_EQ(pop.size(), 2u);
  EXPECT_EQ(pop[0].at("reward").get<double>(), 0.0);
  EXPECT_EQ(pop[1].at("reward").get<double>(), 0.5);
  RandomSearch r(kSizes, 3);
  EXPECT_FALSE(r.observe_failure(0, r.propose(0).decisions));
}

}  // namespace
}  // namespace mnas::search
