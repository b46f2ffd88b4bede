// The LibTorch modules that make up a MnasNet, one per LayerSpec kind.
//
// Semantics follow the TF reference MnasBlock (mnasnet_model.py): ReLU
// activations, bias-free convs followed by BN (TF decay 0.99 -> PyTorch
// momentum 0.01, eps 1e-3), squeeze-excite with biased 1x1 convs (ReLU then
// sigmoid) sized from the rounded input filters, linear projection, identity
// or pooling residual as decided by space::expand_layers.
//
// The blocks are built from and run through the steps of model/network_walk.h
// (layer_steps), the one definition that the TorchScript and ONNX emitters
// follow too; padding comes from its conv_padding().
//
// Public because the latency profiler times single layers; the network itself
// is model::MnasNet (model/mnasnet.h).
#pragma once

#include <torch/torch.h>

#include "model/network_walk.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::model {

constexpr std::array<int, 2> kUnitStrides = {1, 1};

// Pads `x` like TF 'same' for a k x k conv/pool with the given strides
// (conv_padding of x's size): the odd pixel goes bottom/right. No-op when no
// padding is needed.
torch::Tensor pad_same(const torch::Tensor& x, int kernel_size, std::array<int, 2> strides);

// k x k conv (no bias, optionally depthwise) + BN (+ ReLU when `relu`), with
// the padding policy of GlobalParams::tf_same_padding. Submodules: "conv", "bn".
struct ConvBnImpl : torch::nn::Module {
  ConvBnImpl(int in_channels, int out_channels, int kernel_size,
             std::array<int, 2> strides, bool depthwise, bool relu,
             const space::GlobalParams& params);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  int kernel_size;
  std::array<int, 2> strides;
  bool depthwise;
  bool relu;
  bool tf_same;
};
TORCH_MODULE(ConvBn);

// The ConvBn of a conv step (depthwise when step.groups > 1).
ConvBn make_conv_bn(const ConvStep& step, const space::GlobalParams& params);

// Squeeze-excite: mean over H, W -> 1x1 conv (bias) to `squeeze` -> ReLU ->
// 1x1 conv (bias) back to `channels` -> sigmoid -> scale the input.
// Submodules: "reduce", "expand".
struct SqueezeExciteImpl : torch::nn::Module {
  SqueezeExciteImpl(int channels, int squeeze);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d reduce{nullptr};
  torch::nn::Conv2d expand{nullptr};
};
TORCH_MODULE(SqueezeExcite);

// One layer of a stage: MBConv, SepConv or Conv as `spec.op` says, i.e. the
// layer_steps of `spec`: forward emits them on its submodules. Submodule
// names (checkpoint keys, part_name of each step):
//   MBConv:  expand (if expand_ratio != 1), depthwise, se (if SE), project
//   SepConv: depthwise, se (if SE), pointwise
//   Conv:    conv, se (if SE)
// each of them a ConvBn except se.
struct BlockImpl : torch::nn::Module {
  BlockImpl(const space::LayerSpec& spec, const space::GlobalParams& params);
  torch::Tensor forward(torch::Tensor x);

  space::LayerSpec spec;
  std::vector<Step> steps;  // layer_steps(spec, params.tf_same_padding)
  // project is the MBConv "project", the SepConv "pointwise" or the Conv "conv".
  ConvBn expand{nullptr}, depthwise{nullptr}, project{nullptr};
  SqueezeExcite se{nullptr};
};
TORCH_MODULE(Block);

// Global average pool, dropout (training only) and the fully connected layer
// ("fc"), for the classifier LayerSpec.
struct ClassifierImpl : torch::nn::Module {
  ClassifierImpl(int in_features, int num_classes, double dropout_rate);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Linear fc{nullptr};
  double dropout_rate;
};
TORCH_MODULE(Classifier);

// The module for one LayerSpec of any kind: stem and head are ConvBn with
// ReLU, blocks are Block, the classifier is Classifier. Used to time layers
// one by one; weights are initialised as in the full model.
torch::nn::AnyModule make_layer(const space::LayerSpec& spec, const space::GlobalParams& params);

// Reference initialisers (mnasnet_model.py): conv kernels N(0, sqrt(2 /
// fan_out)) with fan_out = kh * kw * out_channels / groups (so depthwise
// kernels get sqrt(2 / k^2)); dense kernels U(-1/sqrt(classes), 1/sqrt(classes));
// biases 0; BN gamma 1, beta 0, running mean 0, running variance 1. Applies
// to every submodule of `module` (not to `module` itself, so that it can run
// inside a constructor).
void init_weights(torch::nn::Module& module);

}  // namespace mnas::model
