#include "space/describe.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace mnas::space {
namespace {

std::string shape(int h, int w, int c) {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

std::string layer_name(const LayerSpec& l) {
  if (l.kind != LayerKind::kBlock) return to_string(l.kind);
  return "s" + std::to_string(l.stage) + "." + std::to_string(l.index);
}

std::string op_name(const LayerSpec& l) {
  switch (l.kind) {
    case LayerKind::kStem: return "conv";
    case LayerKind::kHead: return "conv1x1";
    case LayerKind::kClassifier: return "pool+fc";
    case LayerKind::kBlock: break;
  }
  return to_string(l.op);
}

std::string skip_name(const LayerSpec& l) {
  if (l.kind != LayerKind::kBlock) return "-";
  if (l.residual) return l.skip == SkipOp::kPool ? "pool" : "id";
  // Requested but not applicable (shape change) is shown in parentheses.
  if (l.skip == SkipOp::kNone) return "none";
  return l.skip == SkipOp::kPool ? "(pool)" : "(id)";
}

}  // namespace

std::string group_thousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string format_layer_table(const std::vector<LayerSpec>& layers, const ModelCost& cost) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %-8s %2s %3s %3s %4s %-6s %14s %14s %12s %14s\n",
                "layer", "op", "k", "s", "e", "se", "skip", "input", "output", "params", "MACs");
  out << line << std::string(std::char_traits<char>::length(line) - 1, '-') << '\n';
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const bool block = l.kind == LayerKind::kBlock;
    const bool conv = l.kind != LayerKind::kClassifier;
    const std::string stride =
        !conv ? "-" : l.strides[0] == l.strides[1] ? std::to_string(l.strides[0])
                                                   : std::to_string(l.strides[0]) + std::to_string(l.strides[1]);
    const std::string se = l.se_channels > 0 ? std::to_string(l.se_channels) : "-";
    const std::string expand =
        block && l.op == ConvOp::kMBConv ? std::to_string(l.expand_ratio) : "-";
    std::snprintf(line, sizeof line, "%-10s %-8s %2s %3s %3s %4s %-6s %14s %14s %12s %14s\n",
                  layer_name(l).c_str(), op_name(l).c_str(),
                  conv ? std::to_string(l.kernel_size).c_str() : "-", stride.c_str(),
                  expand.c_str(), se.c_str(), skip_name(l).c_str(),
                  shape(l.in_h, l.in_w, l.in_channels).c_str(),
                  shape(l.out_h, l.out_w, l.out_channels).c_str(),
                  group_thousands(cost.layers[i].params).c_str(),
                  group_thousands(cost.layers[i].macs).c_str());
    out << line;
  }
  const auto& t = cost.total;
  out << "\ntotal: " << group_thousands(t.params) << " params, " << group_thousands(t.macs)
      << " MACs (conv " << group_thousands(t.conv_macs) << ", depthwise "
      << group_thousands(t.depthwise_macs) << ", SE " << group_thousands(t.se_macs) << ", FC "
      << group_thousands(t.fc_macs) << ")\n";
  out << "se = squeeze width; skip: id/pool = residual added, (x) = requested but shapes "
         "differ, so none\n";
  return out.str();
}

nlohmann::json layers_to_json(const std::vector<LayerSpec>& layers, const ModelCost& cost) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    nlohmann::json j = {
        {"name", layer_name(l)},
        {"kind", to_string(l.kind)},
        {"op", op_name(l)},
        {"kernel_size", l.kernel_size},
        {"strides", {l.strides[0], l.strides[1]}},
        {"expand_ratio", l.expand_ratio},
        {"se_channels", l.se_channels},
        {"skip", to_string(l.skip)},
        {"residual", l.residual},
        {"in_channels", l.in_channels},
        {"expanded_channels", l.expanded_channels},
        {"out_channels", l.out_channels},
        {"input_shape", {l.in_h, l.in_w, l.in_channels}},
        {"output_shape", {l.out_h, l.out_w, l.out_channels}},
        {"params", cost.layers[i].params},
        {"macs", cost.layers[i].macs},
    };
    if (l.kind == LayerKind::kBlock) {
      j["stage"] = l.stage;
      j["index"] = l.index;
      j["input_filters_declared"] = l.in_filters_declared;
    }
    list.push_back(std::move(j));
  }
  const auto& t = cost.total;
  return {{"params", t.params},
          {"macs", t.macs},
          {"macs_breakdown",
           {{"conv", t.conv_macs}, {"depthwise", t.depthwise_macs}, {"se", t.se_macs}, {"fc", t.fc_macs}}},
          {"layers", std::move(list)}};
}

std::string describe_space(const SearchSpace& space) {
  std::ostringstream out;
  out << "search space: " << space.skeleton().size() << " blocks, " << space.decisions().size()
      << " decisions, stem " << space.stem_size() << ", divisor " << space.depth_divisor()
      << "\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-20s %7s  %s\n", "decision", "choices", "labels");
  out << line;
  double per_block = 1;
  for (size_t i = 0; i < space.decisions().size(); ++i) {
    const auto& d = space.decisions()[i];
    std::string labels;
    for (const auto& l : d.labels) labels += (labels.empty() ? "" : ", ") + l;
    std::snprintf(line, sizeof line, "%-20s %7d  %s\n", d.name.c_str(), d.size(), labels.c_str());
    out << line;
    if (i < static_cast<size_t>(kDecisionsPerBlock)) per_block *= d.size();
  }
  char size[64];
  std::snprintf(size, sizeof size, "%.3g", std::pow(10.0, space.log10_size()));
  out << "\nchoices per block (block 0): " << per_block << "; architectures: " << size
      << " (10^" << std::to_string(space.log10_size()).substr(0, 5) << ")\n";
  return out.str();
}

nlohmann::json params_to_json(const GlobalParams& p) {
  return {{"depth_multiplier", p.depth_multiplier ? nlohmann::json(*p.depth_multiplier) : nlohmann::json()},
          {"depth_divisor", p.depth_divisor},
          {"min_depth", p.min_depth},
          {"stem_size", p.stem_size},
          {"head_size", p.head_size},
          {"num_classes", p.num_classes},
          {"dropout_rate", p.dropout_rate},
          {"bn_decay", p.bn_decay},
          {"bn_epsilon", p.bn_epsilon},
          {"image_size", p.image_size},
          {"input_channels", p.input_channels},
          {"tf_same_padding", p.tf_same_padding}};
}

}  // namespace mnas::space
