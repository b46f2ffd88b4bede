#include "model/network_walk.h"

#include <algorithm>

namespace mnas::model {

int same_pad_total(int in, int stride, int kernel_size) {
  return std::max((space::same_out_size(in, stride) - 1) * stride + kernel_size - in, 0);
}

Padding conv_padding(int in_h, int in_w, int kernel_size, std::array<int, 2> strides, bool tf_same) {
  if (!tf_same) {
    const int p = kernel_size / 2;
    return {p, p, p, p};
  }
  const int ph = same_pad_total(in_h, strides[0], kernel_size);
  const int pw = same_pad_total(in_w, strides[1], kernel_size);
  return {ph / 2, pw / 2, ph - ph / 2, pw - pw / 2};
}

const char* part_name(Part part) {
  switch (part) {
    case Part::kSelf: return "";
    case Part::kExpand: return "expand";
    case Part::kDepthwise: return "depthwise";
    case Part::kProject: return "project";
    case Part::kPointwise: return "pointwise";
    case Part::kConv: return "conv";
    case Part::kSe: return "se";
  }
  return "";
}

std::string weight_key(const std::string& module, const std::string& leaf) {
  return module.empty() ? leaf : module + "." + leaf;
}

std::string layer_scope(const space::LayerSpec& l, int block_index) {
  switch (l.kind) {
    case space::LayerKind::kStem: return "stem";
    case space::LayerKind::kBlock: return "blocks." + std::to_string(block_index);
    case space::LayerKind::kHead: return "head";
    case space::LayerKind::kClassifier: return "classifier";
  }
  return "";
}

namespace {

Step conv_step(const std::string& scope, Part part, int in_c, int out_c, int k, std::array<int, 2> strides,
               bool depthwise, bool relu, int in_h, int in_w, bool tf_same) {
  Step s;
  s.kind = Step::kConv;
  ConvStep& c = s.conv;
  c.module = part == Part::kSelf ? scope : weight_key(scope, part_name(part));
  c.part = part;
  c.in_channels = in_c;
  c.out_channels = out_c;
  c.kernel_size = k;
  c.strides = strides;
  c.groups = depthwise ? in_c : 1;
  c.tf_same = tf_same;
  c.pad = conv_padding(in_h, in_w, k, strides, tf_same);
  c.relu = relu;
  c.in_h = in_h;
  c.in_w = in_w;
  c.out_h = space::same_out_size(in_h, strides[0]);
  c.out_w = space::same_out_size(in_w, strides[1]);
  return s;
}

}  // namespace

std::vector<Step> layer_steps(const space::LayerSpec& l, bool tf_same, const std::string& scope) {
  constexpr std::array<int, 2> kUnit = {1, 1};
  std::vector<Step> steps;
  switch (l.kind) {
    case space::LayerKind::kStem:
    case space::LayerKind::kHead:
      steps.push_back(conv_step(scope, Part::kSelf, l.in_channels, l.out_channels, l.kernel_size, l.strides,
                                false, true, l.in_h, l.in_w, tf_same));
      return steps;
    case space::LayerKind::kClassifier: {
      Step s;
      s.kind = Step::kClassifier;
      s.classifier = {scope, l.in_channels, l.out_channels};
      steps.push_back(s);
      return steps;
    }
    case space::LayerKind::kBlock: break;
  }
  const int f = l.expanded_channels;
  auto se = [&] {
    if (l.se_channels <= 0) return;
    Step s;
    s.kind = Step::kSqueezeExcite;
    s.se = {weight_key(scope, part_name(Part::kSe)), f, l.se_channels};
    steps.push_back(s);
  };
  switch (l.op) {
    case space::ConvOp::kMBConv:
      if (l.expand_ratio != 1) {
        steps.push_back(conv_step(scope, Part::kExpand, l.in_channels, f, 1, kUnit, false, true, l.in_h, l.in_w,
                                  tf_same));
      }
      steps.push_back(conv_step(scope, Part::kDepthwise, f, f, l.kernel_size, l.strides, true, true, l.in_h,
                                l.in_w, tf_same));
      se();
      steps.push_back(conv_step(scope, Part::kProject, f, l.out_channels, 1, kUnit, false, false, l.out_h,
                                l.out_w, tf_same));
      break;
    case space::ConvOp::kSepConv:
      steps.push_back(conv_step(scope, Part::kDepthwise, f, f, l.kernel_size, l.strides, true, true, l.in_h,
                                l.in_w, tf_same));
      se();
      steps.push_back(conv_step(scope, Part::kPointwise, f, l.out_channels, 1, kUnit, false, true, l.out_h,
                                l.out_w, tf_same));
      break;
    case space::ConvOp::kConv:
      steps.push_back(conv_step(scope, Part::kConv, l.in_channels, l.out_channels, l.kernel_size, l.strides,
                                false, true, l.in_h, l.in_w, tf_same));
      se();
      break;
  }
  if (l.residual) {
    Step s;
    s.kind = Step::kResidual;
    s.residual.skip = l.skip == space::SkipOp::kPool ? space::SkipOp::kPool : space::SkipOp::kIdentity;
    s.residual.strides = l.strides;
    steps.push_back(s);
  }
  return steps;
}

}  // namespace mnas::model
