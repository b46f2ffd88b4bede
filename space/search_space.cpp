#include "space/search_space.h"

#include <cmath>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/json_file.h"
#include "space/block_codec.h"
#include "space/rounding.h"

namespace mnas::space {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw ConfigError("search space: " + where + ": " + what);
}

// The op, expansion ratio pair of a conv_op label.
std::pair<ConvOp, int> parse_conv_op(const std::string& where, const std::string& s) {
  if (s == "conv") return {ConvOp::kConv, 1};
  if (s == "sepconv") return {ConvOp::kSepConv, 1};
  if (s.rfind("mbconv", 0) == 0 && s.size() > 6) {
    int e = 0;
    for (size_t i = 6; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || e > kMaxExpandRatio) bad(where, "bad conv_op '" + s + "'");
      e = e * 10 + (s[i] - '0');
    }
    if (e >= 1 && e <= kMaxExpandRatio) return {ConvOp::kMBConv, e};
  }
  bad(where, "conv_op '" + s + "' is not one of conv, sepconv, mbconv<e> (e in 1..16)");
}

SkipOp parse_skip(const std::string& where, const std::string& s) {
  if (s == "pool") return SkipOp::kPool;
  if (s == "identity") return SkipOp::kIdentity;
  if (s == "none") return SkipOp::kNone;
  bad(where, "skip '" + s + "' is not one of pool, identity, none");
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

template <class T>
std::vector<T> read_list(const json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) bad(where, "expected a non-empty array");
  std::vector<T> out;
  for (const auto& v : j) {
    try {
      out.push_back(v.get<T>());
    } catch (const json::exception&) {
      bad(where, "unexpected value " + json_excerpt(v));
    }
  }
  std::set<T> unique(out.begin(), out.end());
  if (unique.size() != out.size()) bad(where, "duplicate choices");
  return out;
}

void read_choices(const json& j, const std::string& where, BlockChoices& c) {
  if (!j.is_object()) bad(where, "expected an object");
  for (const auto& [key, value] : j.items()) {
    const std::string at = where + "." + key;
    if (key == "conv_op") {
      c.conv_op = read_list<std::string>(value, at);
      for (const auto& s : c.conv_op) parse_conv_op(at, s);
    } else if (key == "kernel_size") {
      c.kernel_size = read_list<int>(value, at);
      for (int k : c.kernel_size) {
        if (k < 1 || k > kMaxKernelSize || k % 2 == 0) bad(at, "kernel sizes must be odd in 1..9");
      }
    } else if (key == "se_ratio") {
      c.se_ratio = read_list<double>(value, at);
      for (double v : c.se_ratio) {
        if (!(v >= 0.0 && v <= 1.0)) bad(at, "se ratios must be in [0, 1] (0 = no SE)");
      }
    } else if (key == "skip") {
      c.skip = read_list<std::string>(value, at);
      for (const auto& s : c.skip) parse_skip(at, s);
    } else if (key == "filter_multiplier") {
      c.filter_multiplier = read_list<double>(value, at);
      for (double v : c.filter_multiplier) {
        if (!(v > 0.0 && v <= 16.0)) bad(at, "multipliers must be in (0, 16]");
      }
    } else if (key == "repeat_delta") {
      c.repeat_delta = read_list<int>(value, at);
      for (int v : c.repeat_delta) {
        if (v < -kMaxRepeat || v > kMaxRepeat) bad(at, "repeat deltas must be in -64..64");
      }
    } else {
      bad(at, "unknown key (expected conv_op, kernel_size, se_ratio, skip, "
              "filter_multiplier, repeat_delta)");
    }
  }
}

int read_int(const json& j, const std::string& where, int lo, int hi) {
  if (!j.is_number_integer()) bad(where, "expected an integer, got " + json_excerpt(j));
  const auto v = j.get<int64_t>();
  if (v < lo || v > hi) {
    bad(where, "should be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                   std::to_string(v));
  }
  return static_cast<int>(v);
}

json choices_to_json(const BlockChoices& c) {
  return {{"conv_op", c.conv_op},         {"kernel_size", c.kernel_size},
          {"se_ratio", c.se_ratio},       {"skip", c.skip},
          {"filter_multiplier", c.filter_multiplier}, {"repeat_delta", c.repeat_delta}};
}

}  // namespace

SearchSpace SearchSpace::mnasnet_default() {
  SearchSpace s;
  // MobileNetV2 (Sandler et al. 2018, Table 2): c/n/s per block.
  const int widths[] = {16, 24, 32, 64, 96, 160, 320};
  const int repeats[] = {1, 2, 3, 4, 3, 3, 1};
  const int strides[] = {1, 2, 2, 2, 1, 2, 1};
  for (int i = 0; i < 7; ++i) s.skeleton_.push_back({widths[i], repeats[i], strides[i], {}});
  s.build_decisions();
  return s;
}

SearchSpace SearchSpace::from_json(const json& j) {
  if (!j.is_object()) bad("top level", "expected an object");
  SearchSpace s;
  BlockChoices shared;
  bool have_skeleton = false;
  std::vector<json> block_overrides;
  for (const auto& [key, value] : j.items()) {
    if (key == "stem_size") {
      s.stem_size_ = read_int(value, key, 1, kMaxFilters);
    } else if (key == "depth_divisor") {
      s.depth_divisor_ = read_int(value, key, 1, 256);
    } else if (key == "choices") {
      read_choices(value, "choices", shared);
    } else if (key == "skeleton") {
      have_skeleton = true;
      if (!value.is_array() || value.empty()) bad(key, "expected a non-empty array of blocks");
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string at = "skeleton[" + std::to_string(i) + "]";
        const json& b = value[i];
        if (!b.is_object()) bad(at, "expected an object");
        SkeletonBlock block;
        bool has_filters = false;
        for (const auto& [bk, bv] : b.items()) {
          if (bk == "filters") {
            block.filters = read_int(bv, at + ".filters", 1, kMaxFilters);
            has_filters = true;
          } else if (bk == "repeats") {
            block.repeats = read_int(bv, at + ".repeats", 1, kMaxRepeat);
          } else if (bk == "stride") {
            block.stride = read_int(bv, at + ".stride", 1, 9);
          } else if (bk != "choices") {
            bad(at + "." + bk, "unknown key (expected filters, repeats, stride, choices)");
          }
        }
        if (!has_filters) bad(at, "missing 'filters'");
        s.skeleton_.push_back(block);
        block_overrides.push_back(b.contains("choices") ? b["choices"] : json());
      }
    } else {
      bad(key, "unknown key (expected stem_size, depth_divisor, skeleton, choices)");
    }
  }
  if (!have_skeleton) bad("top level", "missing 'skeleton'");
  for (size_t i = 0; i < s.skeleton_.size(); ++i) {
    s.skeleton_[i].choices = shared;
    if (!block_overrides[i].is_null()) {
      read_choices(block_overrides[i], "skeleton[" + std::to_string(i) + "].choices",
                   s.skeleton_[i].choices);
    }
  }
  s.build_decisions();
  return s;
}

SearchSpace SearchSpace::from_file(const std::string& path) {
  // Strict JSON: bounded depth, no duplicate keys, no NUL bytes.
  const json j = load_json_file(path, "search space file");
  try {
    return from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

json SearchSpace::to_json() const {
  json skeleton = json::array();
  for (const auto& b : skeleton_) {
    skeleton.push_back({{"filters", b.filters},
                        {"repeats", b.repeats},
                        {"stride", b.stride},
                        {"choices", choices_to_json(b.choices)}});
  }
  return {{"stem_size", stem_size_}, {"depth_divisor", depth_divisor_}, {"skeleton", skeleton}};
}

int SearchSpace::block_filters(int block, int choice) const {
  const auto& b = skeleton_[block];
  return round_to_multiple(b.filters, b.choices.filter_multiplier[choice], depth_divisor_, 0);
}

void SearchSpace::build_decisions() {
  decisions_.clear();
  for (size_t i = 0; i < skeleton_.size(); ++i) {
    const auto& b = skeleton_[i];
    const auto& c = b.choices;
    const std::string p = "block" + std::to_string(i) + ".";
    Decision op{p + "conv_op", c.conv_op};
    Decision k{p + "kernel_size", {}};
    for (int v : c.kernel_size) k.labels.push_back(std::to_string(v));
    Decision se{p + "se_ratio", {}};
    for (double v : c.se_ratio) se.labels.push_back(format_number(v));
    Decision skip{p + "skip", c.skip};
    Decision f{p + "filters", {}};
    for (size_t m = 0; m < c.filter_multiplier.size(); ++m) {
      f.labels.push_back(std::to_string(block_filters(static_cast<int>(i), static_cast<int>(m))));
    }
    Decision r{p + "repeats", {}};
    for (int d : c.repeat_delta) r.labels.push_back(std::to_string(std::max(1, b.repeats + d)));
    for (auto* d : {&op, &k, &se, &skip, &f, &r}) decisions_.push_back(std::move(*d));
  }
}

std::vector<int> SearchSpace::choice_sizes() const {
  std::vector<int> sizes;
  for (const auto& d : decisions_) sizes.push_back(d.size());
  return sizes;
}

double SearchSpace::log10_size() const {
  double s = 0;
  for (const auto& d : decisions_) s += std::log10(static_cast<double>(d.size()));
  return s;
}

ArchSpec SearchSpace::decode(const std::vector<int>& actions) const {
  if (actions.size() != decisions_.size()) {
    throw ConfigError("search space: expected " + std::to_string(decisions_.size()) +
                      " decisions, got " + std::to_string(actions.size()));
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i] < 0 || actions[i] >= decisions_[i].size()) {
      throw ConfigError("search space: decision " + decisions_[i].name + " = " +
                        std::to_string(actions[i]) + " is out of range 0.." +
                        std::to_string(decisions_[i].size() - 1));
    }
  }
  ArchSpec arch;
  int in_filters = stem_size_;
  for (size_t i = 0; i < skeleton_.size(); ++i) {
    const auto& sk = skeleton_[i];
    const auto& c = sk.choices;
    const int* a = &actions[i * kDecisionsPerBlock];
    BlockArgs b;
    const auto [op, expand] = parse_conv_op("conv_op", c.conv_op[a[0]]);
    b.op = op;
    b.expand_ratio = expand;
    b.kernel_size = c.kernel_size[a[1]];
    b.se_ratio = c.se_ratio[a[2]];
    b.skip = parse_skip("skip", c.skip[a[3]]);
    b.output_filters = block_filters(static_cast<int>(i), a[4]);
    b.num_repeat = std::max(1, sk.repeats + c.repeat_delta[a[5]]);
    b.strides = {sk.stride, sk.stride};
    b.input_filters = in_filters;
    in_filters = b.output_filters;
    arch.blocks.push_back(b);
  }
  return arch;
}

GlobalParams SearchSpace::global_params(GlobalParams base) const {
  base.depth_multiplier.reset();
  base.stem_size = stem_size_;
  base.depth_divisor = depth_divisor_;
  return base;
}

std::vector<LayerSpec> SearchSpace::enumerate_layers(const GlobalParams& base) const {
  const GlobalParams params = global_params(base);
  validate(params);
  std::vector<LayerSpec> out;
  std::set<std::string> seen;
  auto add = [&](const LayerSpec& l) {
    if (seen.insert(layer_key(l)).second) out.push_back(l);
  };
  const LayerSpec stem = stem_layer(params);
  add(stem);
  std::set<int> in_options = {stem.out_channels};
  int h = stem.out_h, w = stem.out_w;
  for (size_t i = 0; i < skeleton_.size(); ++i) {
    const auto& sk = skeleton_[i];
    const auto& c = sk.choices;
    std::set<int> out_options;
    for (size_t m = 0; m < c.filter_multiplier.size(); ++m) {
      out_options.insert(block_filters(static_cast<int>(i), static_cast<int>(m)));
    }
    int max_repeats = 1;
    for (int d : c.repeat_delta) max_repeats = std::max(max_repeats, sk.repeats + d);
    const int out_h = same_out_size(h, sk.stride), out_w = same_out_size(w, sk.stride);
    for (const auto& op_label : c.conv_op) {
      const auto [op, expand] = parse_conv_op("conv_op", op_label);
      for (int k : c.kernel_size) {
        for (double se : c.se_ratio) {
          for (const auto& skip_label : c.skip) {
            BlockArgs b;
            b.op = op;
            b.expand_ratio = expand;
            b.kernel_size = k;
            b.se_ratio = se;
            b.skip = parse_skip("skip", skip_label);
            b.strides = {sk.stride, sk.stride};
            for (int o : out_options) {
              for (int p : in_options) add(block_layer(b, static_cast<int>(i), 0, p, p, o, h, w));
              if (max_repeats > 1) add(block_layer(b, static_cast<int>(i), 1, o, o, o, out_h, out_w));
            }
          }
        }
      }
    }
    in_options = out_options;
    h = out_h;
    w = out_w;
  }
  for (int p : in_options) add(head_layer(p, h, w, params));
  add(classifier_layer(h, w, params));
  return out;
}

}  // namespace mnas::space
