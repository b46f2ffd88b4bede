// Full training runs, evaluation of checkpoints and the training-throughput
// measurement. Torch-free header (the implementation is train/trainer.cpp).
//
// Checkpoint format (one file, written through common/files.h AtomicFile, so
// a crash at any moment leaves the previous checkpoint intact): a LibTorch archive
// (torch::serialize::OutputArchive, a zip file) with
//   "meta"         JSON string: {"format": "mnas-checkpoint-v1", "block_strings": [...],
//                  "global_params": {...}, "config": {...TrainConfig...},
//                  "step": N, "total_steps": M, "has_ema": bool,
//                  "train_image_size": px of the last step (progressive resizing),
//                  "train_loss": loss of the last logged window or null}
//                  (the last two are absent from older checkpoints)
//   "model/<name>" every parameter and buffer of the network (training weights)
//   "ema/<name>"   the exponential moving averages (when ema_decay > 0)
//   "opt/<i>/<slot>" optimizer slots (rmsprop: ms, mom; sgd: buf)
//   "rng/cpu"      the CPU generator state (dropout)
// Data order and augmentation are functions of (seed, epoch, position), so
// no loader state is stored.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "space/global_params.h"
#include "train/child_trainer.h"
#include "train/train_config.h"

namespace mnas::train {

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

// Receives warnings (an undecodable image, named once) while training; may be
// called from the input pipeline's threads.
using WarningFn = std::function<void(const std::string&)>;

// Trains the model of `config`. With `resume` and an existing
// config.checkpoint, continues from it bit-for-bit (same thread count and
// device). Returns kDiverged when the loss becomes NaN/inf, kTimeout at
// config.time_limit_s (after writing a checkpoint). Throws mnas::Error /
// ConfigError for bad input (missing data, bad arch, epochs whose step count
// does not fit an int64) before training starts. A resumed checkpoint already
// at or past the end step (max_steps) runs no step: status ok, steps_run 0,
// a message saying so and the checkpoint's train_loss.
TrainResult train(const TrainConfig& config, bool resume = false, const WarningFn& on_warning = {});

// What a checkpoint holds besides tensors.
struct CheckpointInfo {
  std::vector<std::string> block_strings;
  space::GlobalParams params;
  TrainConfig config;
  int64_t step = 0;
  int64_t total_steps = 0;
  bool has_ema = false;
  // Resolution of the last training step (low_res_size during progressive
  // resizing; older checkpoints: derived from config, step and total_steps).
  int train_image_size = 0;
  double train_loss = std::numeric_limits<double>::quiet_NaN();  // NaN = not stored
};
// Throws mnas::Error naming the file when it is missing or not an mnas checkpoint.
CheckpointInfo read_checkpoint_info(const std::string& path);

// Evaluates the checkpoint (EMA weights when present) on the test split of
// `data` (dataset, data_path, eval_crop, threads, device, batch from
// micro_batch or batch_size) at `image_size` px, 0 = the resolution the
// checkpoint was last trained at (CheckpointInfo::train_image_size; not
// data.image_size). Throws ConfigError when a tensor name or shape does not
// match the stored architecture (load_checkpoint_model).
EvalResult evaluate_checkpoint(const std::string& path, const TrainConfig& data, int image_size = 0);

// Images per second of full training steps (forward, backward, update) of
// `arch` on random data, after `warmup` untimed steps.
struct ThroughputOptions {
  std::string arch = "mnasnet-b1";
  int image_size = 32;
  int input_channels = 3;
  int num_classes = 10;
  int batch_size = 128;
  int threads = 2;
  bool channels_last = true;
  int warmup = 3;
  int steps = 10;
  std::string device = "cpu";
};
double measure_train_throughput(const ThroughputOptions& options);

}  // namespace mnas::train
