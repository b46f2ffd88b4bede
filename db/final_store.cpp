#include "db/final_store.h"

#include "db/sql_values.h"

namespace mnas::db {
namespace {

// Migration steps of the "final" component; never edit a released step,
// append a new one.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {
      R"sql(
CREATE TABLE final_models (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('found', 'baseline')),
  arch TEXT NOT NULL,
  depth_multiplier REAL NOT NULL,
  recipe_key TEXT NOT NULL,
  seed INTEGER NOT NULL,
  name TEXT NOT NULL,
  trial_index INTEGER,
  recipe TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'trained', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  test_top1 REAL, test_top5 REAL, test_loss REAL,
  device TEXT NOT NULL DEFAULT '', device_ms REAL, host_ms REAL,
  host_engine TEXT NOT NULL DEFAULT '',
  proxy_accuracy REAL, search_reward REAL, params INTEGER, macs INTEGER, train_seconds REAL,
  checkpoint TEXT NOT NULL DEFAULT '', onnx TEXT NOT NULL DEFAULT '',
  torchscript TEXT NOT NULL DEFAULT '', reused_from TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL DEFAULT '', finished_at TEXT NOT NULL DEFAULT '',
  UNIQUE (experiment_id, kind, arch, depth_multiplier, recipe_key, seed)
);
CREATE TABLE baseline_results (
  recipe_key TEXT NOT NULL,
  arch TEXT NOT NULL,
  depth_multiplier REAL NOT NULL,
  seed INTEGER NOT NULL,
  test_top1 REAL NOT NULL, test_top5 REAL NOT NULL, test_loss REAL NOT NULL,
  train_seconds REAL NOT NULL,
  checkpoint TEXT NOT NULL, onnx TEXT NOT NULL, torchscript TEXT NOT NULL,
  recipe TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (recipe_key, arch, depth_multiplier, seed)
);
)sql",
      // 2: the TFLite export.
      R"sql(
ALTER TABLE final_models ADD COLUMN tflite TEXT NOT NULL DEFAULT '';
ALTER TABLE baseline_results ADD COLUMN tflite TEXT NOT NULL DEFAULT '';
)sql"};
  return steps;
}

using detail::bind_opt;
using detail::kNow;
using detail::opt_double;
using detail::opt_int;

constexpr const char* kColumns =
    "id, experiment_id, kind, arch, depth_multiplier, recipe_key, seed, name, trial_index, "
    "recipe, status, attempts, test_top1, test_top5, test_loss, device, device_ms, host_ms, "
    "host_engine, proxy_accuracy, search_reward, params, macs, train_seconds, checkpoint, onnx, "
    "torchscript, reused_from, message, started_at, finished_at, tflite";

FinalRecord read_record(SQLite::Statement& q) {
  FinalRecord r;
  int c = 0;
  r.id = q.getColumn(c++).getInt64();
  r.key.experiment_id = q.getColumn(c++).getInt64();
  r.key.kind = q.getColumn(c++).getString();
  r.key.arch = q.getColumn(c++).getString();
  r.key.depth_multiplier = q.getColumn(c++).getDouble();
  r.key.recipe_key = q.getColumn(c++).getString();
  r.key.seed = q.getColumn(c++).getInt64();
  r.name = q.getColumn(c++).getString();
  r.trial_index = opt_int(q.getColumn(c++));
  r.recipe = q.getColumn(c++).getString();
  r.status = q.getColumn(c++).getString();
  r.attempts = q.getColumn(c++).getInt();
  r.test_top1 = opt_double(q.getColumn(c++));
  r.test_top5 = opt_double(q.getColumn(c++));
  r.test_loss = opt_double(q.getColumn(c++));
  r.device = q.getColumn(c++).getString();
  r.device_ms = opt_double(q.getColumn(c++));
  r.host_ms = opt_double(q.getColumn(c++));
  r.host_engine = q.getColumn(c++).getString();
  r.proxy_accuracy = opt_double(q.getColumn(c++));
  r.search_reward = opt_double(q.getColumn(c++));
  r.params = opt_int(q.getColumn(c++));
  r.macs = opt_int(q.getColumn(c++));
  r.train_seconds = opt_double(q.getColumn(c++));
  r.checkpoint = q.getColumn(c++).getString();
  r.onnx = q.getColumn(c++).getString();
  r.torchscript = q.getColumn(c++).getString();
  r.reused_from = q.getColumn(c++).getString();
  r.message = q.getColumn(c++).getString();
  r.started_at = q.getColumn(c++).getString();
  r.finished_at = q.getColumn(c++).getString();
  r.tflite = q.getColumn(c++).getString();
  return r;
}

}  // namespace

bool is_final_model_status(const std::string& s) {
  return s == "queued" || s == "running" || s == "trained" || s == "done" || s == "failed";
}

FinalStore::FinalStore(Database& db) : db_(db) {
  if (db_.read_only()) {
    has_tables_ = db_.schema_version("final") > 0;
  } else {
    db_.migrate("final", migrations());
  }
}

std::vector<FinalRecord> FinalStore::models(int64_t experiment_id) {
  std::vector<FinalRecord> out;
  if (!has_tables_) return out;
  SQLite::Statement q(db_.sql(), std::string("SELECT ") + kColumns +
                                     " FROM final_models WHERE experiment_id = ? ORDER BY id");
  q.bind(1, experiment_id);
  while (q.executeStep()) out.push_back(read_record(q));
  return out;
}

std::optional<FinalRecord> FinalStore::find(const FinalKey& k) {
  if (!has_tables_) return std::nullopt;
  SQLite::Statement q(db_.sql(), std::string("SELECT ") + kColumns +
                                     " FROM final_models WHERE experiment_id = ? AND kind = ? AND "
                                     "arch = ? AND depth_multiplier = ? AND recipe_key = ? AND "
                                     "seed = ?");
  q.bind(1, k.experiment_id);
  q.bind(2, k.kind);
  q.bind(3, k.arch);
  q.bind(4, k.depth_multiplier);
  q.bind(5, k.recipe_key);
  q.bind(6, k.seed);
  if (!q.executeStep()) return std::nullopt;
  return read_record(q);
}

int64_t FinalStore::insert(const FinalRecord& r) {
  SQLite::Statement q(db_.sql(),
                      "INSERT INTO final_models(experiment_id, kind, arch, depth_multiplier, "
                      "recipe_key, seed, name, trial_index, recipe, status, proxy_accuracy, "
                      "search_reward) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.key.experiment_id);
  q.bind(2, r.key.kind);
  q.bind(3, r.key.arch);
  q.bind(4, r.key.depth_multiplier);
  q.bind(5, r.key.recipe_key);
  q.bind(6, r.key.seed);
  q.bind(7, r.name);
  bind_opt(q, 8, r.trial_index);
  q.bind(9, r.recipe);
  q.bind(10, r.status);
  bind_opt(q, 11, r.proxy_accuracy);
  bind_opt(q, 12, r.search_reward);
  try {
    q.exec();
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot insert final model '" + r.name + "' into '" + db_.path() + "': " +
                  e.what());
  }
  return db_.sql().getLastInsertRowid();
}

void FinalStore::mark_running(int64_t id) {
  SQLite::Statement q(db_.sql(), std::string("UPDATE final_models SET status = 'running', "
                                             "attempts = attempts + 1, started_at = ") +
                                     kNow + " WHERE id = ?");
  q.bind(1, id);
  if (q.exec() != 1) throw DbError("no final model " + std::to_string(id) + " to start");
}

void FinalStore::update(const FinalRecord& r) {
  if (!is_final_model_status(r.status)) throw DbError("bad final model status '" + r.status + "'");
  const bool final_status = r.status == "done" || r.status == "failed";
  SQLite::Statement q(
      db_.sql(),
      std::string("UPDATE final_models SET status = ?, test_top1 = ?, test_top5 = ?, "
                  "test_loss = ?, device = ?, device_ms = ?, host_ms = ?, host_engine = ?, "
                  "params = ?, macs = ?, train_seconds = ?, checkpoint = ?, onnx = ?, "
                  "torchscript = ?, tflite = ?, reused_from = ?, message = ?, finished_at = ") +
          (final_status ? kNow : "finished_at") + " WHERE id = ?");
  int c = 1;
  q.bind(c++, r.status);
  bind_opt(q, c++, r.test_top1);
  bind_opt(q, c++, r.test_top5);
  bind_opt(q, c++, r.test_loss);
  q.bind(c++, r.device);
  bind_opt(q, c++, r.device_ms);
  bind_opt(q, c++, r.host_ms);
  q.bind(c++, r.host_engine);
  bind_opt(q, c++, r.params);
  bind_opt(q, c++, r.macs);
  bind_opt(q, c++, r.train_seconds);
  q.bind(c++, r.checkpoint);
  q.bind(c++, r.onnx);
  q.bind(c++, r.torchscript);
  q.bind(c++, r.tflite);
  q.bind(c++, r.reused_from);
  q.bind(c++, r.message);
  q.bind(c++, r.id);
  if (q.exec() != 1) throw DbError("no final model " + std::to_string(r.id) + " to update");
}

std::optional<BaselineResult> FinalStore::baseline(const std::string& recipe_key,
                                                   const std::string& arch,
                                                   double depth_multiplier, int64_t seed) {
  if (!has_tables_) return std::nullopt;
  SQLite::Statement q(db_.sql(),
                      "SELECT test_top1, test_top5, test_loss, train_seconds, checkpoint, onnx, "
                      "torchscript, recipe, finished_at, tflite FROM baseline_results WHERE recipe_key = ? "
                      "AND arch = ? AND depth_multiplier = ? AND seed = ?");
  q.bind(1, recipe_key);
  q.bind(2, arch);
  q.bind(3, depth_multiplier);
  q.bind(4, seed);
  if (!q.executeStep()) return std::nullopt;
  BaselineResult b;
  b.recipe_key = recipe_key;
  b.arch = arch;
  b.depth_multiplier = depth_multiplier;
  b.seed = seed;
  b.test_top1 = q.getColumn(0).getDouble();
  b.test_top5 = q.getColumn(1).getDouble();
  b.test_loss = q.getColumn(2).getDouble();
  b.train_seconds = q.getColumn(3).getDouble();
  b.checkpoint = q.getColumn(4).getString();
  b.onnx = q.getColumn(5).getString();
  b.torchscript = q.getColumn(6).getString();
  b.recipe = q.getColumn(7).getString();
  b.finished_at = q.getColumn(8).getString();
  b.tflite = q.getColumn(9).getString();
  return b;
}

void FinalStore::put_baseline(const BaselineResult& b) {
  SQLite::Statement q(db_.sql(),
                      std::string("INSERT OR REPLACE INTO baseline_results(recipe_key, arch, "
                                  "depth_multiplier, seed, test_top1, test_top5, test_loss, "
                                  "train_seconds, checkpoint, onnx, torchscript, recipe, "
                                  "tflite, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ") +
                          kNow + ")");
  int c = 1;
  q.bind(c++, b.recipe_key);
  q.bind(c++, b.arch);
  q.bind(c++, b.depth_multiplier);
  q.bind(c++, b.seed);
  q.bind(c++, b.test_top1);
  q.bind(c++, b.test_top5);
  q.bind(c++, b.test_loss);
  q.bind(c++, b.train_seconds);
  q.bind(c++, b.checkpoint);
  q.bind(c++, b.onnx);
  q.bind(c++, b.torchscript);
  q.bind(c++, b.recipe);
  q.bind(c++, b.tflite);
  q.exec();
}

}  // namespace mnas::db
