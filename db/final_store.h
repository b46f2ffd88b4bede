// The final-stage tables of an mnas database (component "final"): the
// models a search's final stage trains with a full recipe (its top-K found
// architectures and the hand-designed baselines), and the baselines' training
// results keyed by recipe so that they are trained once and reused.
//
//   final_models      one row per (experiment, kind, arch, depth multiplier,
//                     recipe, seed): test accuracy, exported files, the deploy
//                     device's and the host's latency. Life cycle:
//                     queued -> running -> trained -> done | failed
//                     ("trained": trained, evaluated and exported; "done":
//                     host latency measured too).
//   baseline_results  one row per (recipe, arch, depth multiplier, seed): a
//                     baseline's training outcome (test accuracy, checkpoint,
//                     exports), shared by every experiment of the file. The
//                     file may be a separate, shared baselines database.
//
// Plain strings and numbers; each state change is one statement or one
// transaction of the caller, so a kill at any moment leaves the old or the new
// state (db/database.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace mnas::db {

// The identity of a final model within its database.
struct FinalKey {
  int64_t experiment_id = 0;
  std::string kind;             // "found" | "baseline"
  std::string arch;             // canonical block strings (space separated) or a model name
  double depth_multiplier = 1;  // 1 for found architectures
  std::string recipe_key;       // final_recipe_key() of the training recipe
  int64_t seed = 0;
};

struct FinalRecord {
  FinalKey key;
  int64_t id = 0;
  std::string name;      // "trial 17", "mobilenet-v2 x0.5", "mnasnet-a1"
  std::optional<int64_t> trial_index;  // found: the trial it came from
  std::string recipe;    // the complete mnas_train configuration, JSON text
  std::string status = "queued";  // queued running trained done failed
  int attempts = 0;
  std::optional<double> test_top1, test_top5, test_loss;
  std::string device;    // the deploy device of device_ms (latency_source)
  std::optional<double> device_ms;    // the deploy device's latency (predicted)
  std::optional<double> host_ms;      // measured on this host
  std::string host_engine;            // engine and threads of host_ms
  std::optional<double> proxy_accuracy, search_reward;  // found: the search's figures
  std::optional<int64_t> params, macs;  // at the deploy geometry
  std::optional<double> train_seconds;
  std::string checkpoint, onnx, torchscript, tflite;  // paths of the files written
  std::string reused_from;  // baselines: the database whose result was reused ("" = trained here)
  std::string message;      // why it failed
  std::string started_at, finished_at;
};

struct BaselineResult {
  std::string recipe_key;
  std::string arch;
  double depth_multiplier = 1;
  int64_t seed = 0;
  double test_top1 = 0, test_top5 = 0, test_loss = 0;
  double train_seconds = 0;
  std::string checkpoint, onnx, torchscript, tflite;
  std::string recipe;
  std::string finished_at;
};

class FinalStore {
 public:
  // Read-write: brings the "final" schema up to date. Read-only: a file
  // without the tables reads as empty.
  explicit FinalStore(Database& db);

  Database& database() { return db_; }
  template <class Fn>
  void transaction(Fn&& fn) {
    db_.transaction(std::forward<Fn>(fn));
  }

  // Every final model of the experiment, in id order; empty when none.
  std::vector<FinalRecord> models(int64_t experiment_id);
  std::optional<FinalRecord> find(const FinalKey& key);
  // Inserts the row (status, name, trial, recipe and the search's figures as
  // given) and returns its id. Throws DbError when the key exists.
  int64_t insert(const FinalRecord& record);
  // -> running: attempts + 1, started_at.
  void mark_running(int64_t id);
  // Stores every outcome field and the status of `record` (by id);
  // finished_at = now when the status is done or failed.
  void update(const FinalRecord& record);

  std::optional<BaselineResult> baseline(const std::string& recipe_key, const std::string& arch,
                                         double depth_multiplier, int64_t seed);
  // Inserts or replaces the result of its key.
  void put_baseline(const BaselineResult& result);

 private:
  Database& db_;
  bool has_tables_ = true;
};

bool is_final_model_status(const std::string& status);

}  // namespace mnas::db
