// Architecture lists: the files that `mnas_latency validate --archs FILE`
// reads and `mnas_latency sample N` writes, and random sampling from a space.
//
// File format: one architecture per line, either a named model
// ("mnasnet-b1") or its block strings separated by spaces
// ("r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24 ..."). Blank lines and
// lines starting with '#' are ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "space/block_args.h"
#include "space/global_params.h"
#include "space/search_space.h"

namespace mnas::latency {

struct ArchEntry {
  std::string label;            // the model name or the canonical block strings
  space::ArchSpec arch;
  space::GlobalParams params;   // the named model's, or the caller's base
  int line = 0;                 // 1-based line in the file, 0 when not from a file
};

// One line (a model name or block strings). Named models take their own
// GlobalParams with the geometry (image size, classes, input channels) of
// `base`; block strings take `base`. Throws ParseError.
ArchEntry parse_arch_line(std::string_view line, const space::GlobalParams& base);

// Every architecture in `path`. Throws ParseError naming the file and line.
std::vector<ArchEntry> read_arch_file(const std::string& path, const space::GlobalParams& base);

// `n` architectures drawn uniformly (each decision independently) from
// `space` with a std::mt19937_64 seeded by `seed`: deterministic.
std::vector<space::ArchSpec> sample_archs(const space::SearchSpace& space, int n, uint64_t seed);

}  // namespace mnas::latency
