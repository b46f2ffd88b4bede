#include "db/experiment_store.h"

#include "db/sql_values.h"

namespace mnas::db {
namespace {

// Migration steps of the "experiments" component; never edit a released step,
// append a new one.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {
      R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  config TEXT NOT NULL,
  seed INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  status TEXT NOT NULL,
  budget INTEGER NOT NULL,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE TABLE trials (
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  trial_index INTEGER NOT NULL,
  arch TEXT NOT NULL,
  decisions TEXT NOT NULL,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('queued', 'running', 'done', 'failed', 'diverged', 'timeout')),
  attempts INTEGER NOT NULL DEFAULT 0,
  accuracy REAL, loss REAL, latency_ms REAL, measured_latency_ms REAL, reward REAL,
  entropy REAL, params INTEGER, macs INTEGER,
  train_seconds REAL, eval_seconds REAL, seconds REAL,
  worker TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
  queued_at TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (experiment_id, trial_index)
);
CREATE TABLE checkpoints (
  experiment_id INTEGER PRIMARY KEY REFERENCES experiments(id),
  trials_proposed INTEGER NOT NULL,
  state TEXT NOT NULL,
  weights BLOB NOT NULL,
  saved_at TEXT NOT NULL
);
CREATE TABLE strategy_updates (
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  update_index INTEGER NOT NULL,
  trials_finished INTEGER NOT NULL,
  stats TEXT NOT NULL,
  PRIMARY KEY (experiment_id, update_index)
);
)sql",
      // 2: multi-fidelity children (search/asha.h): one row per promotion.
      R"sql(
CREATE TABLE trial_rungs (
  experiment_id INTEGER NOT NULL,
  trial_index INTEGER NOT NULL,
  rung INTEGER NOT NULL CHECK (rung >= 1),
  steps INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('queued', 'running', 'done', 'failed', 'diverged', 'timeout')),
  attempts INTEGER NOT NULL DEFAULT 0,
  accuracy REAL, loss REAL, reward REAL, steps_reached INTEGER,
  train_seconds REAL, eval_seconds REAL, seconds REAL,
  worker TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
  queued_at TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (experiment_id, trial_index, rung),
  FOREIGN KEY (experiment_id, trial_index) REFERENCES trials(experiment_id, trial_index)
);
)sql"};
  return steps;
}

using detail::bind_opt;
using detail::kNow;
using detail::opt_double;
using detail::opt_int;

constexpr const char* kTrialColumns =
    "experiment_id, trial_index, arch, decisions, seed, status, attempts, accuracy, loss, "
    "latency_ms, measured_latency_ms, reward, entropy, params, macs, train_seconds, "
    "eval_seconds, seconds, worker, message, queued_at, started_at, finished_at";

TrialRecord read_trial(SQLite::Statement& q) {
  TrialRecord t;
  t.experiment_id = q.getColumn(0).getInt64();
  t.index = q.getColumn(1).getInt64();
  t.arch = q.getColumn(2).getString();
  t.decisions = q.getColumn(3).getString();
  t.seed = q.getColumn(4).getInt64();
  t.status = q.getColumn(5).getString();
  t.attempts = q.getColumn(6).getInt();
  t.accuracy = opt_double(q.getColumn(7));
  t.loss = opt_double(q.getColumn(8));
  t.latency_ms = opt_double(q.getColumn(9));
  t.measured_latency_ms = opt_double(q.getColumn(10));
  t.reward = opt_double(q.getColumn(11));
  t.entropy = opt_double(q.getColumn(12));
  t.params = opt_int(q.getColumn(13));
  t.macs = opt_int(q.getColumn(14));
  t.train_seconds = opt_double(q.getColumn(15));
  t.eval_seconds = opt_double(q.getColumn(16));
  t.seconds = opt_double(q.getColumn(17));
  t.worker = q.getColumn(18).getString();
  t.message = q.getColumn(19).getString();
  t.queued_at = q.getColumn(20).getString();
  t.started_at = q.getColumn(21).getString();
  t.finished_at = q.getColumn(22).getString();
  return t;
}

ExperimentRecord read_experiment(SQLite::Statement& q) {
  ExperimentRecord e;
  e.id = q.getColumn(0).getInt64();
  e.config = q.getColumn(1).getString();
  e.seed = q.getColumn(2).getInt64();
  e.strategy = q.getColumn(3).getString();
  e.status = q.getColumn(4).getString();
  e.budget = q.getColumn(5).getInt64();
  e.created = q.getColumn(6).getString();
  e.updated = q.getColumn(7).getString();
  return e;
}

}  // namespace

bool is_final_status(const std::string& s) {
  return s == "done" || s == "failed" || s == "diverged" || s == "timeout";
}

ExperimentStore::ExperimentStore(Database& db) : db_(db) {
  if (db_.read_only()) {
    if (db_.schema_version("experiments") == 0) {
      throw DbError("'" + db_.path() + "' holds no experiments");
    }
  } else {
    db_.migrate("experiments", migrations());
  }
}

std::vector<ExperimentRecord> ExperimentStore::experiments() {
  SQLite::Statement q(db_.sql(),
                      "SELECT id, config, seed, strategy, status, budget, created, updated "
                      "FROM experiments ORDER BY id");
  std::vector<ExperimentRecord> out;
  while (q.executeStep()) out.push_back(read_experiment(q));
  return out;
}

std::optional<ExperimentRecord> ExperimentStore::experiment(int64_t id) {
  SQLite::Statement q(db_.sql(),
                      "SELECT id, config, seed, strategy, status, budget, created, updated "
                      "FROM experiments WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_experiment(q);
}

int64_t ExperimentStore::create_experiment(const std::string& config, int64_t seed,
                                           const std::string& strategy, int64_t budget) {
  SQLite::Statement q(db_.sql(), std::string("INSERT INTO experiments(config, seed, strategy, "
                                             "status, budget, created, updated) VALUES "
                                             "(?, ?, ?, 'running', ?, ") +
                                     kNow + ", " + kNow + ")");
  q.bind(1, config);
  q.bind(2, seed);
  q.bind(3, strategy);
  q.bind(4, budget);
  q.exec();
  return db_.sql().getLastInsertRowid();
}

void ExperimentStore::set_experiment_status(int64_t id, const std::string& status) {
  SQLite::Statement q(db_.sql(), std::string("UPDATE experiments SET status = ?, updated = ") +
                                     kNow + " WHERE id = ?");
  q.bind(1, status);
  q.bind(2, id);
  q.exec();
}

void ExperimentStore::insert_trial(const TrialRecord& t) {
  SQLite::Statement q(db_.sql(),
                      std::string("INSERT INTO trials(experiment_id, trial_index, arch, decisions, "
                                  "seed, status, entropy, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ") +
                          kNow + ")");
  q.bind(1, t.experiment_id);
  q.bind(2, t.index);
  q.bind(3, t.arch);
  q.bind(4, t.decisions);
  q.bind(5, t.seed);
  q.bind(6, t.status);
  bind_opt(q, 7, t.entropy);
  try {
    q.exec();
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot insert trial " + std::to_string(t.index) + " into '" + db_.path() +
                  "': " + e.what());
  }
}

void ExperimentStore::mark_running(int64_t experiment_id, int64_t index,
                                   const std::string& worker) {
  SQLite::Statement q(db_.sql(),
                      std::string("UPDATE trials SET status = 'running', attempts = attempts + 1, "
                                  "worker = ?, started_at = ") +
                          kNow + " WHERE experiment_id = ? AND trial_index = ?");
  q.bind(1, worker);
  q.bind(2, experiment_id);
  q.bind(3, index);
  if (q.exec() != 1) throw DbError("no trial " + std::to_string(index) + " to start");
}

void ExperimentStore::finish_trial(const TrialRecord& t) {
  SQLite::Statement q(
      db_.sql(),
      std::string("UPDATE trials SET status = ?, accuracy = ?, loss = ?, latency_ms = ?, "
                  "measured_latency_ms = ?, reward = ?, params = ?, macs = ?, train_seconds = ?, "
                  "eval_seconds = ?, seconds = ?, worker = ?, message = ?, finished_at = ") +
          kNow + " WHERE experiment_id = ? AND trial_index = ?");
  q.bind(1, t.status);
  bind_opt(q, 2, t.accuracy);
  bind_opt(q, 3, t.loss);
  bind_opt(q, 4, t.latency_ms);
  bind_opt(q, 5, t.measured_latency_ms);
  bind_opt(q, 6, t.reward);
  bind_opt(q, 7, t.params);
  bind_opt(q, 8, t.macs);
  bind_opt(q, 9, t.train_seconds);
  bind_opt(q, 10, t.eval_seconds);
  bind_opt(q, 11, t.seconds);
  q.bind(12, t.worker);
  q.bind(13, t.message);
  q.bind(14, t.experiment_id);
  q.bind(15, t.index);
  if (q.exec() != 1) throw DbError("no trial " + std::to_string(t.index) + " to finish");
}

void ExperimentStore::set_measured_latency(int64_t experiment_id, int64_t index, double ms) {
  SQLite::Statement q(db_.sql(),
                      "UPDATE trials SET measured_latency_ms = ? WHERE experiment_id = ? AND "
                      "trial_index = ?");
  q.bind(1, ms);
  q.bind(2, experiment_id);
  q.bind(3, index);
  if (q.exec() != 1) throw DbError("no trial " + std::to_string(index) + " to record a latency for");
}

int ExperimentStore::requeue_interrupted(int64_t experiment_id) {
  SQLite::Statement q(db_.sql(),
                      "UPDATE trials SET status = 'queued' WHERE experiment_id = ? AND status = "
                      "'running'");
  q.bind(1, experiment_id);
  return q.exec();
}

std::vector<TrialRecord> ExperimentStore::trials(int64_t experiment_id, const std::string& status) {
  SQLite::Statement q(db_.sql(), std::string("SELECT ") + kTrialColumns +
                                     " FROM trials WHERE experiment_id = ?" +
                                     (status.empty() ? "" : " AND status = ?") +
                                     " ORDER BY trial_index");
  q.bind(1, experiment_id);
  if (!status.empty()) q.bind(2, status);
  std::vector<TrialRecord> out;
  while (q.executeStep()) out.push_back(read_trial(q));
  return out;
}

std::optional<TrialRecord> ExperimentStore::trial(int64_t experiment_id, int64_t index) {
  SQLite::Statement q(db_.sql(), std::string("SELECT ") + kTrialColumns +
                                     " FROM trials WHERE experiment_id = ? AND trial_index = ?");
  q.bind(1, experiment_id);
  q.bind(2, index);
  if (!q.executeStep()) return std::nullopt;
  return read_trial(q);
}

int64_t ExperimentStore::count_trials(int64_t experiment_id, const std::string& status) {
  SQLite::Statement q(db_.sql(), std::string("SELECT count(*) FROM trials WHERE experiment_id = ?") +
                                     (status.empty() ? "" : " AND status = ?"));
  q.bind(1, experiment_id);
  if (!status.empty()) q.bind(2, status);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

int64_t ExperimentStore::count_finished(int64_t experiment_id) {
  SQLite::Statement q(db_.sql(),
                      "SELECT count(*) FROM trials WHERE experiment_id = ? AND status IN "
                      "('done', 'failed', 'diverged', 'timeout')");
  q.bind(1, experiment_id);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

void ExperimentStore::insert_rung(const RungRecord& r) {
  if (!trial(r.experiment_id, r.index)) {
    throw DbError("cannot promote trial " + std::to_string(r.index) + " of experiment " +
                  std::to_string(r.experiment_id) + ": no such trial");
  }
  SQLite::Statement q(db_.sql(),
                      std::string("INSERT INTO trial_rungs(experiment_id, trial_index, rung, steps, "
                                  "status, queued_at) VALUES (?, ?, ?, ?, ?, ") + kNow + ")");
  q.bind(1, r.experiment_id);
  q.bind(2, r.index);
  q.bind(3, r.rung);
  q.bind(4, r.steps);
  q.bind(5, r.status);
  try {
    q.exec();
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot insert rung " + std::to_string(r.rung) + " of trial " +
                  std::to_string(r.index) + " into '" + db_.path() + "': " + e.what());
  }
}

void ExperimentStore::mark_rung_running(int64_t experiment_id, int64_t index, int rung,
                                        const std::string& worker) {
  SQLite::Statement q(db_.sql(),
                      std::string("UPDATE trial_rungs SET status = 'running', attempts = attempts + 1, "
                                  "worker = ?, started_at = ") +
                          kNow + " WHERE experiment_id = ? AND trial_index = ? AND rung = ?");
  q.bind(1, worker);
  q.bind(2, experiment_id);
  q.bind(3, index);
  q.bind(4, rung);
  if (q.exec() != 1) {
    throw DbError("no rung " + std::to_string(rung) + " of trial " + std::to_string(index) + " to start");
  }
}

void ExperimentStore::finish_rung(const RungRecord& r) {
  SQLite::Statement q(
      db_.sql(),
      std::string("UPDATE trial_rungs SET status = ?, accuracy = ?, loss = ?, reward = ?, "
                  "steps_reached = ?, train_seconds = ?, eval_seconds = ?, seconds = ?, worker = ?, "
                  "message = ?, finished_at = ") +
          kNow + " WHERE experiment_id = ? AND trial_index = ? AND rung = ?");
  q.bind(1, r.status);
  bind_opt(q, 2, r.accuracy);
  bind_opt(q, 3, r.loss);
  bind_opt(q, 4, r.reward);
  bind_opt(q, 5, r.steps_reached);
  bind_opt(q, 6, r.train_seconds);
  bind_opt(q, 7, r.eval_seconds);
  bind_opt(q, 8, r.seconds);
  q.bind(9, r.worker);
  q.bind(10, r.message);
  q.bind(11, r.experiment_id);
  q.bind(12, r.index);
  q.bind(13, r.rung);
  if (q.exec() != 1) {
    throw DbError("no rung " + std::to_string(r.rung) + " of trial " + std::to_string(r.index) +
                  " to finish");
  }
}

int ExperimentStore::requeue_interrupted_rungs(int64_t experiment_id) {
  SQLite::Statement q(db_.sql(),
                      "UPDATE trial_rungs SET status = 'queued' WHERE experiment_id = ? AND status = "
                      "'running'");
  q.bind(1, experiment_id);
  return q.exec();
}

std::vector<RungRecord> ExperimentStore::rungs(int64_t experiment_id, const std::string& status) {
  std::vector<RungRecord> out;
  if (!db_.sql().tableExists("trial_rungs")) return out;
  SQLite::Statement q(db_.sql(),
                      std::string("SELECT experiment_id, trial_index, rung, steps, status, attempts, "
                                  "accuracy, loss, reward, steps_reached, train_seconds, "
                                  "eval_seconds, seconds, worker, message, queued_at, started_at, "
                                  "finished_at FROM trial_rungs WHERE experiment_id = ?") +
                          (status.empty() ? "" : " AND status = ?") + " ORDER BY trial_index, rung");
  q.bind(1, experiment_id);
  if (!status.empty()) q.bind(2, status);
  while (q.executeStep()) {
    RungRecord r;
    r.experiment_id = q.getColumn(0).getInt64();
    r.index = q.getColumn(1).getInt64();
    r.rung = q.getColumn(2).getInt();
    r.steps = q.getColumn(3).getInt64();
    r.status = q.getColumn(4).getString();
    r.attempts = q.getColumn(5).getInt();
    r.accuracy = opt_double(q.getColumn(6));
    r.loss = opt_double(q.getColumn(7));
    r.reward = opt_double(q.getColumn(8));
    r.steps_reached = opt_int(q.getColumn(9));
    r.train_seconds = opt_double(q.getColumn(10));
    r.eval_seconds = opt_double(q.getColumn(11));
    r.seconds = opt_double(q.getColumn(12));
    r.worker = q.getColumn(13).getString();
    r.message = q.getColumn(14).getString();
    r.queued_at = q.getColumn(15).getString();
    r.started_at = q.getColumn(16).getString();
    r.finished_at = q.getColumn(17).getString();
    out.push_back(std::move(r));
  }
  return out;
}

void ExperimentStore::save_checkpoint(int64_t experiment_id, int64_t trials_proposed,
                                      const std::string& state,
                                      const std::optional<std::string>& weights) {
  if (weights) {
    SQLite::Statement q(db_.sql(),
                        std::string("INSERT INTO checkpoints(experiment_id, trials_proposed, "
                                    "state, weights, saved_at) VALUES (?, ?, ?, ?, ") +
                            kNow +
                            ") ON CONFLICT(experiment_id) DO UPDATE SET trials_proposed = "
                            "excluded.trials_proposed, state = excluded.state, weights = "
                            "excluded.weights, saved_at = excluded.saved_at");
    q.bind(1, experiment_id);
    q.bind(2, trials_proposed);
    q.bind(3, state);
    q.bind(4, weights->data(), static_cast<int>(weights->size()));
    q.exec();
  } else {
    SQLite::Statement q(db_.sql(),
                        std::string("INSERT INTO checkpoints(experiment_id, trials_proposed, "
                                    "state, weights, saved_at) VALUES (?, ?, ?, x'', ") +
                            kNow +
                            ") ON CONFLICT(experiment_id) DO UPDATE SET trials_proposed = "
                            "excluded.trials_proposed, state = excluded.state, saved_at = "
                            "excluded.saved_at");
    q.bind(1, experiment_id);
    q.bind(2, trials_proposed);
    q.bind(3, state);
    q.exec();
  }
}

std::optional<CheckpointRecord> ExperimentStore::checkpoint(int64_t experiment_id) {
  SQLite::Statement q(db_.sql(),
                      "SELECT trials_proposed, state, weights, saved_at FROM checkpoints WHERE "
                      "experiment_id = ?");
  q.bind(1, experiment_id);
  if (!q.executeStep()) return std::nullopt;
  CheckpointRecord c;
  c.trials_proposed = q.getColumn(0).getInt64();
  c.state = q.getColumn(1).getString();
  const auto blob = q.getColumn(2);
  c.weights.assign(static_cast<const char*>(blob.getBlob()), static_cast<size_t>(blob.getBytes()));
  c.saved_at = q.getColumn(3).getString();
  return c;
}

void ExperimentStore::log_update(int64_t experiment_id, int64_t update, int64_t trials_finished,
                                 const std::string& stats) {
  SQLite::Statement q(db_.sql(),
                      "INSERT INTO strategy_updates(experiment_id, update_index, trials_finished, "
                      "stats) VALUES (?, ?, ?, ?)");
  q.bind(1, experiment_id);
  q.bind(2, update);
  q.bind(3, trials_finished);
  q.bind(4, stats);
  q.exec();
}

std::vector<UpdateLogRecord> ExperimentStore::update_log(int64_t experiment_id) {
  SQLite::Statement q(db_.sql(),
                      "SELECT update_index, trials_finished, stats FROM strategy_updates WHERE "
                      "experiment_id = ? ORDER BY update_index");
  q.bind(1, experiment_id);
  std::vector<UpdateLogRecord> out;
  while (q.executeStep()) {
    out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString()});
  }
  return out;
}

}  // namespace mnas::db
