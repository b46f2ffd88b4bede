// The search loop: one experiment from start (or resume) to its budget.
//
//   strategy.propose -> SearchSpace::decode -> canonical string
//     -> [db: trial queued + strategy checkpoint, one transaction]
//     -> [db: trial running] -> Evaluator.submit ... Evaluator.poll -> result
//     -> reward -> strategy.observe (PPO: update every batch)
//     -> [db: trial done/failed/... + checkpoint (+ weights and update log
//        when the policy changed), one transaction]
//
// The loop keeps every evaluator slot busy (Evaluator::capacity()) and
// updates the strategy as results arrive, so MPI workers (issue 6) plug in
// as another Evaluator.
//
// Crash safety: because each trial's row and the strategy state that produced
// or consumed it commit together, `kill -9` at any moment followed by
// `--resume` loses no finished trial, repeats none, re-runs the interrupted
// ones (same decisions, same child seed) and continues the strategy from the
// checkpoint of the last committed step; the budget is the experiment's
// total. With one evaluator slot the resumed search is trial-for-trial the
// search that was never interrupted.
//
// The library prints nothing: progress lines, the end-to-end measurements and
// the summary reach the caller through RunOptions::on_output (mnas_search
// writes them to stdout). The steps live one concern per file
// (experiments/search_steps.h lists them).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "db/database.h"
#include "experiments/experiment_config.h"
#include "space/layer_spec.h"
#include "search/evaluator.h"
#include "search/strategy.h"

namespace mnas::experiments {

struct DeployLatency;

// Runtime options: they change how a search runs, never what it finds, and
// are not stored with the experiment.
struct RunOptions {
  std::string db_path = "mnas-search.db";
  bool resume = false;
  int threads = 1;    // LibTorch intra-op threads (controller and children)
  bool quiet = false; // no header and no per-trial lines; the summary stays
  // Receives the run's text as it happens: the header, one line per trial,
  // the end-to-end measurements, the summary and the file written, each call
  // one or more whole lines ending in '\n'. Unset = nothing is reported.
  std::function<void(const std::string& text)> on_output;
  // Synthetic objective only: sleep this long per trial (tests kill a run
  // mid-trial with it; also shows the progress output at a readable pace).
  int delay_ms = 0;
  int top_k = 5;      // architectures listed at the end
  // The best this many trials by reward are measured end to end on the
  // deploy configuration at the end (measured_latency_ms, shown next to the
  // predicted latency); 0 = none. Not for the synthetic objective or a
  // remote device.
  int measure_top = 3;
  // When set, the mnas_train configuration of the best trial is written here
  // (write-then-rename) at the end.
  std::string train_config_path;
  // Child training device ("cpu", "cuda", "cuda:N"); empty = the proxy's.
  std::string device;
  // When set, builds the evaluator from the configuration and the latency
  // side instead of the in-process one (mnas_search under mpirun plugs the
  // MPI evaluator in here).
  std::function<std::unique_ptr<search::Evaluator>(const ExperimentConfig&, DeployLatency&)>
      make_evaluator;
};

struct RunResult {
  int64_t experiment_id = 0;
  int64_t trials_run = 0;       // trials evaluated by this invocation
  int64_t trials_finished = 0;  // finished trials of the experiment
  bool resumed = false;
};

// Starts (or with options.resume continues) the experiment in
// options.db_path. Progress and the final summary go to options.on_output.
// Holds the database's writer lock (db/writer_lock.h) for the whole run.
// Throws, before writing anything (a database it created is removed again):
// - db::LockedError when another writer (a running search) holds the db;
// - ConfigError when options.db_path is empty, or options.train_config_path
//   is one of the inputs (the db, the config file) or a directory;
// - ConfigError when the configuration is refused (experiment, strategy,
//   proxy trainer, deploy configuration; checked before the db is created);
// - the db already holds an experiment and options.resume is not set;
// - options.resume is set but the db (or file) holds no experiment;
// - with options.resume, `overrides` sets something that differs from the
//   stored configuration (the message names the first differing key).
RunResult run_search(const ConfigOverrides& overrides, const RunOptions& options);
// The same with the text appended to `out` (options.on_output replaced).
RunResult run_search(const ConfigOverrides& overrides, RunOptions options, std::ostream& out);

// The strategy an experiment names, freshly initialised from its seed.
std::unique_ptr<search::Strategy> make_strategy(const ExperimentConfig& config);

// The accuracy side of config.objective: the synthetic score
// (search/synthetic.h) or, for "proxy", the proxy child trainer
// (train::train_child with config.proxy, the trial seed, options.threads and
// options.device; throws ConfigError when these refuse it). Needs no database, so MPI
// workers build it from the configuration alone.
search::AccuracyFn make_accuracy_fn(const ExperimentConfig& config, const RunOptions& options);

// The latency side: the synthetic latency, or for "proxy" the latency
// predictor at config.deploy (latency::ensure_predictor: its lookup table is
// profiled into `db` on first use), with the deploy GlobalParams under which
// params, MACs and latency are counted.
struct DeployLatency {
  search::LatencyFn fn;
  space::GlobalParams params;
};
DeployLatency make_latency_fn(const ExperimentConfig& config, db::Database& db,
                              const RunOptions& options);

// The deploy device's latency of any layer list (make_latency_fn's proxy side,
// and the final stage's for baselines of other widths): the device profile's
// estimate, or the prediction from the table of `deploy` (profiled into `db`
// on first use; remote tables must be imported).
using LayerLatencyFn = std::function<double(const std::vector<space::LayerSpec>&)>;
LayerLatencyFn make_layer_latency_fn(const space::SearchSpace& space,
                                     const latency::DeployConfig& deploy, db::Database& db,
                                     bool quiet);

// The evaluator for config.objective: options.make_evaluator when set (MPI),
// else an in-process evaluator of the two functions above.
std::unique_ptr<search::Evaluator> make_evaluator(const ExperimentConfig& config,
                                                  db::Database& db, const RunOptions& options);

// Child seed of trial `index`: a SplitMix64 mix of the experiment seed and the
// index, so that every trial (and its re-run after a crash) trains alike.
uint64_t trial_seed(uint64_t experiment_seed, int64_t index);

}  // namespace mnas::experiments
