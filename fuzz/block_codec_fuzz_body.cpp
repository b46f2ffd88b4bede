#include "fuzz/block_codec_fuzz_body.h"

#include <exception>
#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/layer_spec.h"

namespace mnas::fuzz {
namespace {

using space::ArchSpec;
using space::BlockArgs;
using space::ConvOp;

// Input bytes as a C++ string literal body, for failure reports.
std::string escaped(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Thrown inside this file when an invariant breaks; caught at the top.
struct Violation {
  std::string what;
};

[[noreturn]] void violated(const std::string& what) { throw Violation{what}; }

void check_limits(const BlockArgs& b, const std::string& s) {
  const bool ok =
      b.num_repeat >= 1 && b.num_repeat <= space::kMaxRepeat && b.kernel_size >= 1 &&
      b.kernel_size <= space::kMaxKernelSize && b.kernel_size % 2 == 1 && b.strides[0] >= 1 &&
      b.strides[0] <= 9 && b.strides[1] >= 1 && b.strides[1] <= 9 && b.expand_ratio >= 1 &&
      b.expand_ratio <= space::kMaxExpandRatio &&
      (b.op == ConvOp::kMBConv || b.expand_ratio == 1) && b.input_filters >= 1 &&
      b.input_filters <= space::kMaxFilters && b.output_filters >= 1 &&
      b.output_filters <= space::kMaxFilters &&
      (b.se_ratio == 0.0 || (b.se_ratio > 0.0 && b.se_ratio <= 1.0));
  if (!ok) violated("decoded block '" + escaped(s) + "' is outside the documented limits");
}

// Round trip of one block that decoded: encode, decode, encode again.
void check_block_round_trip(const BlockArgs& b, const std::string& s) {
  std::string enc, enc2;
  BlockArgs b2;
  try {
    enc = space::encode_block(b);
    b2 = space::decode_block(enc);
    enc2 = space::encode_block(b2);
  } catch (const Error& e) {
    violated("block '" + escaped(s) + "' decoded but its round trip threw: " + e.what());
  }
  if (b2 != b) violated("decode(encode(b)) != b for '" + escaped(s) + "' (encoded '" + enc + "')");
  if (enc2 != enc) {
    violated("encoding is not stable for '" + escaped(s) + "': '" + enc + "' then '" + enc2 + "'");
  }
}

void check_arch_round_trip(const ArchSpec& arch) {
  std::string line, line2;
  ArchSpec arch2;
  try {
    line = space::arch_to_string(arch);
    arch2 = space::decode_arch(space::split_block_strings(line));
    line2 = space::arch_to_string(arch2);
  } catch (const Error& e) {
    violated(std::string("architecture round trip threw: ") + e.what());
  }
  if (arch2 != arch) violated("decode_arch(arch_to_string(arch)) != arch: '" + line + "'");
  if (line2 != line) violated("arch_to_string is not stable: '" + line + "' then '" + line2 + "'");
}

// Small, valid GlobalParams: the fuzzer looks for crashes, not big numbers.
std::vector<space::GlobalParams> small_params() {
  std::vector<space::GlobalParams> out;
  space::GlobalParams p;
  p.image_size = 1;
  out.push_back(p);
  p.image_size = 7;
  p.depth_multiplier = 1.4;
  p.input_channels = 1;
  p.num_classes = 10;
  out.push_back(p);
  p.image_size = 32;
  p.depth_multiplier = 0.35;
  p.stem_size = 8;
  p.min_depth = 16;
  p.head_size = 64;
  out.push_back(p);
  return out;
}

void check_layers(const ArchSpec& arch, const space::GlobalParams& p) {
  std::vector<space::LayerSpec> layers;
  space::ModelCost cost;
  try {
    layers = space::expand_layers(arch, p);
    cost = space::model_cost(layers);
  } catch (const std::exception& e) {
    // The architecture decoded and the params are valid: nothing may throw.
    violated(std::string("expand_layers/model_cost threw on a decoded arch: ") + e.what());
  }
  size_t expected = 3;  // stem, head, classifier
  for (const BlockArgs& b : arch.blocks) expected += static_cast<size_t>(b.num_repeat);
  if (layers.size() != expected || cost.layers.size() != expected) {
    violated("expand_layers returned " + std::to_string(layers.size()) + " layers, expected " +
             std::to_string(expected));
  }
  space::LayerCost sum;
  for (size_t n = 0; n < layers.size(); ++n) {
    const space::LayerSpec& l = layers[n];
    const space::LayerCost& c = cost.layers[n];
    if (l.in_channels < 1 || l.out_channels < 1 || l.expanded_channels < 1 || l.se_channels < 0 ||
        l.in_h < 1 || l.in_w < 1 || l.out_h < 1 || l.out_w < 1 || l.out_h > l.in_h ||
        l.out_w > l.in_w) {
      violated("layer " + std::to_string(n) + " has an impossible shape");
    }
    if (c.params < 0 || c.conv_macs < 0 || c.depthwise_macs < 0 || c.se_macs < 0 ||
        c.fc_macs < 0 || c.macs != c.conv_macs + c.depthwise_macs + c.se_macs + c.fc_macs) {
      violated("layer " + std::to_string(n) + " has inconsistent counts");
    }
    sum += c;
  }
  if (sum.params != cost.total.params || sum.macs != cost.total.macs) {
    violated("model_cost total is not the sum of its layers");
  }
}

void run(std::string_view line, FuzzOutcome& out) {
  const std::vector<std::string> strings = space::split_block_strings(line);
  for (const std::string& s : strings) {
    std::optional<BlockArgs> b;
    try {
      b = space::decode_block(s);
    } catch (const ParseError&) {
      ++out.blocks_rejected;
    } catch (const ConfigError&) {
      ++out.blocks_rejected;
    }
    if (!b) continue;
    ++out.blocks_decoded;
    check_limits(*b, s);
    check_block_round_trip(*b, s);
  }

  ArchSpec arch;
  const bool all_decoded = !strings.empty() && out.blocks_rejected == 0;
  try {
    arch = space::decode_arch(strings);
  } catch (const ParseError&) {
    if (all_decoded) violated("decode_arch rejected a line whose every block decoded");
    return;
  } catch (const ConfigError&) {
    if (all_decoded) violated("decode_arch rejected a line whose every block decoded");
    return;
  }
  out.arch_decoded = true;
  if (!all_decoded) violated("decode_arch accepted a line with a rejected block");
  if (arch.blocks.size() != strings.size()) violated("decode_arch lost or added stages");
  check_arch_round_trip(arch);
  for (const space::GlobalParams& p : small_params()) check_layers(arch, p);
}

}  // namespace

FuzzOutcome mnas_fuzz_one_input(const uint8_t* data, size_t size) {
  FuzzOutcome out;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  try {
    run(line, out);
  } catch (const Violation& v) {
    out.failure = v.what;
  } catch (const std::exception& e) {
    out.failure = std::string("unexpected exception: ") + e.what();
  } catch (...) {
    out.failure = "unexpected non-std exception";
  }
  if (!out.failure.empty()) out.failure += "\n  input: \"" + escaped(line) + "\"";
  return out;
}

}  // namespace mnas::fuzz
