#include "space/counters.h"

namespace mnas::space {

LayerCost& LayerCost::operator+=(const LayerCost& o) {
  params += o.params;
  macs += o.macs;
  conv_macs += o.conv_macs;
  depthwise_macs += o.depthwise_macs;
  se_macs += o.se_macs;
  fc_macs += o.fc_macs;
  return *this;
}

namespace {

constexpr int64_t kBnParams = 2;  // gamma and beta per channel

// Adds a bias-free conv (+ BN) of `cin -> cout`, k x k, over an output map of
// `hw` pixels; `groups` = cin for depthwise.
void add_conv_bn(LayerCost& c, int64_t k, int64_t cin, int64_t cout, int64_t hw,
                 bool depthwise) {
  const int64_t weights = depthwise ? k * k * cout : k * k * cin * cout;
  c.params += weights + kBnParams * cout;
  (depthwise ? c.depthwise_macs : c.conv_macs) += hw * weights;
}

// Squeeze-excite over `f` channels with a squeeze width of `r`: two 1x1 convs
// with biases on the pooled 1x1 tensor.
void add_se(LayerCost& c, int64_t f, int64_t r) {
  if (r == 0) return;
  c.params += f * r + r + r * f + f;
  c.se_macs += f * r + r * f;
}

}  // namespace

LayerCost layer_cost(const LayerSpec& l) {
  LayerCost c;
  const int64_t in_hw = static_cast<int64_t>(l.in_h) * l.in_w;
  const int64_t out_hw = static_cast<int64_t>(l.out_h) * l.out_w;
  const int64_t k = l.kernel_size;
  switch (l.kind) {
    case LayerKind::kStem:
    case LayerKind::kHead:
      add_conv_bn(c, k, l.in_channels, l.out_channels, out_hw, false);
      break;
    case LayerKind::kClassifier:
      c.params = static_cast<int64_t>(l.in_channels) * l.out_channels + l.out_channels;
      c.fc_macs = static_cast<int64_t>(l.in_channels) * l.out_channels;
      break;
    case LayerKind::kBlock: {
      const int64_t f = l.expanded_channels;
      switch (l.op) {
        case ConvOp::kMBConv:
          if (l.expand_ratio != 1) add_conv_bn(c, 1, l.in_channels, f, in_hw, false);
          add_conv_bn(c, k, f, f, out_hw, true);
          add_se(c, f, l.se_channels);
          add_conv_bn(c, 1, f, l.out_channels, out_hw, false);
          break;
        case ConvOp::kSepConv:
          add_conv_bn(c, k, f, f, out_hw, true);
          add_se(c, f, l.se_channels);
          add_conv_bn(c, 1, f, l.out_channels, out_hw, false);
          break;
        case ConvOp::kConv:
          add_conv_bn(c, k, l.in_channels, l.out_channels, out_hw, false);
          add_se(c, f, l.se_channels);
          break;
      }
      break;
    }
  }
  c.macs = c.conv_macs + c.depthwise_macs + c.se_macs + c.fc_macs;
  return c;
}

ModelCost model_cost(const std::vector<LayerSpec>& layers) {
  ModelCost m;
  m.layers.reserve(layers.size());
  for (const auto& l : layers) {
    m.layers.push_back(layer_cost(l));
    m.total += m.layers.back();
  }
  return m;
}

}  // namespace mnas::space
