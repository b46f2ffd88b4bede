#include "space/named_archs.h"

#include "common/error.h"
#include "space/block_codec.h"

namespace mnas::space {
namespace {

GlobalParams params_with(int stem_size, double dropout_rate) {
  GlobalParams p;
  p.stem_size = stem_size;
  p.dropout_rate = dropout_rate;
  return p;
}

const std::vector<NamedArch>& table() {
  static const std::vector<NamedArch> kTable = {
      {"mnasnet-a1",
       "MnasNet-A1 (paper Fig. 7): 75.2% top-1, 3.9M params, 312M MACs",
       {"r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24",
        "r3_k5_s22_e3_i24_o40_se0.25", "r4_k3_s22_e6_i40_o80",
        "r2_k3_s11_e6_i80_o112_se0.25", "r3_k5_s22_e6_i112_o160_se0.25",
        "r1_k3_s11_e6_i160_o320"},
       params_with(32, 0.2)},
      {"mnasnet-b1",
       "MnasNet-B1, searched without SE (torchvision mnasnet1_0): 4.4M params",
       {"r1_k3_s11_e1_i32_o16_noskip", "r3_k3_s22_e3_i16_o24",
        "r3_k5_s22_e3_i24_o40", "r3_k5_s22_e6_i40_o80", "r2_k3_s11_e6_i80_o96",
        "r4_k5_s22_e6_i96_o192", "r1_k3_s11_e6_i192_o320_noskip"},
       params_with(32, 0.2)},
      {"mnasnet-small",
       "MnasNet-small (paper Table 4 search2): ~66% top-1, 2.0M params, 68M MACs",
       {"r1_k3_s11_e1_i16_o8", "r1_k3_s22_e3_i8_o16", "r2_k3_s22_e6_i16_o16",
        "r4_k5_s22_e6_i16_o32_se0.25", "r3_k3_s11_e6_i32_o32_se0.25",
        "r3_k5_s22_e6_i32_o88_se0.25", "r1_k3_s11_e6_i88_o144"},
       params_with(8, 0.0)},
      {"mnasnet-d1",
       "MnasNet-D1, the backbone searched jointly for MnasFPN",
       {"r1_k3_s11_e9_i32_o24", "r3_k3_s22_e9_i24_o36", "r5_k3_s22_e9_i36_o48",
        "r4_k5_s22_e9_i48_o96", "r5_k7_s11_e3_i96_o96", "r3_k3_s22_e9_i96_o80",
        "r1_k7_s11_e6_i80_o320_noskip"},
       params_with(32, 0.2)},
      {"mnasnet-d1-320",
       "MnasNet-D1 searched for 320x320 input",
       {"r3_k5_s11_e6_i32_o24", "r4_k7_s22_e9_i24_o36", "r5_k5_s22_e9_i36_o48",
        "r5_k7_s22_e6_i48_o96", "r5_k3_s11_e9_i96_o144", "r5_k5_s22_e6_i144_o160",
        "r1_k7_s11_e9_i160_o320"},
       params_with(32, 0.2)},
      // MobileNetV2 1.0 (Sandler et al. 2018, Table 2): t/c/n/s rows
      // 1/16/1/1, 6/24/2/2, 6/32/3/2, 6/64/4/2, 6/96/3/1, 6/160/3/2,
      // 6/320/1/1, kernel 3 throughout, stem 32, head 1280. NOTE: MobileNetV2
      // uses ReLU6; mnas builds it with ReLU like the MnasNet models, which
      // changes no parameter, MAC or latency figure.
      {"mobilenet-v2",
       "MobileNetV2 1.0, the paper's baseline (use --depth-multiplier 1.4 for 1.4)",
       {"r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24", "r3_k3_s22_e6_i24_o32",
        "r4_k3_s22_e6_i32_o64", "r3_k3_s11_e6_i64_o96", "r3_k3_s22_e6_i96_o160",
        "r1_k3_s11_e6_i160_o320"},
       params_with(32, 0.2)},
  };
  return kTable;
}

}  // namespace

std::vector<std::string> named_arch_names() {
  std::vector<std::string> names;
  for (const auto& a : table()) names.push_back(a.name);
  return names;
}

bool is_named_arch(std::string_view name) {
  for (const auto& a : table()) {
    if (a.name == name) return true;
  }
  return false;
}

const NamedArch& named_arch(std::string_view name) {
  for (const auto& a : table()) {
    if (a.name == name) return a;
  }
  std::string known;
  for (const auto& a : table()) known += (known.empty() ? "" : ", ") + a.name;
  throw ParseError("unknown model name '" + std::string(name) + "' (known: " + known + ")");
}

ArchSpec named_arch_spec(std::string_view name) {
  return decode_arch(named_arch(name).block_strings);
}

ArchRef resolve_arch(const std::vector<std::string>& words) {
  if (words.empty()) throw ParseError("no architecture given (a model name or block strings)");
  ArchRef r;
  if (words.size() == 1 && words[0].find('_') == std::string::npos) {
    r.named = &named_arch(words[0]);
    r.arch = decode_arch(r.named->block_strings);
  } else {
    r.arch = decode_arch(words);
  }
  return r;
}

ArchRef resolve_arch(std::string_view text) { return resolve_arch(split_block_strings(text)); }

}  // namespace mnas::space
