// The experiment tables of an mnas database (component "experiments"):
// experiments, their trials, the latest strategy checkpoint and the log of
// strategy updates. Plain strings and numbers only (the DB never sees tensors
// or search types): decisions are a JSON array text, configurations JSON text,
// strategy weights an opaque blob.
//
// Trial life cycle (DESIGN.md): queued -> running -> done | failed | diverged
// | timeout; requeue_interrupted() sends running trials back to queued after a
// crash. With multi-fidelity children (search/asha.h) a trial row is the
// child's rung-0 result (the one the strategy's reward comes from) and every
// promotion is a row of trial_rungs (rung >= 1) with the same life cycle. Methods run single statements; callers group the statements of one
// state change with transaction() so that a kill at any moment leaves either
// the old or the new state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mnas::db {

struct ExperimentRecord {
  int64_t id = 0;
  std::string config;    // the experiment's full configuration, JSON text
  int64_t seed = 0;
  std::string strategy;  // "ppo", "random", "evolution"
  std::string status;    // "running", "done"
  int64_t budget = 0;    // total trials
  std::string created;   // UTC, ISO 8601
  std::string updated;
};

struct TrialRecord {
  int64_t experiment_id = 0;
  int64_t index = 0;          // 0-based trial index, unique per experiment
  std::string arch;           // canonical block strings, space separated
  std::string decisions;      // JSON array of choice indices
  int64_t seed = 0;           // child seed (stored as the bits of a uint64)
  std::string status = "queued";  // queued running done failed diverged timeout
  int attempts = 0;           // times the trial was started
  std::optional<double> accuracy, loss, latency_ms, measured_latency_ms, reward;
  std::optional<double> entropy;  // policy entropy when it was proposed
  std::optional<int64_t> params, macs;
  std::optional<double> train_seconds, eval_seconds, seconds;
  std::string worker;
  std::string message;        // error message when not done
  std::string queued_at, started_at, finished_at;  // UTC, ISO 8601
  // Not a column: the rung that accuracy, loss and reward are from. The
  // store reads rung 0 (the trial row); experiments/report.h
  // trials_at_highest_rung lifts a promoted trial to its highest done rung.
  int rung = 0;
};

// One promotion of a trial: its result at rung >= 1 (schema version 2).
struct RungRecord {
  int64_t experiment_id = 0;
  int64_t index = 0;          // the trial
  int rung = 1;               // >= 1 (rung 0 is the trial row)
  int64_t steps = 0;          // the rung's step budget
  std::string status = "queued";  // queued running done failed diverged timeout
  int attempts = 0;
  std::optional<double> accuracy, loss, reward;  // reward: accuracy at this rung + the trial's latency
  std::optional<int64_t> steps_reached;          // steps the child reached
  std::optional<double> train_seconds, eval_seconds, seconds;
  std::string worker;
  std::string message;
  std::string queued_at, started_at, finished_at;
};

struct CheckpointRecord {
  int64_t trials_proposed = 0;  // trials the strategy had proposed
  std::string state;            // strategy state, JSON text
  std::string weights;          // strategy weights blob (may be empty)
  std::string saved_at;
};

struct UpdateLogRecord {
  int64_t update = 0;           // 1-based update number
  int64_t trials_finished = 0;  // finished trials when it ran
  std::string stats;            // JSON text
};

class ExperimentStore {
 public:
  // Read-write: brings the "experiments" schema up to date (migrations).
  // Read-only: throws DbError when the file has no experiment tables.
  explicit ExperimentStore(Database& db);

  Database& database() { return db_; }
  template <class Fn>
  void transaction(Fn&& fn) {
    db_.transaction(std::forward<Fn>(fn));
  }

  std::vector<ExperimentRecord> experiments();
  std::optional<ExperimentRecord> experiment(int64_t id);
  // Returns the new experiment's id; status "running".
  int64_t create_experiment(const std::string& config, int64_t seed, const std::string& strategy,
                            int64_t budget);
  void set_experiment_status(int64_t id, const std::string& status);

  // Inserts a trial (its status as given, normally "queued"). Throws DbError
  // when the index already exists.
  void insert_trial(const TrialRecord& trial);
  // queued -> running: attempts + 1, started_at, worker.
  void mark_running(int64_t experiment_id, int64_t index, const std::string& worker);
  // Stores the outcome fields and status of `trial` (finished_at = now).
  void finish_trial(const TrialRecord& trial);
  // Records the end-to-end measured latency of a trial (the search measures
  // its final candidates). Throws DbError when the trial does not exist.
  void set_measured_latency(int64_t experiment_id, int64_t index, double ms);
  // running -> queued for every interrupted trial; returns how many.
  int requeue_interrupted(int64_t experiment_id);

  // Trials in index order; `status` empty = all.
  std::vector<TrialRecord> trials(int64_t experiment_id, const std::string& status = "");
  std::optional<TrialRecord> trial(int64_t experiment_id, int64_t index);
  int64_t count_trials(int64_t experiment_id, const std::string& status = "");
  // Trials whose status is final (done, failed, diverged, timeout).
  int64_t count_finished(int64_t experiment_id);

  // Promotions (rung >= 1). insert_rung throws DbError when the (trial,
  // rung) row exists or the trial does not; mark_rung_running and
  // finish_rung mirror mark_running and finish_trial; requeue_interrupted_rungs
  // sends running promotions back to queued (returns how many).
  void insert_rung(const RungRecord& rung);
  void mark_rung_running(int64_t experiment_id, int64_t index, int rung, const std::string& worker);
  void finish_rung(const RungRecord& rung);
  int requeue_interrupted_rungs(int64_t experiment_id);
  // Ordered by trial, then rung; `status` empty = all. Empty for a database
  // written before rungs (read-only, schema version 1).
  std::vector<RungRecord> rungs(int64_t experiment_id, const std::string& status = "");

  // Replaces the experiment's checkpoint; `weights` nullopt keeps the stored
  // blob (the strategy's weights did not change).
  void save_checkpoint(int64_t experiment_id, int64_t trials_proposed, const std::string& state,
                       const std::optional<std::string>& weights);
  std::optional<CheckpointRecord> checkpoint(int64_t experiment_id);

  void log_update(int64_t experiment_id, int64_t update, int64_t trials_finished,
                  const std::string& stats);
  std::vector<UpdateLogRecord> update_log(int64_t experiment_id);

 private:
  Database& db_;
};

// The final trial statuses.
bool is_final_status(const std::string& status);

}  // namespace mnas::db
