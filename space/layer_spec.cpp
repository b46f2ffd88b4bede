#include "space/layer_spec.h"

#include <algorithm>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/rounding.h"

namespace mnas::space {

const char* to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::kStem: return "stem";
    case LayerKind::kBlock: return "block";
    case LayerKind::kHead: return "head";
    case LayerKind::kClassifier: return "classifier";
  }
  return "?";
}

bool operator==(const LayerSpec& a, const LayerSpec& b) {
  return a.kind == b.kind && a.op == b.op && a.stage == b.stage && a.index == b.index &&
         a.kernel_size == b.kernel_size && a.strides == b.strides &&
         a.expand_ratio == b.expand_ratio && a.in_channels == b.in_channels &&
         a.in_filters_declared == b.in_filters_declared &&
         a.expanded_channels == b.expanded_channels && a.out_channels == b.out_channels &&
         a.se_channels == b.se_channels && a.skip == b.skip && a.residual == b.residual &&
         a.in_h == b.in_h && a.in_w == b.in_w && a.out_h == b.out_h && a.out_w == b.out_w;
}

void validate(const GlobalParams& p) {
  auto bad = [](const std::string& what) { throw ConfigError(what); };
  if (p.depth_multiplier && !(*p.depth_multiplier > 0.0 && *p.depth_multiplier <= 16.0)) {
    bad("depth_multiplier should be in (0, 16], got " + std::to_string(*p.depth_multiplier));
  }
  if (p.depth_divisor < 1) bad("depth_divisor should be >= 1, got " + std::to_string(p.depth_divisor));
  if (p.min_depth < 0) bad("min_depth should be >= 0, got " + std::to_string(p.min_depth));
  if (p.stem_size < 1) bad("stem_size should be >= 1, got " + std::to_string(p.stem_size));
  if (p.head_size < 1) bad("head_size should be >= 1, got " + std::to_string(p.head_size));
  if (p.num_classes < 1) bad("num_classes should be >= 1, got " + std::to_string(p.num_classes));
  if (!(p.dropout_rate >= 0.0 && p.dropout_rate < 1.0)) {
    bad("dropout_rate should be in [0, 1), got " + std::to_string(p.dropout_rate));
  }
  if (!(p.bn_decay >= 0.0 && p.bn_decay < 1.0)) {
    bad("bn_decay should be in [0, 1), got " + std::to_string(p.bn_decay));
  }
  if (!(p.bn_epsilon > 0.0)) bad("bn_epsilon should be > 0, got " + std::to_string(p.bn_epsilon));
  if (p.image_size < 1 || p.image_size > 4096) {
    bad("image_size should be in 1..4096, got " + std::to_string(p.image_size));
  }
  if (p.input_channels < 1 || p.input_channels > 64) {
    bad("input_channels should be in 1..64, got " + std::to_string(p.input_channels));
  }
}

LayerSpec block_layer(const BlockArgs& b, int stage, int index, int in_channels,
                      int in_filters, int out_filters, int in_h, int in_w) {
  LayerSpec l;
  l.kind = LayerKind::kBlock;
  l.op = b.op;
  l.stage = stage;
  l.index = index;
  l.kernel_size = b.kernel_size;
  l.strides = index == 0 ? b.strides : std::array<int, 2>{1, 1};
  l.expand_ratio = b.expand_ratio;
  l.in_channels = in_channels;
  l.in_filters_declared = in_filters;
  l.out_channels = out_filters;
  // NOTE: the expansion width comes from the declared filters, but with no
  // expansion conv the depthwise runs on whatever arrives (reference
  // MnasBlock; matters for mnasnet-small's 8-channel stem vs i16).
  switch (b.op) {
    case ConvOp::kMBConv:
      l.expanded_channels = b.expand_ratio == 1 ? in_channels : in_filters * b.expand_ratio;
      break;
    case ConvOp::kSepConv: l.expanded_channels = in_channels; break;
    case ConvOp::kConv: l.expanded_channels = out_filters; break;
  }
  if (b.has_se()) l.se_channels = std::max(1, static_cast<int>(in_filters * b.se_ratio));
  l.skip = b.skip;
  // Reference rule: the declared (rounded) widths decide. NOTE: the actual
  // width must match too, or the add would fail on a shape mismatch (the
  // reference would crash there); no reference model hits this.
  const bool same_width = in_filters == out_filters && in_channels == out_filters;
  const bool unit_stride = l.strides[0] == 1 && l.strides[1] == 1;
  l.residual = (b.skip == SkipOp::kIdentity && same_width && unit_stride) ||
               (b.skip == SkipOp::kPool && same_width);
  l.in_h = in_h, l.in_w = in_w;
  l.out_h = same_out_size(in_h, l.strides[0]);
  l.out_w = same_out_size(in_w, l.strides[1]);
  return l;
}

LayerSpec stem_layer(const GlobalParams& params) {
  LayerSpec stem;
  stem.kind = LayerKind::kStem;
  stem.kernel_size = 3;
  stem.strides = {2, 2};
  stem.in_channels = stem.in_filters_declared = params.input_channels;
  stem.out_channels = stem.expanded_channels = round_filters(params.stem_size, params);
  stem.skip = SkipOp::kNone;
  stem.in_h = stem.in_w = params.image_size;
  stem.out_h = stem.out_w = same_out_size(params.image_size, 2);
  return stem;
}

LayerSpec head_layer(int in_channels, int h, int w, const GlobalParams& params) {
  LayerSpec head;
  head.kind = LayerKind::kHead;
  head.in_channels = head.in_filters_declared = in_channels;
  head.out_channels = head.expanded_channels = params.head_size;
  head.skip = SkipOp::kNone;
  head.in_h = head.out_h = h;
  head.in_w = head.out_w = w;
  return head;
}

LayerSpec classifier_layer(int h, int w, const GlobalParams& params) {
  LayerSpec fc;
  fc.kind = LayerKind::kClassifier;
  fc.in_channels = fc.in_filters_declared = params.head_size;
  fc.out_channels = fc.expanded_channels = params.num_classes;
  fc.skip = SkipOp::kNone;
  fc.in_h = h, fc.in_w = w;
  fc.out_h = fc.out_w = 1;
  return fc;
}

std::vector<LayerSpec> expand_layers(const ArchSpec& arch, const GlobalParams& params) {
  validate(params);
  if (arch.blocks.empty()) throw ParseError("architecture has no stages");

  std::vector<LayerSpec> layers;
  layers.push_back(stem_layer(params));
  int channels = layers.back().out_channels;
  int h = layers.back().out_h, w = layers.back().out_w;
  for (size_t s = 0; s < arch.blocks.size(); ++s) {
    const BlockArgs& b = arch.blocks[s];
    // Hand-built BlockArgs get the decoder's checks too (encode_block
    // validates by decoding): no stride 0, even kernel or width 0 gets past.
    try {
      encode_block(b);
    } catch (const ParseError& e) {
      throw ParseError("stage " + std::to_string(s) + ": " + e.what());
    }
    const int out_filters = round_filters(b.output_filters, params);
    int in_filters = round_filters(b.input_filters, params);
    for (int r = 0; r < b.num_repeat; ++r) {
      layers.push_back(
          block_layer(b, static_cast<int>(s), r, channels, in_filters, out_filters, h, w));
      h = layers.back().out_h;
      w = layers.back().out_w;
      channels = in_filters = out_filters;
    }
  }
  layers.push_back(head_layer(channels, h, w, params));
  layers.push_back(classifier_layer(h, w, params));
  return layers;
}

std::string layer_key(const LayerSpec& l) {
  std::string key = to_string(l.kind);
  if (l.kind == LayerKind::kBlock) {
    key += std::string(":") + to_string(l.op) + ":k" + std::to_string(l.kernel_size) + ":s" +
           std::to_string(l.strides[0]) + std::to_string(l.strides[1]) + ":e" +
           std::to_string(l.op == ConvOp::kMBConv ? l.expand_ratio : 1) + ":f" +
           std::to_string(l.expanded_channels) + ":se" + std::to_string(l.se_channels) + ":" +
           (l.residual ? (l.skip == SkipOp::kPool ? "pool" : "identity") : "none");
  } else if (l.kind != LayerKind::kClassifier) {
    key += ":k" + std::to_string(l.kernel_size) + ":s" + std::to_string(l.strides[0]) +
           std::to_string(l.strides[1]);
  }
  key += ":" + std::to_string(l.in_h) + "x" + std::to_string(l.in_w) + "x" +
         std::to_string(l.in_channels) + ":o" + std::to_string(l.out_channels);
  return key;
}

}  // namespace mnas::space
