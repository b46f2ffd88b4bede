// expand_layers: repeats, stride on the first layer, shapes, SE widths,
// residual decisions and GlobalParams validation (reference sections 4-6).
#include "space/layer_spec.h"

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "tests/space/expect_throw_msg.h"

namespace mnas::space {
namespace {

std::vector<LayerSpec> expand_named(const std::string& name) {
  return expand_layers(named_arch_spec(name), named_arch(name).params);
}

std::vector<LayerSpec> expand_line(const std::string& line, const GlobalParams& p = {}) {
  return expand_layers(decode_arch(split_block_strings(line)), p);
}

// The block layer `index` of stage `stage`; fails the test if absent.
const LayerSpec& block(const std::vector<LayerSpec>& layers, int stage, int index) {
  for (const LayerSpec& l : layers) {
    if (l.kind == LayerKind::kBlock && l.stage == stage && l.index == index) return l;
  }
  ADD_FAILURE() << "no layer s" << stage << "." << index;
  static const LayerSpec kNone;
  return kNone;
}

int count_kind(const std::vector<LayerSpec>& layers, LayerKind kind) {
  int n = 0;
  for (const LayerSpec& l : layers) n += l.kind == kind;
  return n;
}

// ---------------------------------------------------------------- structure

TEST(LayerSpec, LayerCountsOfTheNamedModels) {
  // Reference section 4: a1 = 16, b1 = 17, small = 15, d1 = 22, d1-320 = 28.
  const std::vector<std::pair<std::string, int>> expected = {
      {"mnasnet-a1", 16}, {"mnasnet-b1", 17},     {"mnasnet-small", 15},
      {"mnasnet-d1", 22}, {"mnasnet-d1-320", 28}, {"mobilenet-v2", 17}};
  for (const auto& [name, blocks] : expected) {
    SCOPED_TRACE(name);
    const std::vector<LayerSpec> layers = expand_named(name);
    ASSERT_EQ(layers.size(), static_cast<size_t>(blocks + 3));
    EXPECT_EQ(count_kind(layers, LayerKind::kBlock), blocks);
    EXPECT_EQ(layers.front().kind, LayerKind::kStem);
    EXPECT_EQ(layers[layers.size() - 2].kind, LayerKind::kHead);
    EXPECT_EQ(layers.back().kind, LayerKind::kClassifier);
    EXPECT_EQ(count_kind(layers, LayerKind::kStem), 1);
    EXPECT_EQ(count_kind(layers, LayerKind::kHead), 1);
    EXPECT_EQ(count_kind(layers, LayerKind::kClassifier), 1);
  }
}

TEST(LayerSpec, StrideOnlyOnTheFirstLayerOfAStage) {
  for (const std::string& name : named_arch_names()) {
    SCOPED_TRACE(name);
    const ArchSpec arch = named_arch_spec(name);
    const std::vector<LayerSpec> layers = expand_named(name);
    for (const LayerSpec& l : layers) {
      if (l.kind != LayerKind::kBlock) continue;
      SCOPED_TRACE("s" + std::to_string(l.stage) + "." + std::to_string(l.index));
      const BlockArgs& b = arch.blocks[l.stage];
      if (l.index == 0) {
        EXPECT_EQ(l.strides, b.strides);
      } else {
        EXPECT_EQ(l.strides, (std::array<int, 2>{1, 1}));
        // Repeats take the stage output width as their input.
        EXPECT_EQ(l.in_channels, l.out_channels);
        EXPECT_EQ(l.in_filters_declared, l.out_channels);
      }
      EXPECT_EQ(l.kernel_size, b.kernel_size);
      EXPECT_EQ(l.op, b.op);
    }
  }
}

TEST(LayerSpec, RepeatsAreNumberedWithinTheirStage) {
  const std::vector<LayerSpec> layers = expand_named("mnasnet-a1");
  const std::vector<int> repeats = {1, 2, 3, 4, 2, 3, 1};
  size_t n = 1;  // after the stem
  for (int s = 0; s < 7; ++s) {
    for (int r = 0; r < repeats[s]; ++r, ++n) {
      EXPECT_EQ(layers[n].stage, s);
      EXPECT_EQ(layers[n].index, r);
    }
  }
  EXPECT_EQ(layers.front().stage, -1);
  EXPECT_EQ(layers.back().stage, -1);
}

TEST(LayerSpec, A1StageOutputShapesAt224) {
  // Reference section 6 / paper Fig. 7.
  GlobalParams p;
  p.depth_multiplier = 1.0;
  const std::vector<LayerSpec> layers = expand_layers(named_arch_spec("mnasnet-a1"), p);
  const LayerSpec& stem = layers.front();
  EXPECT_EQ(stem.in_h, 224);
  EXPECT_EQ(stem.in_channels, 3);
  EXPECT_EQ(stem.kernel_size, 3);
  EXPECT_EQ(stem.strides, (std::array<int, 2>{2, 2}));
  EXPECT_EQ(stem.out_h, 112);
  EXPECT_EQ(stem.out_w, 112);
  EXPECT_EQ(stem.out_channels, 32);

  const std::vector<int> last = {0, 1, 2, 3, 1, 2, 0};  // last index per stage
  const std::vector<std::array<int, 2>> hw_c = {{112, 16}, {56, 24}, {28, 40}, {14, 80},
                                                {14, 112}, {7, 160}, {7, 320}};
  for (int s = 0; s < 7; ++s) {
    SCOPED_TRACE("stage " + std::to_string(s));
    const LayerSpec& l = block(layers, s, last[s]);
    EXPECT_EQ(l.out_h, hw_c[s][0]);
    EXPECT_EQ(l.out_w, hw_c[s][0]);
    EXPECT_EQ(l.out_channels, hw_c[s][1]);
  }
  const LayerSpec& head = layers[layers.size() - 2];
  EXPECT_EQ(head.in_channels, 320);
  EXPECT_EQ(head.out_channels, 1280);
  EXPECT_EQ(head.out_h, 7);
  const LayerSpec& fc = layers.back();
  EXPECT_EQ(fc.in_channels, 1280);
  EXPECT_EQ(fc.out_channels, 1000);
  EXPECT_EQ(fc.out_h, 1);
}

TEST(LayerSpec, SpatialSizesRoundUp) {
  GlobalParams p;
  p.image_size = 7;  // 7 -> 4 -> 2 -> 1 -> 1 (ceil(in / 2), TF 'same')
  const std::vector<LayerSpec> layers = expand_line("r1_k3_s22_e6_i32_o16 r1_k3_s22_e6_i16_o16", p);
  EXPECT_EQ(layers[0].out_h, 4);
  EXPECT_EQ(layers[1].out_h, 2);
  EXPECT_EQ(layers[2].out_h, 1);
  p.image_size = 1;
  const std::vector<LayerSpec> tiny = expand_line("r2_k3_s22_e6_i32_o16", p);
  EXPECT_EQ(tiny[1].out_h, 1);
  EXPECT_EQ(tiny[2].out_h, 1);
}

TEST(LayerSpec, AsymmetricStridesShrinkEachAxis) {
  GlobalParams p;
  p.image_size = 32;  // stem -> 16 x 16
  const std::vector<LayerSpec> layers = expand_line("r2_k3_s12_e6_i32_o16", p);
  EXPECT_EQ(layers[1].out_h, 16);
  EXPECT_EQ(layers[1].out_w, 8);
  EXPECT_EQ(layers[2].in_w, 8);
  EXPECT_EQ(layers[2].out_w, 8);
}

TEST(LayerSpec, InputChannelsAndImageSizeFeedTheStem) {
  GlobalParams p;
  p.image_size = 28;
  p.input_channels = 1;  // Fashion-MNIST
  const std::vector<LayerSpec> layers = expand_layers(named_arch_spec("mnasnet-a1"), p);
  EXPECT_EQ(layers.front().in_channels, 1);
  EXPECT_EQ(layers.front().out_h, 14);
  // 14 -> 7 -> 4 -> 2 -> 2 -> 1 -> 1.
  EXPECT_EQ(block(layers, 6, 0).out_h, 1);
}

TEST(LayerSpec, ExpansionWidthIsRoundedInputTimesE) {
  const std::vector<LayerSpec> layers = expand_named("mnasnet-a1");
  EXPECT_EQ(block(layers, 1, 0).expanded_channels, 16 * 6);
  EXPECT_EQ(block(layers, 1, 1).expanded_channels, 24 * 6);
  EXPECT_EQ(block(layers, 2, 0).expanded_channels, 24 * 3);
  EXPECT_EQ(block(layers, 0, 0).expanded_channels, 32);  // e1: the actual input
}

// ---------------------------------------------------------------- SE widths

TEST(LayerSpec, SeWidthsOfA1FromTheReference) {
  // R = max(1, int(rounded input filters * se_ratio)); reference section 6.
  const std::vector<LayerSpec> layers = expand_named("mnasnet-a1");
  EXPECT_EQ(block(layers, 2, 0).se_channels, 6);
  EXPECT_EQ(block(layers, 2, 1).se_channels, 10);
  EXPECT_EQ(block(layers, 2, 2).se_channels, 10);
  EXPECT_EQ(block(layers, 4, 0).se_channels, 20);
  EXPECT_EQ(block(layers, 4, 1).se_channels, 28);
  EXPECT_EQ(block(layers, 5, 0).se_channels, 28);
  EXPECT_EQ(block(layers, 5, 1).se_channels, 40);
  // Stages without se have none.
  for (int s : {0, 1, 3, 6}) EXPECT_EQ(block(layers, s, 0).se_channels, 0) << "stage " << s;
}

TEST(LayerSpec, SeWidthIsAtLeastOne) {
  const std::vector<LayerSpec> layers = expand_line("r1_k3_s11_e6_i32_o8 r1_k3_s11_e6_i8_o8_se0.1");
  EXPECT_EQ(block(layers, 1, 0).se_channels, 1);  // int(8 * 0.1) = 0 -> 1
}

// --------------------------------------------------------- residual decisions

TEST(LayerSpec, ResidualDecisionsOfA1) {
  const std::vector<LayerSpec> layers = expand_named("mnasnet-a1");
  EXPECT_FALSE(block(layers, 0, 0).residual);  // noskip (and 32 != 16)
  EXPECT_EQ(block(layers, 0, 0).skip, SkipOp::kNone);
  EXPECT_FALSE(block(layers, 1, 0).residual);  // stride 2
  EXPECT_TRUE(block(layers, 1, 1).residual);
  EXPECT_FALSE(block(layers, 2, 0).residual);
  EXPECT_TRUE(block(layers, 2, 1).residual);
  EXPECT_TRUE(block(layers, 2, 2).residual);
  EXPECT_TRUE(block(layers, 3, 3).residual);
  EXPECT_FALSE(block(layers, 4, 0).residual);  // stride 1 but 80 != 112
  EXPECT_TRUE(block(layers, 4, 1).residual);
  EXPECT_TRUE(block(layers, 5, 2).residual);
  EXPECT_FALSE(block(layers, 6, 0).residual);  // 160 != 320
  for (const LayerSpec& l : layers) {
    if (l.kind != LayerKind::kBlock) {
      EXPECT_FALSE(l.residual);
    }
  }
}

TEST(LayerSpec, NoskipDisablesEveryResidualOfItsStage) {
  const std::vector<LayerSpec> layers = expand_line("r3_k3_s11_e6_i32_o32_noskip");
  for (int r = 0; r < 3; ++r) EXPECT_FALSE(block(layers, 0, r).residual) << r;
}

TEST(LayerSpec, MnasNetSmallDeclaredVersusActual) {
  // Reference section 5 gotcha: the stem makes 8 channels, the first block
  // declares i16 with e1, so the depthwise runs on 8 and there is no skip.
  const std::vector<LayerSpec> layers = expand_named("mnasnet-small");
  EXPECT_EQ(layers.front().out_channels, 8);
  const LayerSpec& first = block(layers, 0, 0);
  EXPECT_EQ(first.in_filters_declared, 16);
  EXPECT_EQ(first.in_channels, 8);
  EXPECT_EQ(first.expanded_channels, 8);
  EXPECT_EQ(first.out_channels, 8);
  EXPECT_EQ(first.skip, SkipOp::kIdentity);  // requested, but...
  EXPECT_FALSE(first.residual);              // ...declared 16 != 8
  // From there on declared and actual agree.
  EXPECT_EQ(block(layers, 1, 0).in_channels, 8);
  EXPECT_EQ(block(layers, 1, 0).in_filters_declared, 8);
  EXPECT_TRUE(block(layers, 2, 1).residual);
}

TEST(LayerSpec, IdentityResidualNeedsTheActualWidthToo) {
  // Declared i24 == o24, but 16 channels arrive: adding would be a shape error.
  const std::vector<LayerSpec> layers = expand_line("r1_k3_s11_e1_i32_o16 r1_k3_s11_e6_i24_o24");
  EXPECT_EQ(block(layers, 1, 0).in_channels, 16);
  EXPECT_FALSE(block(layers, 1, 0).residual);
}

TEST(LayerSpec, PoolSkipAppliesAtStrideTwoWhenWidthsMatch) {
  const std::vector<LayerSpec> pool = expand_line("r2_k3_s22_e6_i32_o32_poolskip");
  EXPECT_EQ(block(pool, 0, 0).skip, SkipOp::kPool);
  EXPECT_EQ(block(pool, 0, 0).strides, (std::array<int, 2>{2, 2}));
  EXPECT_TRUE(block(pool, 0, 0).residual);
  EXPECT_TRUE(block(pool, 0, 1).residual);
  // The identity skip does not apply at stride 2.
  const std::vector<LayerSpec> identity = expand_line("r2_k3_s22_e6_i32_o32");
  EXPECT_FALSE(block(identity, 0, 0).residual);
  EXPECT_TRUE(block(identity, 0, 1).residual);
}

TEST(LayerSpec, PoolSkipNeedsMatchingWidths) {
  const std::vector<LayerSpec> layers = expand_line("r2_k3_s22_e6_i32_o48_poolskip");
  EXPECT_FALSE(block(layers, 0, 0).residual);  // 32 -> 48
  EXPECT_TRUE(block(layers, 0, 1).residual);   // 48 -> 48
}

TEST(LayerSpec, DsAndCnLayers) {
  const std::vector<LayerSpec> layers =
      expand_line("ds_r1_k3_s11_i32_o16_se0.25 cn_r2_k5_s22_i16_o24_poolskip");
  const LayerSpec& ds = block(layers, 0, 0);
  EXPECT_EQ(ds.op, ConvOp::kSepConv);
  EXPECT_EQ(ds.expand_ratio, 1);
  EXPECT_EQ(ds.expanded_channels, 32);  // depthwise on the input
  EXPECT_EQ(ds.se_channels, 8);
  const LayerSpec& cn = block(layers, 1, 0);
  EXPECT_EQ(cn.op, ConvOp::kConv);
  EXPECT_EQ(cn.kernel_size, 5);
  EXPECT_EQ(cn.expanded_channels, 24);  // SE runs on the conv output
  EXPECT_FALSE(cn.residual);
  EXPECT_TRUE(block(layers, 1, 1).residual);
}

// ------------------------------------------------------------------- errors

TEST(LayerSpec, RejectsEmptyArch) {
  EXPECT_THROW_MSG(expand_layers(ArchSpec{}, GlobalParams{}), ParseError, "no stages");
}

TEST(LayerSpec, RejectsInvalidGlobalParamsNamingTheField) {
  const ArchSpec arch = named_arch_spec("mnasnet-a1");
  struct Case {
    const char* field;
    void (*mutate)(GlobalParams&);
  };
  const std::vector<Case> cases = {
      {"depth_multiplier", [](GlobalParams& p) { p.depth_multiplier = 0.0; }},
      {"depth_multiplier", [](GlobalParams& p) { p.depth_multiplier = -1.0; }},
      {"depth_multiplier", [](GlobalParams& p) { p.depth_multiplier = 17.0; }},
      {"depth_multiplier",
       [](GlobalParams& p) { p.depth_multiplier = std::numeric_limits<double>::quiet_NaN(); }},
      {"depth_divisor", [](GlobalParams& p) { p.depth_divisor = 0; }},
      {"min_depth", [](GlobalParams& p) { p.min_depth = -1; }},
      {"stem_size", [](GlobalParams& p) { p.stem_size = 0; }},
      {"head_size", [](GlobalParams& p) { p.head_size = 0; }},
      {"num_classes", [](GlobalParams& p) { p.num_classes = 0; }},
      {"dropout_rate", [](GlobalParams& p) { p.dropout_rate = 1.0; }},
      {"dropout_rate", [](GlobalParams& p) { p.dropout_rate = -0.1; }},
      {"bn_decay", [](GlobalParams& p) { p.bn_decay = 1.0; }},
      {"bn_epsilon", [](GlobalParams& p) { p.bn_epsilon = 0.0; }},
      {"image_size", [](GlobalParams& p) { p.image_size = 0; }},
      {"image_size", [](GlobalParams& p) { p.image_size = 4097; }},
      {"input_channels", [](GlobalParams& p) { p.input_channels = 0; }},
  };
  for (const Case& c : cases) {
    GlobalParams p;
    c.mutate(p);
    SCOPED_TRACE(c.field);
    EXPECT_THROW_MSG(validate(p), ConfigError, c.field);
    EXPECT_THROW_MSG(expand_layers(arch, p), ConfigError, c.field);
  }
}

TEST(LayerSpec, DefaultAndNamedGlobalParamsAreValid) {
  EXPECT_NO_THROW(validate(GlobalParams{}));
  for (const std::string& name : named_arch_names()) {
    EXPECT_NO_THROW(validate(named_arch(name).params)) << name;
  }
}

TEST(LayerSpec, KindNames) {
  EXPECT_STREQ(to_string(LayerKind::kStem), "stem");
  EXPECT_STREQ(to_string(LayerKind::kBlock), "block");
  EXPECT_STREQ(to_string(LayerKind::kHead), "head");
  EXPECT_STREQ(to_string(LayerKind::kClassifier), "classifier");
}

}  // namespace
}  // namespace mnas::space

namespace mnas::space {
namespace {

TEST(LayerSpecValidation, HandBuiltBlockArgsAreChecked) {
  ArchSpec arch;
  BlockArgs b;
  b.input_filters = 32;
  b.output_filters = 16;
  b.strides = {0, 1};
  arch.blocks.push_back(b);
  try {
    expand_layers(arch, GlobalParams{});
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("stage 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("s01"), std::string::npos) << e.what();
  }
  arch.blocks[0].strides = {1, 1};
  arch.blocks[0].kernel_size = 4;
  EXPECT_THROW(expand_layers(arch, GlobalParams{}), ParseError);
}

}  // namespace
}  // namespace mnas::space
