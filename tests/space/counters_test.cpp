// Parameter and multiply-add counters. Every golden number below is copied
// from the reference document (sections 6 and 7) or computed by hand in a
// comment, never taken from a run of the code under test.
#include "space/counters.h"

#include "common/error.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/block_codec.h"
#include "space/layer_spec.h"
#include "space/named_archs.h"

namespace mnas::space {
namespace {

struct Expanded {
  std::vector<LayerSpec> layers;
  ModelCost cost;
};

Expanded cost_of(const ArchSpec& arch, const GlobalParams& p) {
  Expanded e;
  e.layers = expand_layers(arch, p);
  e.cost = model_cost(e.layers);
  return e;
}

Expanded named_cost(const std::string& name, int image_size = 224) {
  GlobalParams p = named_arch(name).params;
  p.depth_multiplier = 1.0;  // "x1.0" in the reference tables
  p.image_size = image_size;
  return cost_of(named_arch_spec(name), p);
}

// The cost of block layer `index` of stage `stage`.
LayerCost block_cost(const Expanded& e, int stage, int index) {
  for (size_t n = 0; n < e.layers.size(); ++n) {
    const LayerSpec& l = e.layers[n];
    if (l.kind == LayerKind::kBlock && l.stage == stage && l.index == index) {
      return e.cost.layers[n];
    }
  }
  ADD_FAILURE() << "no layer s" << stage << "." << index;
  return {};
}

// ------------------------------------------------------- MnasNet-A1 @224 x1.0

TEST(Counters, A1TotalsFromTheReference) {
  const Expanded a1 = named_cost("mnasnet-a1");
  EXPECT_EQ(a1.cost.total.params, 3'887'038);
  EXPECT_EQ(a1.cost.total.macs, 311'579'072);
  EXPECT_EQ(a1.cost.total.conv_macs, 284'949'504);
  EXPECT_EQ(a1.cost.total.depthwise_macs, 25'095'840);
  EXPECT_EQ(a1.cost.total.se_macs, 253'728);
  EXPECT_EQ(a1.cost.total.fc_macs, 1'280'000);
}

TEST(Counters, A1UnsetMultiplierGivesTheSameCounts) {
  // Every A1 width is a multiple of 8, so x1.0 rounding changes nothing.
  const NamedArch& a1 = named_arch("mnasnet-a1");
  const Expanded unset = cost_of(named_arch_spec("mnasnet-a1"), a1.params);
  EXPECT_EQ(unset.cost.total.params, 3'887'038);
  EXPECT_EQ(unset.cost.total.macs, 311'579'072);
}

TEST(Counters, A1PerLayerMacsFromTheReferenceTable) {
  // Reference section 6, "total" column.
  const Expanded a1 = named_cost("mnasnet-a1");
  ASSERT_EQ(a1.cost.layers.size(), a1.layers.size());
  EXPECT_EQ(a1.cost.layers.front().macs, 10'838'016);  // stem
  EXPECT_EQ(block_cost(a1, 0, 0).macs, 10'035'200);
  EXPECT_EQ(block_cost(a1, 1, 0).macs, 29'202'432);
  EXPECT_EQ(block_cost(a1, 1, 1).macs, 25'740'288);
  EXPECT_EQ(block_cost(a1, 2, 0).macs, 9'088'992);
  EXPECT_EQ(block_cost(a1, 2, 1).macs, 9'880'800);
  EXPECT_EQ(block_cost(a1, 2, 2).macs, 9'880'800);
  EXPECT_EQ(block_cost(a1, 3, 0).macs, 11'712'960);
  for (int r = 1; r <= 3; ++r) EXPECT_EQ(block_cost(a1, 3, r).macs, 15'899'520) << r;
  EXPECT_EQ(block_cost(a1, 4, 0).macs, 18'929'280);
  EXPECT_EQ(block_cost(a1, 4, 1).macs, 30'726'528);
  EXPECT_EQ(block_cost(a1, 5, 0).macs, 20'881'056);
  EXPECT_EQ(block_cost(a1, 5, 1).macs, 16'305'600);
  EXPECT_EQ(block_cost(a1, 5, 2).macs, 16'305'600);
  EXPECT_EQ(block_cost(a1, 6, 0).macs, 23'002'560);
  const size_t n = a1.cost.layers.size();
  EXPECT_EQ(a1.cost.layers[n - 2].macs, 20'070'400);  // head
  EXPECT_EQ(a1.cost.layers[n - 1].macs, 1'280'000);   // FC
  EXPECT_EQ(a1.cost.layers[n - 1].fc_macs, 1'280'000);
}

TEST(Counters, A1PerLayerColumnsFromTheReferenceTable) {
  // conv = expand + project; the other columns as printed.
  const Expanded a1 = named_cost("mnasnet-a1");
  const LayerCost s00 = block_cost(a1, 0, 0);  // 0 | 3,612,672 | 0 | 6,422,528
  EXPECT_EQ(s00.conv_macs, 6'422'528);
  EXPECT_EQ(s00.depthwise_macs, 3'612'672);
  EXPECT_EQ(s00.se_macs, 0);
  const LayerCost s20 = block_cost(a1, 2, 0);  // 5,419,008 | 1,411,200 | 864 | 2,257,920
  EXPECT_EQ(s20.conv_macs, 5'419'008 + 2'257'920);
  EXPECT_EQ(s20.depthwise_macs, 1'411'200);
  EXPECT_EQ(s20.se_macs, 864);
  const LayerCost s41 = block_cost(a1, 4, 1);  // 14,751,744 | 1,185,408 | 37,632 | 14,751,744
  EXPECT_EQ(s41.conv_macs, 14'751'744 + 14'751'744);
  EXPECT_EQ(s41.depthwise_macs, 1'185'408);
  EXPECT_EQ(s41.se_macs, 37'632);
  const LayerCost s51 = block_cost(a1, 5, 1);  // 7,526,400 | 1,176,000 | 76,800 | 7,526,400
  EXPECT_EQ(s51.conv_macs, 7'526'400 + 7'526'400);
  EXPECT_EQ(s51.depthwise_macs, 1'176'000);
  EXPECT_EQ(s51.se_macs, 76'800);
  const LayerCost s60 = block_cost(a1, 6, 0);  // 7,526,400 | 423,360 | 0 | 15,052,800
  EXPECT_EQ(s60.conv_macs, 7'526'400 + 15'052'800);
  EXPECT_EQ(s60.depthwise_macs, 423'360);
}

TEST(Counters, A1BlockColumnTotalsFromTheReferenceTable) {
  // Column totals: expand 132,765,696 + project 121,275,392 over the blocks.
  const Expanded a1 = named_cost("mnasnet-a1");
  int64_t block_conv = 0;
  for (size_t n = 0; n < a1.layers.size(); ++n) {
    if (a1.layers[n].kind == LayerKind::kBlock) block_conv += a1.cost.layers[n].conv_macs;
  }
  EXPECT_EQ(block_conv, 132'765'696 + 121'275'392);
}

// ------------------------------------------------- other models (reference §7)

TEST(Counters, B1FromTheReference) {
  const Expanded b1 = named_cost("mnasnet-b1");
  EXPECT_EQ(b1.cost.total.params, 4'383'312);  // = torchvision mnasnet1_0
  EXPECT_EQ(b1.cost.total.macs, 314'415'872);
}

TEST(Counters, SmallFromTheReference) {
  // Uses the actual 8-channel input of the first block (reference section 5).
  const Expanded small = named_cost("mnasnet-small");
  EXPECT_EQ(small.cost.total.params, 2'030'264);
  EXPECT_EQ(small.cost.total.macs, 68'339'184);
}

TEST(Counters, MobileNetV2MatchesTorchvision) {
  // torchvision mobilenet_v2 weights metadata: num_params 3,504,872.
  EXPECT_EQ(named_cost("mobilenet-v2").cost.total.params, 3'504'872);
}

// ------------------------------------------------- hand-computed ds_ and cn_

TEST(Counters, HandComputedDsAndCnWithSe) {
  // image 8, RGB, stem 8 (multiplier unset: no rounding), head 16, 10 classes.
  //
  // stem 3x3 s2, 3 -> 8, 8x8 -> 4x4 (16 px):
  //   params 9*3*8 + 2*8 = 232; conv MACs 16 * 216 = 3,456
  // ds_r1_k3_s11_i8_o16_se0.25 on 4x4 (16 px), F = 8 (actual input), R = int(8*0.25) = 2:
  //   depthwise 9*8 = 72 + BN 16 = 88 params; 16 * 72 = 1,152 dw MACs
  //   SE 8*2 + 2 + 2*8 + 8 = 42 params; 8*2 + 2*8 = 32 SE MACs
  //   pointwise 8*16 = 128 + BN 32 = 160 params; 16 * 128 = 2,048 conv MACs
  //   => 290 params, 3,232 MACs; no residual (8 != 16)
  // cn_r2_k3_s22_i16_o24_se0.5, layer 0: 4x4 -> 2x2 (4 px), 16 -> 24, SE on F = 24 with
  //   R = int(16 * 0.5) = 8:
  //   conv 9*16*24 = 3,456 + BN 48 = 3,504 params; 4 * 3,456 = 13,824 conv MACs
  //   SE 24*8 + 8 + 8*24 + 24 = 416 params; 24*8 + 8*24 = 384 SE MACs
  //   => 3,920 params, 14,208 MACs
  // layer 1: 2x2, 24 -> 24, R = int(24 * 0.5) = 12:
  //   conv 9*24*24 = 5,184 + BN 48 = 5,232 params; 4 * 5,184 = 20,736 conv MACs
  //   SE 24*12 + 12 + 12*24 + 24 = 612 params; 576 SE MACs
  //   => 5,844 params, 21,312 MACs; identity residual
  // head 1x1, 24 -> 16 on 2x2: 384 + BN 32 = 416 params; 4 * 384 = 1,536 conv MACs
  // FC 16 -> 10: 160 + 10 = 170 params; 160 FC MACs
  //
  // params = 232 + 290 + 3,920 + 5,844 + 416 + 170 = 10,872
  // MACs   = 3,456 + 3,232 + 14,208 + 21,312 + 1,536 + 160 = 43,904
  //   conv 3,456 + 2,048 + 13,824 + 20,736 + 1,536 = 41,600; dw 1,152;
  //   SE 32 + 384 + 576 = 992; FC 160
  GlobalParams p;
  p.image_size = 8;
  p.stem_size = 8;
  p.head_size = 16;
  p.num_classes = 10;
  const Expanded e = cost_of(
      decode_arch({"ds_r1_k3_s11_i8_o16_se0.25", "cn_r2_k3_s22_i16_o24_se0.5"}), p);
  ASSERT_EQ(e.layers.size(), 6u);

  EXPECT_EQ(e.cost.layers[0].params, 232);
  EXPECT_EQ(e.cost.layers[0].macs, 3'456);

  const LayerCost ds = block_cost(e, 0, 0);
  EXPECT_EQ(ds.params, 290);
  EXPECT_EQ(ds.depthwise_macs, 1'152);
  EXPECT_EQ(ds.se_macs, 32);
  EXPECT_EQ(ds.conv_macs, 2'048);
  EXPECT_EQ(ds.macs, 3'232);

  const LayerCost cn0 = block_cost(e, 1, 0);
  EXPECT_EQ(cn0.params, 3'920);
  EXPECT_EQ(cn0.conv_macs, 13'824);
  EXPECT_EQ(cn0.se_macs, 384);
  EXPECT_EQ(cn0.depthwise_macs, 0);
  EXPECT_EQ(cn0.macs, 14'208);

  const LayerCost cn1 = block_cost(e, 1, 1);
  EXPECT_EQ(cn1.params, 5'844);
  EXPECT_EQ(cn1.conv_macs, 20'736);
  EXPECT_EQ(cn1.se_macs, 576);
  EXPECT_EQ(cn1.macs, 21'312);

  EXPECT_EQ(e.cost.layers[4].params, 416);
  EXPECT_EQ(e.cost.layers[4].macs, 1'536);
  EXPECT_EQ(e.cost.layers[5].params, 170);
  EXPECT_EQ(e.cost.layers[5].macs, 160);

  EXPECT_EQ(e.cost.total.params, 10'872);
  EXPECT_EQ(e.cost.total.macs, 43'904);
  EXPECT_EQ(e.cost.total.conv_macs, 41'600);
  EXPECT_EQ(e.cost.total.depthwise_macs, 1'152);
  EXPECT_EQ(e.cost.total.se_macs, 992);
  EXPECT_EQ(e.cost.total.fc_macs, 160);
}

TEST(Counters, HandComputedMBConvWithExpansionAndSe) {
  // One MBConv after a stem of 8 on an 8x8 RGB image (stem output 4x4):
  // r1_k5_s22_e4_i8_o8_se0.5: F = 8*4 = 32, R = int(8*0.5) = 4, 4x4 -> 2x2.
  //   expand 1x1 8 -> 32 on 16 px: 256 + BN 64 = 320 params; 16 * 256 = 4,096 MACs
  //   depthwise 5x5 on 32, 4 px out: 800 + BN 64 = 864 params; 4 * 800 = 3,200 MACs
  //   SE 32*4 + 4 + 4*32 + 32 = 292 params; 256 MACs
  //   project 32 -> 8 on 4 px: 256 + BN 16 = 272 params; 4 * 256 = 1,024 MACs
  //   => 1,748 params, 8,576 MACs (conv 5,120, dw 3,200, SE 256)
  GlobalParams p;
  p.image_size = 8;
  p.stem_size = 8;
  const Expanded e = cost_of(decode_arch({"r1_k5_s22_e4_i8_o8_se0.5"}), p);
  const LayerCost b = block_cost(e, 0, 0);
  EXPECT_EQ(b.params, 1'748);
  EXPECT_EQ(b.conv_macs, 5'120);
  EXPECT_EQ(b.depthwise_macs, 3'200);
  EXPECT_EQ(b.se_macs, 256);
  EXPECT_EQ(b.macs, 8'576);
}

TEST(Counters, DsAndMBConvE1DifferOnlyInActivationNotInCost) {
  // Same layers (depthwise + BN, pointwise + BN); only the activation differs.
  GlobalParams p;
  p.image_size = 32;
  const Expanded ds = cost_of(decode_arch({"ds_r2_k3_s22_i32_o32_se0.25"}), p);
  const Expanded mb = cost_of(decode_arch({"r2_k3_s22_e1_i32_o32_se0.25"}), p);
  EXPECT_EQ(ds.cost.total.params, mb.cost.total.params);
  EXPECT_EQ(ds.cost.total.macs, mb.cost.total.macs);
}

// ------------------------------------------------------------- image size

TEST(Counters, MacsScaleWithImageSizeParamsDoNot) {
  const Expanded at224 = named_cost("mnasnet-a1", 224);
  const Expanded at448 = named_cost("mnasnet-a1", 448);
  // 448 halves down to 14 exactly: every feature map has 4x the pixels.
  EXPECT_EQ(at448.cost.total.conv_macs, 4 * at224.cost.total.conv_macs);
  EXPECT_EQ(at448.cost.total.depthwise_macs, 4 * at224.cost.total.depthwise_macs);
  EXPECT_EQ(at448.cost.total.se_macs, at224.cost.total.se_macs);
  EXPECT_EQ(at448.cost.total.fc_macs, at224.cost.total.fc_macs);
  EXPECT_EQ(at448.cost.total.params, at224.cost.total.params);

  const Expanded at112 = named_cost("mnasnet-a1", 112);
  EXPECT_EQ(at112.cost.total.params, 3'887'038);
  EXPECT_EQ(at112.cost.total.fc_macs, 1'280'000);
  EXPECT_EQ(at112.cost.total.se_macs, 253'728);
  // Stem: 56 * 56 * 9 * 3 * 32 = a quarter of the reference 10,838,016.
  EXPECT_EQ(at112.cost.layers.front().macs, 10'838'016 / 4);
  // Deeper maps round up (7 -> 4), so the total is a bit over a quarter.
  EXPECT_GT(at112.cost.total.conv_macs, 284'949'504 / 4);
  EXPECT_LT(at112.cost.total.conv_macs, 284'949'504 / 3);
}

TEST(Counters, TotalIsTheSumOfTheLayers) {
  const Expanded d1 = named_cost("mnasnet-d1-320", 320);
  LayerCost sum;
  for (const LayerCost& c : d1.cost.layers) sum += c;
  EXPECT_EQ(sum.params, d1.cost.total.params);
  EXPECT_EQ(sum.macs, d1.cost.total.macs);
  EXPECT_EQ(sum.macs, sum.conv_macs + sum.depthwise_macs + sum.se_macs + sum.fc_macs);
  EXPECT_GT(sum.params, 0);
}

}  // namespace
}  // namespace mnas::space

namespace mnas::space {
namespace {

// 4096 px with two stages of 9x9 convs over 16384 channels: the MAC count
// does not fit in 64 bits; counting must say so instead of wrapping.
TEST(CountersOverflow, AbsurdModelThrowsInsteadOfWrapping) {
  GlobalParams p;
  p.image_size = 4096;
  const auto arch = decode_arch({"cn_r64_k9_s11_i16384_o16384", "cn_r64_k9_s11_i16384_o16384"});
  EXPECT_THROW(model_cost(expand_layers(arch, p)), mnas::ConfigError);
}

}  // namespace
}  // namespace mnas::space
