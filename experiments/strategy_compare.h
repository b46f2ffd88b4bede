// Comparing searches (issue #18): several experiment databases, typically one
// strategy x seed each (bench/strategies.sh), summarised side by side. For
// each run: its best reward, the median reward of its last 20 % of trials
// (does the sampler move to better regions?), and the hypervolume of its
// accuracy-latency front (search::hypervolume, one reference latency for all
// runs); per strategy, the medians of those over its runs. With multi-fidelity
// children (search/asha.h) every figure is of the rung-0 results (the trial
// rows): every trial has one, all at the same budget, and they are the
// rewards the strategy learned from. Runs of one strategy with different
// settings (e.g. PPO with and without the per-decision ratio) are grouped
// apart, each group named by the settings that tell them apart. Read-only,
// no LibTorch; mnas_report --compare prints it and writes its HTML page.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/experiment_store.h"
#include "experiments/report.h"

namespace mnas::experiments {

struct RunSummary {
  std::string source;    // the database path
  int64_t experiment = 0;
  std::string strategy;  // "ppo", "random", "evolution"
  // The strategy's own settings as stored (strategy.ppo or
  // strategy.evolution; {} for random), without the device it ran on.
  nlohmann::json settings = nlohmann::json::object();
  // Its group in the comparison: the strategy, followed, when runs of that
  // strategy differ in settings, by the ones that differ, e.g.
  // "ppo (per_decision_ratio=false, target_kl=0.05)". Set by compare_runs.
  std::string label;
  int64_t seed = 0;
  double target_ms = 0;  // the reward's latency target
  int64_t trials = 0;    // proposed
  int64_t rewarded = 0;  // finished with a reward
  double best_reward = 0, late_median_reward = 0, hypervolume = 0;  // NaN when none
  // (trial index, reward) of every rewarded trial, by index: the learning curve.
  std::vector<std::pair<int64_t, double>> rewards;
  // (latency ms, accuracy) of every rewarded trial, for the hypervolume.
  std::vector<std::pair<double, double>> points;
};

// The summary of one experiment's trials. "Late" is the trials whose index
// is at least 80 % of the number of trials proposed (at least one trial).
// The hypervolume is computed by compare_runs (it needs every run).
RunSummary summarize_run(const db::ExperimentRecord& experiment,
                         const std::vector<db::TrialRecord>& trials, const std::string& source);

struct StrategySummary {
  std::string strategy;  // the group's label (RunSummary::label)
  int runs = 0;
  double median_best_reward = 0, median_late_reward = 0, median_hypervolume = 0;
};

struct Comparison {
  double reference_latency_ms = 0;  // 2x the largest target of the runs
  std::vector<RunSummary> runs;     // with hypervolume filled in
  std::vector<StrategySummary> strategies;  // by label
};

// Fills each run's hypervolume against one reference latency (twice the
// largest target) and the per-strategy medians. Throws ConfigError when
// `runs` is empty or the runs' reward targets differ (their rewards would not
// be comparable).
Comparison compare_runs(std::vector<RunSummary> runs);

// Table: one line per strategy, then one per run. CSV/JSON: the runs and the
// strategies with every figure.
std::string format_comparison(const Comparison& c, Format format);

// A self-contained HTML page: the strategies table, the learning curves
// (reward per trial and its moving average over 20 trials, one colour per
// strategy, each run a line) and the per-run table.
std::string comparison_html(const Comparison& c);

}  // namespace mnas::experiments
