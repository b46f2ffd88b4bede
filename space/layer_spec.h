// The expanded, rounded, per-layer view of a model: the one currency that the
// model builder, the counters and the latency code all consume, so that they
// can never disagree about a channel count or a stride.
//
// expand_layers is the only place that applies repeats, stride-on-first-layer,
// round_filters and the SE width rule (TF reference MnasNetModel._build and
// MnasBlock, mnasnet_model.py).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "space/block_args.h"
#include "space/global_params.h"

namespace mnas::space {

enum class LayerKind {
  kStem,        // k3 s2 conv + BN + ReLU, input_channels -> stem width
  kBlock,       // one layer of a stage (MBConv, SepConv or Conv)
  kHead,        // 1x1 conv + BN + ReLU -> head_size
  kClassifier,  // global average pool, dropout, fully connected
};

const char* to_string(LayerKind kind);

struct LayerSpec {
  LayerKind kind = LayerKind::kBlock;
  ConvOp op = ConvOp::kConv;  // kConv for stem and head
  int stage = -1;             // stage index for blocks, -1 otherwise
  int index = 0;              // layer index within the stage
  int kernel_size = 1;
  std::array<int, 2> strides = {1, 1};
  int expand_ratio = 1;
  // Channels of the tensor that actually arrives (for blocks: the previous
  // layer's output), which can differ from the declared, rounded
  // input_filters of the block string (mnasnet-small's first stage).
  int in_channels = 0;
  int in_filters_declared = 0;  // rounded declared input filters (blocks)
  int expanded_channels = 0;    // width of the depthwise/SE part
  int out_channels = 0;
  int se_channels = 0;  // squeeze width, 0 = no SE
  SkipOp skip = SkipOp::kIdentity;  // as requested by the block string
  bool residual = false;            // whether a residual is actually added
  int in_h = 0, in_w = 0;
  int out_h = 0, out_w = 0;

  friend bool operator==(const LayerSpec& a, const LayerSpec& b);
};

// Expands `arch` under `params` into stem, one LayerSpec per block layer, head
// and classifier, in forward order. Throws ConfigError when `params` is
// invalid and ParseError when `arch` has no stages. Shapes use TF 'same'
// arithmetic (out = ceil(in / stride)), which symmetric k/2 padding also gives
// for odd kernels.
std::vector<LayerSpec> expand_layers(const ArchSpec& arch, const GlobalParams& params);

// The building steps of expand_layers, for code that needs single layers
// (the latency lookup table enumerates every layer a search space can make).
// block_layer: layer `index` of stage `stage` built from `b`, receiving
// `in_channels` actual channels at in_h x in_w, with the rounded declared
// `in_filters` and `out_filters`; index 0 takes the stage's strides.
LayerSpec block_layer(const BlockArgs& b, int stage, int index, int in_channels,
                      int in_filters, int out_filters, int in_h, int in_w);
LayerSpec stem_layer(const GlobalParams& params);
LayerSpec head_layer(int in_channels, int h, int w, const GlobalParams& params);
LayerSpec classifier_layer(int h, int w, const GlobalParams& params);

// The layer's signature: everything that decides its compute and so its
// latency (kind, op, kernel, strides, expansion, SE width, effective residual,
// input H x W x C, output C), e.g.
//   "block:mbconv:k3:s22:e6:f96:se0:none:112x112x16:o24".
// Stage and index are not part of it. Latency lookup tables key on it.
std::string layer_key(const LayerSpec& layer);

// Spatial output size of a 'same'-padded conv or pool: ceil(in / stride).
inline int same_out_size(int in, int stride) { return (in + stride - 1) / stride; }

}  // namespace mnas::space
