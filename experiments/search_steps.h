// The steps of run_search (experiments/search_run.cpp), one concern per file.
// Private to mnas::experiments: apps and tests use search_run.h.
//
//   search_open.cpp    checks before the db is touched; the experiment to
//                      start or resume (the stored configuration against the
//                      flags); storing it or restoring its strategy
//   search_loop.cpp    the trial loop: propose or re-queue, submit, record
//                      each result with the strategy checkpoint, progress lines
//   final_measure.cpp  the best trials measured end to end at the end
//   objective.cpp      strategy, accuracy, latency and evaluator factories
//
// Every step reports progress through RunOptions::on_output (emit), never by
// printing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "db/experiment_store.h"
#include "experiments/search_run.h"

namespace mnas::experiments {

// Passes `text` (whole lines) to options.on_output when it is set.
void emit(const RunOptions& options, const std::string& text);

// `v` with `precision` digits after the point ("75.0").
std::string fixed(double v, int precision);

// ---- search_open.cpp ----

// Everything that can be refused before the database is created or locked:
// an empty --db, --resume without the file, a --train-config path that is an
// input or a directory, and (for a new experiment) the configuration, its
// strategy, child trainer and deploy configuration. Throws ConfigError.
void check_before_db(const ConfigOverrides& overrides, const RunOptions& options);

// Removes a database file this run created when the run fails before its
// experiment is stored: a refused configuration leaves no empty database.
class CreatedDbGuard {
 public:
  explicit CreatedDbGuard(const std::string& path);
  ~CreatedDbGuard();
  CreatedDbGuard(const CreatedDbGuard&) = delete;
  CreatedDbGuard& operator=(const CreatedDbGuard&) = delete;
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool created_;
  bool kept_ = false;
};

// The experiment a run works on: a new one (not yet stored) or the stored one
// it resumes.
struct OpenedExperiment {
  ExperimentConfig config;
  std::optional<db::ExperimentRecord> existing;  // nullopt: a new experiment
};

// Without options.resume: checks that the db holds no experiment and builds
// the configuration (build_config). With it: the last stored experiment, its
// stored configuration, and the flags layered on top of it (apply_overrides)
// must agree with it in the canonical form. Throws ConfigError (naming the
// first differing key) before anything is written.
OpenedExperiment open_experiment(db::ExperimentStore& store, const ConfigOverrides& overrides,
                                 const RunOptions& options);

// A new experiment is stored with `strategy`'s initial checkpoint (one
// transaction); a resumed one restores `strategy` from its checkpoint.
// Returns the experiment id.
int64_t start_experiment(db::ExperimentStore& store, const OpenedExperiment& opened,
                         search::Strategy& strategy);

// ---- search_loop.cpp ----

struct LoopResult {
  int64_t trials_run = 0;       // trials evaluated by this invocation
  int64_t trials_finished = 0;  // finished trials of the experiment
};

// Re-queues the trials an interrupted run left running, reports the run's
// header, then keeps every evaluator slot busy until the experiment's budget
// is finished: each proposal is stored with the strategy checkpoint, each
// result with the next checkpoint (and the policy weights and update log when
// the policy changed), one transaction each.
//
// With config.rungs (multi-fidelity children, search/asha.h) every new child
// trains to rung 0's steps; whenever a slot is free, an interrupted promotion
// or else the ASHA rule's next one (stored queued first) takes it before a new
// architecture, resuming the child's checkpoint (child_checkpoint_dir) to the
// next rung's steps. A promotion's result is a trial_rungs row (one
// transaction) and never reaches the strategy. The loop ends when the budget
// is finished and no child is promotable; then the checkpoints are removed.
LoopResult run_trials(db::ExperimentStore& store, int64_t experiment, const ExperimentConfig& config,
                      search::Strategy& strategy, search::Evaluator& evaluator,
                      const RunOptions& options);

// Where the children of `experiment` keep their weights between rungs:
// "<absolute db path>.children/experiment-N" (trial-I.pt inside). MPI
// workers write and read there too: they must share the filesystem.
std::string child_checkpoint_dir(const std::string& db_path, int64_t experiment);

// ---- final_measure.cpp ----

// The best `k` successful trials by reward without a measured latency are
// measured end to end on the deploy configuration (interleaved, in the units
// of the latency table), recorded in one transaction and reported. Nothing
// for the synthetic objective, a remote device or k <= 0.
void measure_final_candidates(db::ExperimentStore& store, db::Database& db,
                              const ExperimentConfig& config, int64_t experiment, int k,
                              const RunOptions& options);

}  // namespace mnas::experiments
