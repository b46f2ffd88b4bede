#include "latency/arch_list.h"

#include <fstream>
#include <random>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/named_archs.h"

namespace mnas::latency {

ArchEntry parse_arch_line(std::string_view line, const space::GlobalParams& base) {
  const auto words = space::split_block_strings(line);
  if (words.empty()) throw ParseError("empty architecture");
  ArchEntry e;
  const auto ref = space::resolve_arch(words);
  e.arch = ref.arch;
  if (ref.named) {
    e.label = ref.named->name;
    e.params = ref.named->params;
    e.params.image_size = base.image_size;
    e.params.num_classes = base.num_classes;
    e.params.input_channels = base.input_channels;
  } else {
    e.label = space::arch_to_string(e.arch);
    e.params = base;
  }
  return e;
}

std::vector<ArchEntry> read_arch_file(const std::string& path, const space::GlobalParams& base) {
  std::ifstream in(path);
  if (!in) throw ParseError("cannot read architecture file '" + path + "'");
  std::vector<ArchEntry> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    try {
      out.push_back(parse_arch_line(line, base));
      out.back().line = n;
    } catch (const Error& e) {
      throw ParseError(path + ":" + std::to_string(n) + ": " + e.what());
    }
  }
  if (out.empty()) throw ParseError("architecture file '" + path + "' lists no architecture");
  return out;
}

std::vector<space::ArchSpec> sample_archs(const space::SearchSpace& space, int n, uint64_t seed) {
  if (n < 0) throw ConfigError("number of architectures should be >= 0, got " + std::to_string(n));
  std::mt19937_64 rng(seed);
  const auto sizes = space.choice_sizes();
  std::vector<space::ArchSpec> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int> actions;
    for (int s : sizes) actions.push_back(std::uniform_int_distribution<int>(0, s - 1)(rng));
    out.push_back(space.decode(actions));
  }
  return out;
}

}  // namespace mnas::latency
