// The block-string codec: text <-> BlockArgs / ArchSpec.
//
// Grammar (a superset of the TF reference MnasNetDecoder; every reference
// string parses unchanged and re-encodes byte for byte):
//
//   block  := [op "_"] token ("_" token)*
//   op     := "ds"          depthwise-separable conv (MobileNetV1 style)
//           | "cn"          regular conv
//                           (absent: MBConv, the reference's only op)
//   token  := "r" INT       num_repeat, 1..64                    (required)
//           | "k" INT       kernel_size, odd, 1..9               (required)
//           | "s" D D       strides (H, W) of the first layer, digits 1..9
//                                                                (required)
//           | "e" INT       expand_ratio, 1..16; required for MBConv,
//                           optional for ds/cn where it must be 1
//           | "i" INT       declared input filters, 1..16384     (required)
//           | "o" INT       output filters, 1..16384             (required)
//           | "se" FLOAT    squeeze-excite ratio in (0, 1]; absent = no SE
//           | "noskip"      no residual
//           | "poolskip"    pooling residual (see SkipOp::kPool)
//                           (neither: identity residual where shapes allow)
//
// Tokens other than the op may come in any order; each key at most once.
// Unlike the reference (which ignores unknown tokens and overwrites repeated
// keys) the decoder is strict: unknown, duplicate or missing keys, values that
// are not wholly numeric, values out of range and empty tokens all throw
// ParseError quoting the block string and naming the bad token (at most 160
// bytes of each, control bytes as \xNN). A well-formed decimal that no double
// holds (se0.000...01) is out of range, not malformed.
//
// The canonical form, produced by encode_block, is
//   [op_]r{r}_k{k}_s{sh}{sw}[_e{e}]_i{i}_o{o}[_se{se}][_noskip|_poolskip]
// where e is written for MBConv only and se in its shortest exact decimal form
// (0.25). The experiment database keys trials by this string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "space/block_args.h"

namespace mnas::space {

// Limits the decoder enforces (beyond them no MnasNet-like model makes sense).
// The counters check their 64-bit arithmetic separately.
constexpr int kMaxRepeat = 64;
constexpr int kMaxFilters = 16384;
constexpr int kMaxExpandRatio = 16;
constexpr int kMaxKernelSize = 9;

// Parses one block string. Throws ParseError on any malformed input; never
// crashes, whatever the bytes.
BlockArgs decode_block(std::string_view block_string);

// The canonical block string of `block`. REQUIRES: `block` is valid (as
// decode_block would return); throws ParseError otherwise.
std::string encode_block(const BlockArgs& block);

// Decodes a list of block strings, one per stage. Throws ParseError when the
// list is empty or any string is malformed (the message says which stage).
ArchSpec decode_arch(const std::vector<std::string>& block_strings);

// The canonical block strings of every stage of `arch`.
std::vector<std::string> encode_arch(const ArchSpec& arch);

// Splits a line of block strings separated by white space and/or commas
// ("r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24") into its strings.
std::vector<std::string> split_block_strings(std::string_view line);

// encode_arch joined with single spaces: one canonical line per architecture,
// the inverse of split_block_strings + decode_arch.
std::string arch_to_string(const ArchSpec& arch);

}  // namespace mnas::space
