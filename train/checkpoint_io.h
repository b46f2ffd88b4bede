// The tensor side of checkpoints (format: train/checkpoint.h): saving and
// restoring the state of a training run, and loading the network of a
// checkpoint. Torch header (train/checkpoint.cpp).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "model/mnasnet.h"
#include "train/checkpoint.h"
#include "train/optim.h"

namespace mnas::train {

// The live state of a training run that a checkpoint stores besides its
// meta: the network, its EMA (null when ema_decay is 0), the optimizer slots
// and, implicitly, the default CPU generator.
struct TrainingState {
  torch::nn::Module& model;
  torch::nn::Module* ema = nullptr;
  Optimizer& optimizer;
};

// Writes `info` as the meta and every tensor of `state` to `path`
// atomically. Throws mnas::Error naming the file on I/O errors.
void save_checkpoint(const std::string& path, const CheckpointInfo& info, const TrainingState& state);

// Loads checkpoint `path` into `state` (and the CPU generator) and returns
// its info. Throws ConfigError when it holds another architecture than
// `block_strings`, has no EMA while state.ema is set, or a tensor name or
// shape does not match (nothing is copied before every name and shape of a
// module checked); mnas::Error when it is not an mnas checkpoint.
CheckpointInfo restore_checkpoint(const std::string& path, const std::vector<std::string>& block_strings,
                                  const TrainingState& state);

// Every tensor of an mnas checkpoint by key ("model/...", "ema/...",
// "opt/...", "rng/cpu"), for tests and tools.
std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::string& path);

// The network of checkpoint `path`, built from its stored architecture, with
// the "ema/" weights (when `use_ema` and present) or the "model/" ones; its
// info in `*info` when given. Throws ConfigError naming the checkpoint when
// the architecture cannot be built, or a tensor is missing, unexpected or of
// the wrong shape (every name and shape is checked before anything is used:
// shared by evaluate_checkpoint and export_checkpoint).
model::MnasNet load_checkpoint_model(const std::string& path, bool use_ema, CheckpointInfo* info = nullptr);

}  // namespace mnas::train
