// What a training run reports: its results (EvalResult, TrainResult), their
// JSON (the result file mnas_train prints) and the progress callbacks through
// which the library hands progress and warnings to the app, which alone
// prints them. Torch-free (train/report.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "common/trial_status.h"

namespace mnas::train {

struct TrainConfig;

struct EvalResult {
  double top1 = 0;   // fraction
  double top5 = 0;   // fraction (top-k with k = min(5, classes))
  double loss = 0;   // mean cross-entropy, no smoothing
  int64_t images = 0;
  double seconds = 0;
  int image_size = 0;      // input resolution evaluated at, px
  int64_t bad_images = 0;  // undecodable images skipped (folder datasets)
};

struct TrainResult {
  TrialStatus status = TrialStatus::kFailed;
  std::string message;
  EvalResult val;          // on the held-out split (when val_holdout > 0)
  EvalResult test;         // on the test split (when eval_test)
  int64_t steps = 0;       // optimizer steps done, including resumed ones
  int64_t total_steps = 0;
  int64_t steps_run = 0;   // optimizer steps done in this process
  int64_t images_seen = 0; // in this process
  double train_seconds = 0;
  // Mean smoothed loss of the last logged window. When no step was run (a
  // resumed checkpoint already at the end step) it is the one stored in the
  // checkpoint, NaN when the checkpoint has none; `message` then says so.
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  // Undecodable images skipped (folder datasets; see max_bad_image_fraction).
  int64_t bad_images = 0;
};

// {"top1", "top5", "loss", "images", "seconds", "image_size", "bad_images"}.
nlohmann::json to_json(const EvalResult& result);
// The result object mnas_train prints: status, message, steps, steps_run,
// total_steps, images_seen, train_seconds, train_loss (null when not
// finite), bad_images; "val" / "test" when they saw images; "checkpoint" and
// "source" of `config` when set.
nlohmann::json train_result_json(const TrainResult& result, const TrainConfig& config);

// One progress report, every log_every steps and at the end step.
struct StepProgress {
  double epoch = 0;   // epochs done (fractional)
  double epochs = 0;  // of the run (config.epochs)
  int64_t step = 0;
  int64_t end_step = 0;
  double loss = 0;      // mean smoothed loss of the window since the last report
  double accuracy = 0;  // training top-1 of that window
  double lr = 0;
  int image_size = 0;   // training resolution of the step, px
  double images_per_second = 0;
  double eta_seconds = 0;
};

// Receives warnings (an undecodable image, named once) while training; may be
// called from the input pipeline's threads.
using WarningFn = std::function<void(const std::string&)>;

// How a run talks to its caller. Every member may be empty. Progress
// (on_step, on_epoch_eval, on_resumed) is reported only when the config is
// not quiet; the held-out evaluation of on_epoch_eval runs only then.
struct TrainCallbacks {
  WarningFn on_warning;
  std::function<void(const StepProgress&)> on_step;
  // After an epoch whose number is a multiple of eval_every_epochs (rounded,
  // >= 1), with the held-out split's evaluation.
  std::function<void(int64_t epoch, const EvalResult& val)> on_epoch_eval;
  // A checkpoint was resumed (its path).
  std::function<void(const std::string& checkpoint)> on_resumed;
};

// The progress lines of mnas_train (no trailing newline):
//   "epoch 0.50/2  step 3/6  loss 1.3863  acc 0.250  lr 0.01000  16 px  512 img/s  ETA 0m01s"
//   "epoch 1  val top1 0.5000  top5 1.0000  loss 1.2000"
//   "resumed from PATH"
std::string format_progress(const StepProgress& progress);
std::string format_epoch_eval(int64_t epoch, const EvalResult& val);
std::string format_resumed(const std::string& checkpoint);
// "1h02m" from an hour on, else "3m07s".
std::string format_duration(double seconds);

}  // namespace mnas::train
