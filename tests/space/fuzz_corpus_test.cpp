// Runs the block-codec fuzzer's checks (fuzz/block_codec_fuzz_body.h) without
// clang: over every seed in fuzz/corpus, then over a fixed-seed, bounded set
// of byte-level mutations of those seeds, so that CI exercises the same
// invariants on every build.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/block_codec_fuzz_body.h"

#ifndef MNAS_FUZZ_CORPUS_DIR
#error "MNAS_FUZZ_CORPUS_DIR must name the fuzz/corpus directory"
#endif

namespace mnas::fuzz {
namespace {

namespace fs = std::filesystem;

struct Seed {
  std::string name;
  std::string bytes;
};

std::vector<Seed> load_corpus() {
  std::vector<Seed> seeds;
  for (const fs::directory_entry& entry : fs::directory_iterator(MNAS_FUZZ_CORPUS_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.push_back({entry.path().filename().string(),
                     std::string(std::istreambuf_iterator<char>(in), {})});
  }
  // Directory order is unspecified; sort so mutations are reproducible.
  std::sort(seeds.begin(), seeds.end(),
            [](const Seed& a, const Seed& b) { return a.name < b.name; });
  return seeds;
}

FuzzOutcome run(const std::string& bytes) {
  return mnas_fuzz_one_input(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(FuzzCorpus, CorpusIsThere) {
  const std::vector<Seed> seeds = load_corpus();
  EXPECT_GE(seeds.size(), 30u) << "corpus dir: " << MNAS_FUZZ_CORPUS_DIR;
}

TEST(FuzzCorpus, EverySeedHoldsTheInvariants) {
  int archs = 0, rejected = 0;
  for (const Seed& seed : load_corpus()) {
    SCOPED_TRACE(seed.name);
    const FuzzOutcome out = run(seed.bytes);
    EXPECT_TRUE(out.ok()) << out.failure;
    archs += out.arch_decoded;
    rejected += out.blocks_rejected;
  }
  // The corpus covers both sides: whole architectures and rejected strings.
  EXPECT_GE(archs, 15);
  EXPECT_GE(rejected, 20);
}

TEST(FuzzCorpus, NamedSeedsDecodeAsArchitectures) {
  for (const Seed& seed : load_corpus()) {
    if (seed.name.rfind("nasty_", 0) == 0) continue;
    SCOPED_TRACE(seed.name);
    const FuzzOutcome out = run(seed.bytes);
    EXPECT_TRUE(out.arch_decoded);
    EXPECT_EQ(out.blocks_rejected, 0);
  }
}

// Bytes that the grammar cares about, so that mutations often stay close to
// valid strings; plus a few arbitrary ones.
constexpr char kAlphabet[] = "0123456789_rkseiodcnpl.-, \t\nxRS\x00\xff";

std::string mutate(std::string s, const std::vector<Seed>& seeds, std::mt19937& rng) {
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto byte = [&]() -> char {
    if (pick(4) == 0) return static_cast<char>(pick(256));
    return kAlphabet[pick(sizeof kAlphabet - 1)];
  };
  const size_t edits = 1 + pick(4);
  for (size_t n = 0; n < edits; ++n) {
    switch (pick(6)) {
      case 0:  // replace a byte
        if (!s.empty()) s[pick(s.size())] = byte();
        break;
      case 1:  // insert a byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)), byte());
        break;
      case 2:  // delete a byte
        if (!s.empty()) s.erase(pick(s.size()), 1);
        break;
      case 3:  // truncate
        if (!s.empty()) s.resize(pick(s.size()));
        break;
      case 4: {  // duplicate a chunk
        if (s.empty()) break;
        const size_t from = pick(s.size());
        const size_t len = 1 + pick(std::min<size_t>(16, s.size() - from));
        s.insert(pick(s.size() + 1), s.substr(from, len));
        break;
      }
      case 5: {  // splice in part of another seed
        const std::string& other = seeds[pick(seeds.size())].bytes;
        if (other.empty()) break;
        const size_t from = pick(other.size());
        s.insert(pick(s.size() + 1), other.substr(from, 1 + pick(other.size() - from)));
        break;
      }
    }
  }
  return s;
}

TEST(FuzzCorpus, DeterministicMutationsHoldTheInvariants) {
  const std::vector<Seed> seeds = load_corpus();
  ASSERT_FALSE(seeds.empty());
  constexpr int kMutations = 20000;
  std::mt19937 rng(20190516);  // fixed: every run checks the same inputs
  int failures = 0, archs = 0, blocks = 0;
  for (int n = 0; n < kMutations; ++n) {
    const Seed& seed = seeds[static_cast<size_t>(n) % seeds.size()];
    const std::string input = mutate(seed.bytes, seeds, rng);
    const FuzzOutcome out = run(input);
    archs += out.arch_decoded;
    blocks += out.blocks_decoded;
    if (!out.ok() && ++failures <= 5) {
      ADD_FAILURE() << "mutation " << n << " of seed '" << seed.name << "': " << out.failure;
    }
  }
  EXPECT_EQ(failures, 0);
  // The round trip and expansion checks must actually run, not only the
  // rejection path (about 2% of mutated lines still decode as a whole
  // architecture, and most mutated lines keep several valid blocks).
  EXPECT_GT(archs, kMutations / 100);
  EXPECT_GT(blocks, kMutations / 2);
}

}  // namespace
}  // namespace mnas::fuzz
