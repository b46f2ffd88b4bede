// The public entry of training: full training runs and the evaluation of
// checkpoints. Torch-free header; it includes the rest of the library's
// public API, so that callers need only this one:
//   train/report.h        EvalResult, TrainResult, progress callbacks
//   train/checkpoint.h    the checkpoint format, CheckpointInfo
//   train/child_trainer.h the search's proxy task (train_child)
//   train/throughput.h    the training-throughput measurement
// Implementation: train/trainer.cpp (entry points), train/loop.cpp (the
// training loop), train/checkpoint.cpp, train/optim.cpp.
#pragma once

#include <string>

#include "train/checkpoint.h"
#include "train/child_trainer.h"
#include "train/report.h"
#include "train/throughput.h"
#include "train/train_config.h"

namespace mnas::train {

// Trains the model of `config`. With `resume` and an existing
// config.checkpoint, continues from it bit-for-bit (same thread count and
// device). Returns kDiverged when the loss becomes NaN/inf, kTimeout at
// config.time_limit_s (after writing a checkpoint). Throws mnas::Error /
// ConfigError for bad input (missing data, bad arch, epochs whose step count
// does not fit an int64) before training starts. A resumed checkpoint already
// at or past the end step (max_steps) runs no step: status ok, steps_run 0,
// a message saying so and the checkpoint's train_loss. Progress goes to
// `callbacks` (unless config.quiet); nothing is printed.
TrainResult train(const TrainConfig& config, bool resume, const TrainCallbacks& callbacks);
// The same with warnings only (no progress reports).
TrainResult train(const TrainConfig& config, bool resume = false, const WarningFn& on_warning = {});

// Evaluates the checkpoint (EMA weights when present) on the test split of
// `data` (dataset, data_path, eval_crop, threads, device, batch from
// micro_batch or batch_size) at `image_size` px, 0 = the resolution the
// checkpoint was last trained at (CheckpointInfo::train_image_size; not
// data.image_size). Throws ConfigError when a tensor name or shape does not
// match the stored architecture (load_checkpoint_model).
EvalResult evaluate_checkpoint(const std::string& path, const TrainConfig& data, int image_size = 0);

}  // namespace mnas::train
