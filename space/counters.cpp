#include "space/counters.h"

#include "common/error.h"

namespace mnas::space {

namespace {

// Checked 64-bit arithmetic: the decoder's limits allow models (4096 px,
// 16384 channels, 64 repeats) whose counts do not fit in int64.
int64_t mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw ConfigError("model too large: a count overflows 64 bits");
  return r;
}
int64_t mul(int64_t a, int64_t b, int64_t c) { return mul(mul(a, b), c); }
void add_to(int64_t& acc, int64_t v) {
  if (__builtin_add_overflow(acc, v, &acc)) {
    throw ConfigError("model too large: a count overflows 64 bits");
  }
}

}  // namespace

LayerCost& LayerCost::operator+=(const LayerCost& o) {
  add_to(params, o.params);
  add_to(macs, o.macs);
  add_to(conv_macs, o.conv_macs);
  add_to(depthwise_macs, o.depthwise_macs);
  add_to(se_macs, o.se_macs);
  add_to(fc_macs, o.fc_macs);
  return *this;
}

namespace {

constexpr int64_t kBnParams = 2;  // gamma and beta per channel

// Adds a bias-free conv (+ BN) of `cin -> cout`, k x k, over an output map of
// `hw` pixels; `groups` = cin for depthwise.
void add_conv_bn(LayerCost& c, int64_t k, int64_t cin, int64_t cout, int64_t hw,
                 bool depthwise) {
  const int64_t weights = depthwise ? mul(k, k, cout) : mul(mul(k, k, cin), cout);
  add_to(c.params, weights + kBnParams * cout);
  add_to(depthwise ? c.depthwise_macs : c.conv_macs, mul(hw, weights));
}

// Squeeze-excite over `f` channels with a squeeze width of `r`: two 1x1 convs
// with biases on the pooled 1x1 tensor.
void add_se(LayerCost& c, int64_t f, int64_t r) {
  if (r == 0) return;
  add_to(c.params, 2 * mul(f, r) + r + f);
  add_to(c.se_macs, 2 * mul(f, r));
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
  for (int64_t part : {c.conv_macs, c.depthwise_macs, c.se_macs, c.fc_macs}) add_to(c.macs, part);
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
