// Calibration for post-training int8 quantization (train/quantize.h): the
// images it runs on and the activation ranges of a network over them.
// Torch header (library mnas::export).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/mnasnet.h"
#include "train/checkpoint.h"
#include "train/quantize.h"

namespace mnas::train {

// Images of a checkpoint's dataset as the network sees them at evaluation:
// resized (centre crop eval_crop for folder datasets, as the trainer's
// evaluation) to the checkpoint's image size and
// normalised as in training, no augmentation.
struct LabelledImages {
  torch::Tensor images;         // [n, C, H, W] float32
  std::vector<int64_t> labels;  // n
};

// `n` images of the training (`train`) or test split of `info`'s dataset
// (config.dataset at config.data_path), chosen by a seeded permutation
// (`seed`), fewer when the split is smaller. Throws ConfigError when n < 1
// or the dataset's classes or channels are not the checkpoint's, and
// mnas::Error naming a dataset file that cannot be read.
LabelledImages checkpoint_images(const CheckpointInfo& info, bool train, int64_t n, uint64_t seed);

// Runs the eval-mode network `net` (BatchNorm folded, as exported) over
// `images` in batches of `batch` and returns the range of every tensor that
// the int8 exports quantize (keys at quant::Ranges); its logits in
// `*logits` when given. The forward is a walk of model/network_walk.h, so it
// visits the tensors the emitters write.
quant::Ranges calibrate(model::MnasNet& net, const torch::Tensor& images, int64_t batch = 64,
                        torch::Tensor* logits = nullptr);

}  // namespace mnas::train
