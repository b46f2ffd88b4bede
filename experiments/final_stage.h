// The final stage of a search: from its best architectures to trained,
// exported models, side by side with the hand-designed baselines (MnasNet
// paper, Table 1 and Figure 5).
//
// For each model of plan_final_models (the top-K found architectures, then
// the baselines): train it with the final recipe (train::train, test split
// evaluated at the end), export ONNX, TorchScript and TFLite (float32; each
// verified in a second runtime, train/export.h), count params and MACs and predict the deploy device's
// latency at the experiment's deploy geometry; then measure every trained
// model's host latency end to end in one interleaved batch
// (latency::measure_many: CPU, 1 thread, deploy geometry). All of it is
// recorded in the experiment database (db/final_store.h).
//
// Crash safety and resume: each model's row moves queued -> running ->
// trained -> done in single transactions; training writes its checkpoint
// periodically, so after `kill -9` a rerun continues an interrupted model
// from its checkpoint, never trains a trained one again, and keeps every
// finished row. A baseline whose result exists for the same recipe (in this
// database or in the shared baselines database) is reused, not retrained.
//
// Files: <dir>/<model>/model.ckpt, model.onnx, model.pt, model.tflite, and
// the int8 post-training-quantized model.int8.tflite and model.int8.onnx (the
// latter when ONNX Runtime is installed to verify it) (dir defaults to
// "<db>.final"; baselines live beside the baselines database when that is a
// separate file).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "experiments/final_plan.h"

namespace mnas::experiments {

struct FinalOptions {
  std::string db_path = "mnas-search.db";
  std::optional<int64_t> experiment_id;  // default: the latest experiment in the db
  FinalPlanOptions plan;
  // Where the recipe came from, for messages ("built-in final-fashion", a path).
  std::string recipe_name = "built-in final-fashion";
  // A database shared between searches that holds the baselines' results
  // (component "final", table baseline_results); "" = db_path.
  std::string baselines_db;
  std::string dir;               // "" = db_path + ".final"
  bool measure_host = true;      // measure host latency (deploy geometry, 1 thread)
  // Receives progress and the result table as whole lines ending in '\n'.
  std::function<void(const std::string& text)> on_output;
};

struct FinalOutcome {
  int64_t experiment_id = 0;
  int trained = 0;   // models trained (or finished training) by this call
  int reused = 0;    // baselines whose result was reused
  int skipped = 0;   // rows already trained or done
  int failed = 0;    // models whose training or export failed (recorded as failed)
};

// Runs (or continues) the final stage of the experiment in options.db_path.
// Holds the database's writer lock for the whole run. Throws ConfigError for
// bad options, a database without that experiment, or an experiment with no
// successful trial while top_k > 0; db::LockedError when a search holds the
// database; mnas::Error for I/O failures. A model whose training or export
// fails is recorded as failed with the message and the stage goes on.
FinalOutcome run_final_stage(const FinalOptions& options);

}  // namespace mnas::experiments
