// MnasNet as a LibTorch module, built from the per-layer specs.
//
// MnasNet: Tan et al., CVPR 2019, arXiv:1807.11626; mirrors the TF reference
// MnasNetModel (tensorflow/tpu models/official/mnasnet/mnasnet_model.py):
//   stem (3x3 s2 conv, BN, ReLU) -> blocks -> head (1x1 conv to 1280, BN,
//   ReLU) -> global average pool -> dropout -> fully connected logits.
// No softmax. Works on any torch::Device and accepts channels-last input.
//
// Submodule names are checkpoint keys and stay stable:
//   stem.conv, stem.bn, blocks.<n>.<expand|depthwise|se|project|pointwise|conv>...,
//   head.conv, head.bn, classifier.fc
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/blocks.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::model {

struct MnasNetImpl : torch::nn::Module {
  // Builds the network of `arch` under `params` (space::expand_layers decides
  // every width, stride and skip) with the reference initialisers. Throws
  // mnas::ConfigError / ParseError on invalid input.
  MnasNetImpl(const space::ArchSpec& arch, const space::GlobalParams& params);

  // Logits [N, num_classes] for images [N, input_channels, H, W]. H and W may
  // differ from params.image_size (the network is fully convolutional up to
  // the global pool).
  torch::Tensor forward(torch::Tensor x);

  // Output of the last block, before the head conv (the reference's
  // features_only / global_pool endpoint).
  torch::Tensor features(torch::Tensor x);

  const std::vector<space::LayerSpec>& layers() const { return layers_; }
  const space::GlobalParams& params() const { return params_; }
  const space::ArchSpec& arch() const { return arch_; }

  ConvBn stem{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  ConvBn head{nullptr};
  Classifier classifier{nullptr};

 private:
  space::ArchSpec arch_;
  space::GlobalParams params_;
  std::vector<space::LayerSpec> layers_;
};
TORCH_MODULE(MnasNet);

// Number of elements of every trainable parameter (BN running statistics are
// buffers, so they are not included): equals space::model_cost's params.
int64_t count_parameters(torch::nn::Module& module);

// Moves every 4-D parameter and buffer of `module` to channels-last memory
// format (faster convolutions on CPU oneDNN and on CUDA tensor cores).
void to_channels_last(torch::nn::Module& module);

}  // namespace mnas::model
