// The checkpoint of a training run: what it holds besides tensors, and how
// to read that back. Torch-free header; the tensor side (saving and restoring
// a run, loading the network) is train/checkpoint_io.h. Both are implemented
// in train/checkpoint.cpp.
//
// Checkpoint format (one file, written through common/files.h AtomicFile, so
// a crash at any moment leaves the previous checkpoint intact): a pickled
// dict (torch::pickle_save) {"meta": JSON string, "tensors": {key: tensor}}:
//   "meta"         {"format": "mnas-checkpoint-v1", "block_strings": [...],
//                  "global_params": {...space::params_to_json...},
//                  "config": {...TrainConfig...},
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
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/global_params.h"
#include "train/train_config.h"

namespace mnas::train {

// What a checkpoint holds besides tensors (its "meta").
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

// What mnas_export --info prints of a checkpoint: "arch" (canonical, one
// string), "block_strings", "global_params", "step", "total_steps", "has_ema".
nlohmann::json describe_checkpoint(const CheckpointInfo& info);

}  // namespace mnas::train
