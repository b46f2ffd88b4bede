// run_search: one experiment from start (or resume) to its budget, as a
// sequence of the steps in experiments/search_steps.h, then the files it
// writes.
#include "experiments/search_run.h"

#include <ostream>

#include "common/error.h"
#include "common/files.h"
#include "db/experiment_store.h"
#include "db/writer_lock.h"
#include "experiments/report.h"
#include "experiments/search_steps.h"
#include "latency/deploy_config.h"
#include "search/ppo_controller.h"

namespace mnas::experiments {

namespace {

// The summary, and the mnas_train configuration of the best trial when asked
// for (write-then-rename).
void write_outputs(db::ExperimentStore& store, int64_t exp, const RunOptions& options) {
  const auto record = *store.experiment(exp);
  emit(options, summary_text(store, record, options.top_k));
  if (options.train_config_path.empty()) return;
  const auto best = best_trials(trials_at_highest_rung(store, exp), 1);
  if (best.empty()) throw Error("no successful trial: no mnas_train configuration to write");
  write_file_atomically(options.train_config_path,
                        train_config(best.front(), record, options.db_path).dump(2) + "\n");
  emit(options, "wrote the mnas_train configuration of trial " + std::to_string(best.front().index) +
                    " to " + options.train_config_path + "\n");
}

}  // namespace

RunResult run_search(const ConfigOverrides& overrides, const RunOptions& options) {
  // Flag and file errors before the db is touched (created, or locked).
  check_before_db(overrides, options);
  search::set_torch_threads(options.threads);

  // One writer per database, held until the run ends: a second search (or a
  // profile) on this file is refused here, before anything is written.
  db::WriterLock lock(options.db_path, "mnas_search");
  CreatedDbGuard created(options.db_path);
  db::Database database(options.db_path);
  db::ExperimentStore store(database);
  const OpenedExperiment opened = open_experiment(store, overrides, options);
  const ExperimentConfig& config = opened.config;
  // Everything that can refuse the configuration runs before the first write.
  auto strategy = make_strategy(config);
  if (config.objective == "proxy" && !options.quiet && latency::uses_profile(config.deploy)) {
    emit(options, "latency: " + latency::latency_source(config.deploy) +
                      " (a device profile: no table to profile, nothing measured)\n");
  } else if (config.objective == "proxy" && !options.quiet) {
    emit(options, "latency: predictor for deploy " + latency::to_json(config.deploy).dump() +
                      " (its lookup table is profiled into the db on first use, ~2-3 min; cached after)\n");
  }
  auto evaluator = make_evaluator(config, database, options);
  const int64_t exp = start_experiment(store, opened, *strategy);
  created.keep();

  const LoopResult loop = run_trials(store, exp, config, *strategy, *evaluator, options);
  store.transaction([&] { store.set_experiment_status(exp, "done"); });
  measure_final_candidates(store, database, config, exp, options.measure_top, options);
  write_outputs(store, exp, options);

  RunResult result;
  result.experiment_id = exp;
  result.trials_run = loop.trials_run;
  result.trials_finished = loop.trials_finished;
  result.resumed = options.resume;
  return result;
}

RunResult run_search(const ConfigOverrides& overrides, RunOptions options, std::ostream& out) {
  options.on_output = [&out](const std::string& text) { out << text << std::flush; };
  return run_search(overrides, options);
}

}  // namespace mnas::experiments
