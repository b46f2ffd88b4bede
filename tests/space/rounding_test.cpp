// Width rounding (reference section 3): torchvision's docstring cases, the 10%
// rule, min_depth, and the reference's rounded channel tables checked through
// expand_layers, the one place that applies round_filters.
#include "space/rounding.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/layer_spec.h"
#include "space/named_archs.h"

namespace mnas::space {
namespace {

TEST(Rounding, TorchvisionDocstringCases) {
  // torchvision mnasnet.py _round_to_multiple_of: "(83, 8) -> 80, but (84, 8) -> 88".
  EXPECT_EQ(round_to_multiple(83, 1.0, 8, 0), 80);
  EXPECT_EQ(round_to_multiple(84, 1.0, 8, 0), 88);
}

TEST(Rounding, RoundsHalfUpToTheDivisor) {
  EXPECT_EQ(round_to_multiple(36, 1.0, 8, 0), 40);  // 36 + 4 = 40
  EXPECT_EQ(round_to_multiple(35, 1.0, 8, 0), 32);  // 35 + 4 = 39 -> 32 (>= 31.5)
  EXPECT_EQ(round_to_multiple(32, 1.0, 8, 0), 32);
  EXPECT_EQ(round_to_multiple(112, 0.5, 8, 0), 56);
  EXPECT_EQ(round_to_multiple(24, 1.0, 16, 0), 32);  // 24 + 8 = 32
}

TEST(Rounding, NeverRoundsDownByMoreThanTenPercent) {
  // 32 * 0.35 = 11.2 rounds to 8, which is below 0.9 * 11.2 = 10.08: add 8.
  EXPECT_EQ(round_to_multiple(32, 0.35, 8, 0), 16);
  // 20 with divisor 16: 28 // 16 * 16 = 16 < 18: add 16.
  EXPECT_EQ(round_to_multiple(20, 1.0, 16, 0), 32);
  // 19 with divisor 16: 16 >= 17.1 is false too.
  EXPECT_EQ(round_to_multiple(19, 1.0, 16, 0), 32);
  // 18 with divisor 16: 16 >= 16.2 is false: 32.
  EXPECT_EQ(round_to_multiple(18, 1.0, 16, 0), 32);
  // 17 with divisor 16: 16 >= 15.3, kept.
  EXPECT_EQ(round_to_multiple(17, 1.0, 16, 0), 16);
}

TEST(Rounding, MinDepthIsAFloor) {
  EXPECT_EQ(round_to_multiple(2, 1.0, 8, 0), 8);    // 0 means the divisor
  EXPECT_EQ(round_to_multiple(1, 1.0, 16, 0), 16);
  EXPECT_EQ(round_to_multiple(8, 1.0, 8, 16), 16);  // explicit min_depth
  EXPECT_EQ(round_to_multiple(8, 0.35, 8, 24), 24);
  EXPECT_EQ(round_to_multiple(64, 1.0, 8, 16), 64);  // above the floor: no effect
}

TEST(Rounding, RoundFiltersUsesTheGlobalParams) {
  GlobalParams p;
  p.depth_multiplier = 1.0;
  EXPECT_EQ(round_filters(36, p), 40);
  p.depth_divisor = 16;
  // 36 + 8 = 44 // 16 * 16 = 32, below 0.9 * 36 = 32.4: add 16.
  EXPECT_EQ(round_filters(36, p), 48);
  p.min_depth = 64;
  EXPECT_EQ(round_filters(36, p), 64);
}

TEST(Rounding, UnsetMultiplierMeansNoRounding) {
  GlobalParams p;
  ASSERT_FALSE(p.depth_multiplier.has_value());
  EXPECT_EQ(round_filters(36, p), 36);
  EXPECT_EQ(round_filters(3, p), 3);  // not even min_depth applies
  p.depth_multiplier = 1.0;
  EXPECT_EQ(round_filters(36, p), 40);
  EXPECT_EQ(round_filters(3, p), 8);
}

// ------------------------------------------------ tables through expand_layers

// Stem width, then the rounded declared (in, out) of each stage's first layer.
struct Widths {
  int stem;
  std::vector<std::array<int, 2>> stages;
};

Widths rounded_widths(const std::string& model, std::optional<double> multiplier) {
  GlobalParams p = named_arch(model).params;
  p.depth_multiplier = multiplier;
  const std::vector<LayerSpec> layers = expand_layers(named_arch_spec(model), p);
  Widths w{layers.front().out_channels, {}};
  for (const LayerSpec& l : layers) {
    if (l.kind == LayerKind::kBlock && l.index == 0) {
      w.stages.push_back({l.in_filters_declared, l.out_channels});
    }
  }
  return w;
}

using Stages = std::vector<std::array<int, 2>>;

TEST(Rounding, MnasNetA1ChannelTableFromTheReference) {
  // Reference section 3, "Rounded channel tables [CALC]".
  struct Row {
    double multiplier;
    int stem;
    Stages stages;
  };
  const std::vector<Row> rows = {
      {0.35, 16, {{16, 8}, {8, 8}, {8, 16}, {16, 32}, {32, 40}, {40, 56}, {56, 112}}},
      {0.5, 16, {{16, 8}, {8, 16}, {16, 24}, {24, 40}, {40, 56}, {56, 80}, {80, 160}}},
      {0.75, 24, {{24, 16}, {16, 24}, {24, 32}, {32, 64}, {64, 88}, {88, 120}, {120, 240}}},
      {1.0, 32, {{32, 16}, {16, 24}, {24, 40}, {40, 80}, {80, 112}, {112, 160}, {160, 320}}},
      {1.4, 48, {{48, 24}, {24, 32}, {32, 56}, {56, 112}, {112, 160}, {160, 224}, {224, 448}}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE("depth_multiplier " + std::to_string(row.multiplier));
    const Widths w = rounded_widths("mnasnet-a1", row.multiplier);
    EXPECT_EQ(w.stem, row.stem);
    EXPECT_EQ(w.stages, row.stages);
  }
}

TEST(Rounding, MnasNetB1ChannelTableFromTheReference) {
  const Widths w = rounded_widths("mnasnet-b1", 1.0);
  EXPECT_EQ(w.stem, 32);
  EXPECT_EQ(w.stages,
            (Stages{{32, 16}, {16, 24}, {24, 40}, {40, 80}, {80, 96}, {96, 192}, {192, 320}}));
}

TEST(Rounding, HeadIsNeverScaled) {
  for (double m : {0.35, 1.0, 1.4}) {
    GlobalParams p;
    p.depth_multiplier = m;
    const std::vector<LayerSpec> layers = expand_layers(named_arch_spec("mnasnet-a1"), p);
    const LayerSpec& head = layers[layers.size() - 2];
    ASSERT_EQ(head.kind, LayerKind::kHead);
    EXPECT_EQ(head.out_channels, 1280) << "multiplier " << m;
  }
}

TEST(Rounding, UnsetMultiplierKeepsD1WidthsAsWritten) {
  // mnasnet-d1 declares 36 channels, which is not a multiple of 8.
  const Widths unset = rounded_widths("mnasnet-d1", std::nullopt);
  EXPECT_EQ(unset.stem, 32);
  EXPECT_EQ(unset.stages[1], (std::array<int, 2>{24, 36}));
  EXPECT_EQ(unset.stages[2], (std::array<int, 2>{36, 48}));
  const Widths one = rounded_widths("mnasnet-d1", 1.0);
  EXPECT_EQ(one.stages[1], (std::array<int, 2>{24, 40}));
  EXPECT_EQ(one.stages[2], (std::array<int, 2>{40, 48}));
}

}  // namespace
}  // namespace mnas::space
