// The one definition of what a network computes, layer by layer, as a walk
// over space::expand_layers output that drives an emitter. Torch-free.
//
// Every representation of a network is an emitter of this walk: the eager
// modules (model/blocks.cpp: built from and run through the steps), the
// TorchScript source that latency measures and export writes
// (model/script_emitter.h) and the ONNX graph (train/onnx_emitter.h). A new
// format (TFLite) is one more Emitter. Block semantics (which convs, in which
// order, with which activation, SE and residual) and padding are decided here
// only: layer_steps() and conv_padding().
//
// Steps name the module that holds their weights by its checkpoint path
// (model/mnasnet.h: "stem", "blocks.3.depthwise", "blocks.3.se",
// "classifier", ...), relative to the walked module: scope "" walks a module
// made by make_layer, whose weights are "depthwise.conv.weight", ...
#pragma once

#include <array>
#include <string>
#include <vector>

#include "space/layer_spec.h"

namespace mnas::model {

// Zero padding of a k x k window, in pixels per side.
struct Padding {
  int top = 0, left = 0, bottom = 0, right = 0;
  bool any() const { return top || left || bottom || right; }
  friend bool operator==(const Padding& a, const Padding& b) {
    return a.top == b.top && a.left == b.left && a.bottom == b.bottom && a.right == b.right;
  }
};

// TF 'same' padding along one axis (tf.nn.conv2d): ceil(in / stride) outputs
// need max((ceil(in / stride) - 1) * stride + k - in, 0) padded pixels.
int same_pad_total(int in, int stride, int kernel_size);

// Padding of a k x k conv or pool over an in_h x in_w input: with `tf_same`,
// TF 'same' with the odd pixel after (bottom/right; before = total / 2);
// otherwise symmetric k / 2 (PyTorch's, the same output size for odd k).
Padding conv_padding(int in_h, int in_w, int kernel_size, std::array<int, 2> strides,
                     bool tf_same);

// Where a step's weights live inside its layer.
enum class Part {
  kSelf,       // the layer's module itself (stem, head: a ConvBn; classifier)
  kExpand,     // MBConv expansion (ConvBn "expand")
  kDepthwise,  // MBConv / SepConv depthwise (ConvBn "depthwise")
  kProject,    // MBConv linear projection (ConvBn "project")
  kPointwise,  // SepConv pointwise (ConvBn "pointwise")
  kConv,       // Conv block's conv (ConvBn "conv")
  kSe,         // squeeze-excite ("se")
};
// The submodule name of `part` ("" for kSelf).
const char* part_name(Part part);

// A bias-free k x k conv, its BatchNorm (eps GlobalParams::bn_epsilon), then
// ReLU when `relu`. Weights: <module>.conv.weight, <module>.bn.{weight,bias,
// running_mean,running_var}. With `tf_same` the padding is applied before
// the conv (a constant pad of `pad`, possibly asymmetric), otherwise it is
// the conv's own symmetric padding (`pad` then has k / 2 on every side).
struct ConvStep {
  std::string module;  // checkpoint path of the ConvBn, "" = the walked module
  Part part = Part::kSelf;
  int in_channels = 0, out_channels = 0;
  int kernel_size = 1;
  std::array<int, 2> strides = {1, 1};
  int groups = 1;  // in_channels for depthwise
  bool tf_same = false;
  Padding pad;     // for in_h x in_w
  bool relu = true;
  int in_h = 0, in_w = 0, out_h = 0, out_w = 0;
};

// Squeeze-excite over `channels`: s = mean of x over H, W (kept as 1 x 1);
// s = relu(conv1x1 "reduce"(s) + bias) to `squeeze` channels;
// s = conv1x1 "expand"(s) + bias back to `channels`; x * sigmoid(s).
// Weights: <module>.reduce.{weight,bias}, <module>.expand.{weight,bias}.
struct SqueezeExciteStep {
  std::string module;
  int channels = 0, squeeze = 0;
};

// The residual of a block: y + input (kIdentity) or y + avg_pool(input) over
// a `pool_kernel` window with `strides` and symmetric `pool_pad`, excluding
// the padding from the average (kPool: the pooling skip, which also makes
// stride-2 blocks residual).
struct ResidualStep {
  space::SkipOp skip = space::SkipOp::kIdentity;
  int pool_kernel = 3;
  int pool_pad = 1;
  std::array<int, 2> strides = {1, 1};
};

// Global average pool, dropout (training only) and the fully connected
// layer: <module>.fc.{weight,bias}, logits [N, classes].
struct ClassifierStep {
  std::string module;
  int in_features = 0, classes = 0;
};

struct Step {
  enum Kind { kConv, kSqueezeExcite, kResidual, kClassifier };
  Kind kind = kConv;
  ConvStep conv;                   // kConv
  SqueezeExciteStep se;            // kSqueezeExcite
  ResidualStep residual;           // kResidual (always a layer's last step)
  ClassifierStep classifier;       // kClassifier
};

// The steps of one layer, in order, with weights under `scope`:
//   stem, head: conv (ReLU);
//   MBConv: [expand 1x1 (ReLU), when expand_ratio != 1], depthwise k x k with
//     the strides (ReLU), [SE], project 1x1 (linear);
//   SepConv: depthwise k x k (ReLU), [SE], pointwise 1x1 (ReLU);
//   Conv: conv k x k (ReLU), [SE];
//   then, when spec.residual, the residual;
//   classifier: the classifier.
// Padding from conv_padding() at the spec's input sizes.
std::vector<Step> layer_steps(const space::LayerSpec& layer, bool tf_same,
                              const std::string& scope = "");

// The checkpoint path of layer `layer` of a network whose blocks are
// numbered by `block_index`: "stem", "blocks.<block_index>", "head",
// "classifier".
std::string layer_scope(const space::LayerSpec& layer, int block_index);

// "<module>.<leaf>", or `leaf` when module is "" (a weight's checkpoint key).
std::string weight_key(const std::string& module, const std::string& leaf);

// A representation of a network. Value is the emitter's handle of a tensor
// (a variable name, an ONNX value name, a torch::Tensor). Each method emits
// one step (semantics at the step types above) on `x` and returns the result.
template <class Value>
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual Value conv(const Value& x, const ConvStep& step) = 0;
  virtual Value squeeze_excite(const Value& x, const SqueezeExciteStep& step) = 0;
  // `x`, the input of a residual layer, is used again by its last step:
  // returns a handle that stays valid until then (for emitters whose
  // handles are reassigned, e.g. source written as `x = f(x)`).
  virtual Value keep(const Value& x) { return x; }
  virtual Value residual(const Value& y, const Value& input, const ResidualStep& step) = 0;
  virtual Value classifier(const Value& x, const ClassifierStep& step) = 0;
};

// Emits `steps` (one layer's, from layer_steps) on `x`.
template <class Value>
Value emit_steps(const std::vector<Step>& steps, Emitter<Value>& e, Value x) {
  const bool residual = !steps.empty() && steps.back().kind == Step::kResidual;
  const Value input = residual ? e.keep(x) : Value();
  for (const Step& s : steps) {
    switch (s.kind) {
      case Step::kConv: x = e.conv(x, s.conv); break;
      case Step::kSqueezeExcite: x = e.squeeze_excite(x, s.se); break;
      case Step::kResidual: x = e.residual(x, input, s.residual); break;
      case Step::kClassifier: x = e.classifier(x, s.classifier); break;
    }
  }
  return x;
}

// Emits the layers of a network (expand_layers output, weights at the
// checkpoint paths of model::MnasNet) on `x` and returns the last value.
template <class Value>
Value emit_network(const std::vector<space::LayerSpec>& layers, bool tf_same, Emitter<Value>& e,
                   Value x) {
  int block = 0;
  for (const auto& l : layers) {
    x = emit_steps(layer_steps(l, tf_same, layer_scope(l, block)), e, x);
    if (l.kind == space::LayerKind::kBlock) ++block;
  }
  return x;
}

}  // namespace mnas::model
