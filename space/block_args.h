// Value types that describe a MnasNet architecture, one stage at a time.
//
// MnasNet: Tan et al., "Platform-Aware Neural Architecture Search for Mobile",
// CVPR 2019, arXiv:1807.11626. Field names follow the TF reference
// (tensorflow/tpu models/official/mnasnet/mnasnet_model.py, BlockArgs).
//
// A stage ("block" in the paper's factorized hierarchical space) is one layer
// design repeated num_repeat times. Only the first layer of a stage takes the
// stride and the change of width; see space/layer_spec.h for the expansion.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace mnas::space {

// The paper's ConvOp choice (section 4.1).
enum class ConvOp {
  // Mobile inverted bottleneck (MobileNetV2): optional 1x1 expansion conv
  // (expand_ratio > 1), k x k depthwise conv, optional squeeze-excite, linear
  // 1x1 projection. The only op the TF reference grammar can express; with
  // expand_ratio 1 it is the "SepConv" of MnasNet-A1's first stage.
  kMBConv,
  // Depthwise-separable conv as in MobileNetV1: k x k depthwise + BN + ReLU,
  // optional squeeze-excite, 1x1 pointwise + BN + ReLU. Unlike MBConv e1 the
  // pointwise output is activated, so the two ops are different networks.
  kSepConv,
  // Regular k x k convolution + BN + ReLU, optional squeeze-excite after it.
  kConv,
};

// The paper's SkipOp choice (section 4.1).
enum class SkipOp {
  // Identity residual, added when the layer keeps its shape (stride 1 and
  // declared input filters == output filters), as in the reference.
  kIdentity,
  // Pooling residual: 3x3 average pool (stride = layer stride, padding 1, pad
  // excluded from the average) of the input is added to the output. Applies
  // when declared input filters == output filters, at any stride.
  kPool,
  // No residual ("noskip" in the reference grammar).
  kNone,
};

// One stage of an architecture, as written in one block string.
struct BlockArgs {
  ConvOp op = ConvOp::kMBConv;
  int num_repeat = 1;    // layers in this stage, >= 1
  int kernel_size = 3;   // odd, 1..9
  // Stride (H, W) of the first layer of the stage; the other layers use 1.
  std::array<int, 2> strides = {1, 1};
  int expand_ratio = 1;  // MBConv expansion; always 1 for kSepConv and kConv
  int input_filters = 0;   // declared stage input width, before rounding
  int output_filters = 0;  // stage output width, before rounding
  // Squeeze-excite ratio relative to the (rounded) input filters; 0 = no SE.
  double se_ratio = 0.0;
  SkipOp skip = SkipOp::kIdentity;

  bool has_se() const { return se_ratio > 0.0; }
  friend bool operator==(const BlockArgs& a, const BlockArgs& b);
  friend bool operator!=(const BlockArgs& a, const BlockArgs& b) { return !(a == b); }
};

inline bool operator==(const BlockArgs& a, const BlockArgs& b) {
  return a.op == b.op && a.num_repeat == b.num_repeat &&
         a.kernel_size == b.kernel_size && a.strides == b.strides &&
         a.expand_ratio == b.expand_ratio &&
         a.input_filters == b.input_filters &&
         a.output_filters == b.output_filters && a.se_ratio == b.se_ratio &&
         a.skip == b.skip;
}

// A whole architecture: the stages, in order. The global knobs (stem, head,
// width multiplier, classes, image size) live in GlobalParams so that a search
// can vary the stages while an experiment holds the knobs fixed.
struct ArchSpec {
  std::vector<BlockArgs> blocks;

  friend bool operator==(const ArchSpec& a, const ArchSpec& b) {
    return a.blocks == b.blocks;
  }
  friend bool operator!=(const ArchSpec& a, const ArchSpec& b) { return !(a == b); }
};

// Short lower-case names used in tables and JSON: "mbconv", "sepconv", "conv"
// and "identity", "pool", "none".
const char* to_string(ConvOp op);
const char* to_string(SkipOp skip);

}  // namespace mnas::space
