// The factorized hierarchical search space (paper section 4.1).
#include "space/search_space.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "common/error.h"
#include "space/block_codec.h"
#include "tests/space/expect_throw_msg.h"

namespace mnas::space {
namespace {

TEST(SearchSpace, DefaultIsThePapersSpace) {
  const auto s = SearchSpace::mnasnet_default();
  ASSERT_EQ(s.skeleton().size(), 7u);
  EXPECT_EQ(s.decisions().size(), 42u);
  // 4 ops x 2 kernels x 2 SE x 3 skips x 3 widths x 3 depths = 432 per block
  // (the paper's S = 432), 432^7 architectures.
  const auto sizes = s.choice_sizes();
  int per_block = 1;
  for (int i = 0; i < kDecisionsPerBlock; ++i) per_block *= sizes[i];
  EXPECT_EQ(per_block, 432);
  EXPECT_NEAR(s.log10_size(), 7 * std::log10(432.0), 1e-9);
  EXPECT_EQ(s.decisions()[0].name, "block0.conv_op");
  EXPECT_EQ(s.decisions()[5].name, "block0.repeats");
}

TEST(SearchSpace, JsonFileMatchesBuiltInDefault) {
  const auto file = SearchSpace::from_file(std::string(MNAS_SOURCE_DIR) + "/experiments/space-mnasnet.json");
  EXPECT_EQ(file.to_json(), SearchSpace::mnasnet_default().to_json());
}

TEST(SearchSpace, DecodeBuildsTheChosenBlocks) {
  const auto s = SearchSpace::mnasnet_default();
  std::vector<int> a(42, 0);
  // block 1: mbconv6, k5, se 0.25, identity, x1.25 (24 -> 30 -> 32), +1 layer.
  const int b1[] = {3, 1, 1, 1, 2, 2};
  for (int i = 0; i < 6; ++i) a[6 + i] = b1[i];
  const auto arch = s.decode(a);
  ASSERT_EQ(arch.blocks.size(), 7u);
  // block 0: conv k3 no SE pool, x0.75 (16 -> 12 -> 16), repeats max(1, 1-1).
  EXPECT_EQ(encode_block(arch.blocks[0]), "cn_r1_k3_s11_i32_o16_poolskip");
  EXPECT_EQ(encode_block(arch.blocks[1]), "r3_k5_s22_e6_i16_o32_se0.25");
  // block 2 takes block 1's output as its input.
  EXPECT_EQ(arch.blocks[2].input_filters, 32);
  EXPECT_EQ(arch.blocks[2].strides[0], 2);
}

TEST(SearchSpace, DecodeRejectsBadActions) {
  const auto s = SearchSpace::mnasnet_default();
  EXPECT_THROW_MSG(s.decode(std::vector<int>(41, 0)), ConfigError, "expected 42 decisions");
  std::vector<int> a(42, 0);
  a[7] = 2;
  EXPECT_THROW_MSG(s.decode(a), ConfigError, "block1.kernel_size");
}

TEST(SearchSpace, DistinctActionsGiveDistinctCanonicalStringsWhenWidthsDiffer) {
  const auto s = SearchSpace::mnasnet_default();
  std::vector<int> a(42, 1), b(42, 1);
  b[4] = 2;  // block0 filters x1.25
  EXPECT_NE(arch_to_string(s.decode(a)), arch_to_string(s.decode(b)));
}

TEST(SearchSpace, EnumeratedLayersCoverEveryLayerOfSampledArchitectures) {
  const auto s = SearchSpace::mnasnet_default();
  GlobalParams p;
  p.image_size = 224;
  const auto all = s.enumerate_layers(p);
  std::set<std::string> keys;
  for (const auto& l : all) EXPECT_TRUE(keys.insert(layer_key(l)).second) << "duplicate " << layer_key(l);
  std::mt19937 rng(7);
  for (int n = 0; n < 200; ++n) {
    std::vector<int> a;
    for (int size : s.choice_sizes()) a.push_back(std::uniform_int_distribution<int>(0, size - 1)(rng));
    for (const auto& l : expand_layers(s.decode(a), s.global_params(p))) {
      EXPECT_TRUE(keys.count(layer_key(l))) << layer_key(l);
    }
  }
}

TEST(SearchSpace, StrictJson) {
  using nlohmann::json;
  auto base = SearchSpace::mnasnet_default().to_json();
  auto j = base;
  j["skeletn"] = 1;
  EXPECT_THROW_MSG(SearchSpace::from_json(j), ConfigError, "skeletn");
  j = base;
  j["skeleton"][2]["filter"] = 3;
  EXPECT_THROW_MSG(SearchSpace::from_json(j), ConfigError, "skeleton[2].filter");
  j = base;
  j["skeleton"][0]["choices"]["kernel_size"] = {3, 4};
  EXPECT_THROW_MSG(SearchSpace::from_json(j), ConfigError, "odd");
  j = base;
  j["skeleton"][0]["choices"]["conv_op"] = {"mbconv", "conv"};
  EXPECT_THROW_MSG(SearchSpace::from_json(j), ConfigError, "mbconv");
  j = base;
  j["skeleton"][0]["choices"]["skip"] = {"pool", "pool"};
  EXPECT_THROW_MSG(SearchSpace::from_json(j), ConfigError, "duplicate");
  EXPECT_THROW_MSG(SearchSpace::from_file("/nonexistent/space.json"), ConfigError, "/nonexistent/space.json");
}

TEST(SearchSpace, DeeplyNestedFileIsRefused) {
  // Issue 14: a file nested 100,000 deep overflowed the stack.
  const std::string path = ::testing::TempDir() + "deep-space.json";
  std::ofstream(path) << "{\"skeleton\": " << std::string(100000, '[') << std::string(100000, ']')
                      << "}";
  EXPECT_THROW_MSG(SearchSpace::from_file(path), ConfigError, "deep-space.json",
                   "nested deeper than 64");
  std::remove(path.c_str());
}

TEST(SearchSpace, PerBlockChoiceOverride) {
  nlohmann::json j = {{"skeleton",
                       {{{"filters", 16}, {"repeats", 1}, {"stride", 1}},
                        {{"filters", 24}, {"repeats", 2}, {"stride", 2}, {"choices", {{"kernel_size", {3, 5, 7}}}}}}},
                      {"choices", {{"conv_op", {"mbconv6"}}}}};
  const auto s = SearchSpace::from_json(j);
  EXPECT_EQ(s.decisions().size(), 12u);
  EXPECT_EQ(s.decisions()[0].size(), 1);   // conv_op overridden globally
  EXPECT_EQ(s.decisions()[1].size(), 2);   // block 0 kernel: default list
  EXPECT_EQ(s.decisions()[7].size(), 3);   // block 1 kernel: its own list
}

}  // namespace
}  // namespace mnas::space
