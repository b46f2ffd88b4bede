// Hand-made trial records; every expected figure follows from the
// definitions in experiments/strategy_compare.h.
#include "experiments/strategy_compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"

namespace mnas::experiments {
namespace {

db::ExperimentRecord experiment(const std::string& strategy, double target_ms) {
  db::ExperimentRecord e;
  e.id = 1;
  e.strategy = strategy;
  e.seed = 7;
  e.config = R"({"objective": "synthetic", "reward": {"target_ms": )" + std::to_string(target_ms) + "}}";
  return e;
}

db::TrialRecord trial(int64_t index, const std::string& status, double reward, double acc, double lat) {
  db::TrialRecord t;
  t.index = index;
  t.status = status;
  if (status == "done") t.reward = reward, t.accuracy = acc, t.latency_ms = lat;
  return t;
}

TEST(StrategyCompare, RunSummaryUsesOnlyRewardedTrialsAndTheLastFifth) {
  // 10 trials: late = index >= 8; trial 9 failed, so late is trial 8 alone.
  std::vector<db::TrialRecord> trials;
  for (int i = 0; i < 9; ++i) trials.push_back(trial(i, "done", 0.1 * i, 0.5, 50));
  trials.push_back(trial(9, "failed", 0, 0, 0));
  const auto s = summarize_run(experiment("ppo", 75), trials, "a.db");
  EXPECT_EQ(s.trials, 10);
  EXPECT_EQ(s.rewarded, 9);
  EXPECT_DOUBLE_EQ(s.best_reward, 0.8);
  EXPECT_DOUBLE_EQ(s.late_median_reward, 0.8);
  EXPECT_EQ(s.target_ms, 75);
  EXPECT_TRUE(std::isnan(s.hypervolume));  // filled in by compare_runs
}

TEST(StrategyCompare, ComparisonTakesMediansPerStrategyAndOneReference) {
  std::vector<RunSummary> runs;
  // Two random runs and one ppo run; the front of each is one point.
  for (auto [strategy, acc, best] : std::vector<std::tuple<std::string, double, double>>{
           {"random", 0.6, 0.5}, {"random", 0.8, 0.7}, {"ppo", 0.9, 0.9}}) {
    const auto s = summarize_run(experiment(strategy, 50), {trial(0, "done", best, acc, 25)}, strategy);
    runs.push_back(s);
  }
  const auto c = compare_runs(runs);
  EXPECT_EQ(c.reference_latency_ms, 100);
  ASSERT_EQ(c.strategies.size(), 2u);
  EXPECT_EQ(c.strategies[0].strategy, "ppo");
  EXPECT_EQ(c.strategies[1].strategy, "random");
  EXPECT_EQ(c.strategies[1].runs, 2);
  EXPECT_DOUBLE_EQ(c.strategies[1].median_best_reward, 0.6);  // (0.5 + 0.7) / 2
  // One point at 25 ms reaches its accuracy over budgets [25, 100): 0.75 of it.
  EXPECT_DOUBLE_EQ(c.runs[0].hypervolume, 0.6 * 0.75);
  EXPECT_DOUBLE_EQ(c.strategies[1].median_hypervolume, 0.7 * 0.75);
}

TEST(StrategyCompare, RefusesNothingAndMixedTargets) {
  EXPECT_THROW(compare_runs({}), ConfigError);
  const auto a = summarize_run(experiment("ppo", 75), {}, "a.db");
  const auto b = summarize_run(experiment("ppo", 50), {}, "b.db");
  try {
    compare_runs({a, b});
    FAIL() << "mixed targets accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("b.db"), std::string::npos) << e.what();
  }
}

// Runs of one strategy with different settings are grouped apart, named by
// the settings in which they differ; the others keep the strategy's name.
TEST(StrategyCompare, RunsOfOneStrategyWithOtherSettingsAreGroupedApart) {
  auto ppo = [](const std::string& ppo_settings) {
    auto e = experiment("ppo", 75);
    e.config = R"({"reward": {"target_ms": 75}, "strategy": {"name": "ppo", "ppo": )" +
               ppo_settings + "}}";
    return e;
  };
  std::vector<RunSummary> runs;
  runs.push_back(summarize_run(ppo(R"({"target_kl": 0.05, "per_decision_ratio": false})"),
                               {trial(0, "done", 0.6, 0.6, 25)}, "old-1.db"));
  runs.push_back(summarize_run(ppo(R"({"target_kl": 0.05, "per_decision_ratio": false})"),
                               {trial(0, "done", 0.4, 0.6, 25)}, "old-2.db"));
  // The device it ran on does not make another group. (A stored ppo object
  // without per_decision_ratio predates it: false, stored_experiment_from_json.)
  runs.push_back(summarize_run(ppo(R"({"device": "auto", "per_decision_ratio": true})"), {trial(0, "done", 0.9, 0.9, 25)},
                               "new.db"));
  runs.push_back(summarize_run(experiment("random", 75), {trial(0, "done", 0.3, 0.3, 25)}, "r.db"));
  EXPECT_FALSE(runs[2].settings.contains("device"));
  const auto c = compare_runs(runs);
  ASSERT_EQ(c.strategies.size(), 3u);
  EXPECT_EQ(c.runs[0].label, "ppo (per_decision_ratio=false, target_kl=0.05)");
  EXPECT_EQ(c.runs[2].label, "ppo (per_decision_ratio=true, target_kl=0.1)");  // the defaults
  EXPECT_EQ(c.runs[3].label, "random");
  EXPECT_EQ(c.strategies[0].strategy, "ppo (per_decision_ratio=false, target_kl=0.05)");
  EXPECT_EQ(c.strategies[0].runs, 2);
  EXPECT_DOUBLE_EQ(c.strategies[0].median_best_reward, 0.5);
  EXPECT_EQ(c.strategies[1].runs, 1);
  EXPECT_DOUBLE_EQ(c.strategies[1].median_best_reward, 0.9);
  // The text table and the page name the groups.
  const auto table = format_comparison(c, Format::kTable);
  EXPECT_NE(table.find("ppo (per_decision_ratio=true, target_kl=0.1)"), std::string::npos) << table;
  EXPECT_NE(comparison_html(c).find("ppo (per_decision_ratio=false, target_kl=0.05)"),
            std::string::npos);
}

}  // namespace
}  // namespace mnas::experiments
