#include "model/blocks.h"

#include <cmath>

namespace mnas::model {

namespace F = torch::nn::functional;

torch::Tensor pad_same(const torch::Tensor& x, int kernel_size, std::array<int, 2> strides) {
  const Padding p = conv_padding(static_cast<int>(x.size(2)), static_cast<int>(x.size(3)), kernel_size, strides,
                                 /*tf_same=*/true);
  if (!p.any()) return x;
  // F.pad order: (left, right, top, bottom).
  return F::pad(x, F::PadFuncOptions({p.left, p.right, p.top, p.bottom}));
}

ConvBnImpl::ConvBnImpl(int in_channels, int out_channels, int kernel_size,
                       std::array<int, 2> strides, bool depthwise, bool relu,
                       const space::GlobalParams& params)
    : kernel_size(kernel_size),
      strides(strides),
      depthwise(depthwise),
      relu(relu),
      tf_same(params.tf_same_padding) {
  TORCH_CHECK(!depthwise || in_channels == out_channels,
              "depthwise conv needs in == out channels, got ", in_channels, " and ",
              out_channels);
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel_size)
                                    .stride({strides[0], strides[1]})
                                    .padding(tf_same ? 0 : kernel_size / 2)
                                    .groups(depthwise ? in_channels : 1)
                                    .bias(false)));
  // PyTorch momentum = 1 - TF decay (0.99 in the TF TPU code -> 0.01).
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels)
                                                        .momentum(1.0 - params.bn_decay)
                                                        .eps(params.bn_epsilon)));
}

torch::Tensor ConvBnImpl::forward(torch::Tensor x) {
  if (depthwise && x.size(2) == 1 && x.size(3) == 1) {
    // NOTE: an [N, C, 1, 1] map is contiguous in both layouts, and with NCHW
    // strides LibTorch 1.13 sends a depthwise conv down a path ~900x slower
    // than with channels-last ones (128 x 1152 at k5: 38 ms vs 0.04 ms). A
    // view with channels-last strides, no copy. MnasNet meets 1x1 maps in its
    // last stages at 32 px, i.e. in every Fashion-MNIST proxy.
    x = x.reshape({x.size(0), 1, 1, x.size(1)}).permute({0, 3, 1, 2});
  }
  if (tf_same) x = pad_same(x, kernel_size, strides);
  x = bn(conv(x));
  return relu ? torch::relu(x) : x;
}

ConvBn make_conv_bn(const ConvStep& c, const space::GlobalParams& params) {
  return ConvBn(c.in_channels, c.out_channels, c.kernel_size, c.strides, c.groups > 1, c.relu, params);
}

SqueezeExciteImpl::SqueezeExciteImpl(int channels, int squeeze) {
  reduce = register_module(
      "reduce", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeeze, 1).bias(true)));
  expand = register_module(
      "expand", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze, channels, 1).bias(true)));
}

torch::Tensor SqueezeExciteImpl::forward(torch::Tensor x) {
  auto s = x.mean({2, 3}, /*keepdim=*/true);
  s = torch::sigmoid(expand(torch::relu(reduce(s))));
  return x * s;
}

namespace {

// The eager emitter of a block's steps: each step runs the submodule built
// for it.
class EagerBlock : public Emitter<torch::Tensor> {
 public:
  explicit EagerBlock(BlockImpl& b) : b_(b) {}
  torch::Tensor conv(const torch::Tensor& x, const ConvStep& c) override {
    switch (c.part) {
      case Part::kExpand: return b_.expand(x);
      case Part::kDepthwise: return b_.depthwise(x);
      default: return b_.project(x);
    }
  }
  torch::Tensor squeeze_excite(const torch::Tensor& x, const SqueezeExciteStep&) override { return b_.se(x); }
  torch::Tensor residual(const torch::Tensor& y, const torch::Tensor& input, const ResidualStep& r) override {
    if (r.skip != space::SkipOp::kPool) return y + input;
    return y + F::avg_pool2d(input, F::AvgPool2dFuncOptions(r.pool_kernel)
                                        .stride({r.strides[0], r.strides[1]})
                                        .padding(r.pool_pad)
                                        .count_include_pad(false));
  }
  torch::Tensor classifier(const torch::Tensor& x, const ClassifierStep&) override {
    TORCH_CHECK(false, "a block has no classifier step");
    return x;
  }

 private:
  BlockImpl& b_;
};

}  // namespace

BlockImpl::BlockImpl(const space::LayerSpec& l, const space::GlobalParams& params)
    : spec(l), steps(layer_steps(l, params.tf_same_padding)) {
  TORCH_CHECK(l.kind == space::LayerKind::kBlock, "Block needs a block LayerSpec, got ",
              space::to_string(l.kind));
  // Registered in step order (checkpoint and parameters() order).
  for (const Step& s : steps) {
    if (s.kind == Step::kSqueezeExcite) {
      se = register_module("se", SqueezeExcite(s.se.channels, s.se.squeeze));
    } else if (s.kind == Step::kConv) {
      ConvBn m = register_module(part_name(s.conv.part), make_conv_bn(s.conv, params));
      switch (s.conv.part) {
        case Part::kExpand: expand = m; break;
        case Part::kDepthwise: depthwise = m; break;
        default: project = m; break;
      }
    }
  }
}

torch::Tensor BlockImpl::forward(torch::Tensor x) {
  EagerBlock e(*this);
  return emit_steps(steps, e, std::move(x));
}

ClassifierImpl::ClassifierImpl(int in_features, int num_classes, double dropout_rate)
    : dropout_rate(dropout_rate) {
  fc = register_module("fc", torch::nn::Linear(in_features, num_classes));
}

torch::Tensor ClassifierImpl::forward(torch::Tensor x) {
  x = x.mean({2, 3});
  if (dropout_rate > 0.0) x = F::dropout(x, F::DropoutFuncOptions().p(dropout_rate).training(is_training()));
  return fc(x);
}

torch::nn::AnyModule make_layer(const space::LayerSpec& l, const space::GlobalParams& params) {
  torch::nn::AnyModule m;
  switch (l.kind) {
    case space::LayerKind::kStem:
    case space::LayerKind::kHead:
      m = torch::nn::AnyModule(make_conv_bn(layer_steps(l, params.tf_same_padding)[0].conv, params));
      break;
    case space::LayerKind::kBlock: m = torch::nn::AnyModule(Block(l, params)); break;
    case space::LayerKind::kClassifier:
      m = torch::nn::AnyModule(Classifier(l.in_channels, l.out_channels, params.dropout_rate));
      break;
  }
  init_weights(*m.ptr());
  return m;
}

void init_weights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      const auto& w = conv->weight;
      const double fan_out = static_cast<double>(w.size(0)) / conv->options.groups() *
                             w.size(2) * w.size(3);
      w.normal_(0.0, std::sqrt(2.0 / fan_out));
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0);
    } else if (auto* fc = m->as<torch::nn::Linear>()) {
      // TF dense_kernel_initializer: bound 1/sqrt(shape[1]) with shape
      // [in, out], i.e. 1/sqrt(num_classes).
      const double bound = 1.0 / std::sqrt(static_cast<double>(fc->weight.size(0)));
      fc->weight.uniform_(-bound, bound);
      fc->bias.zero_();
    }
  }
}

}  // namespace mnas::model
