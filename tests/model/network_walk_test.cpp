// The network walk: TF 'same' padding against hand-computed values of the TF
// definition, and the steps each kind of layer makes.
#include "model/network_walk.h"

#include <gtest/gtest.h>

#include "space/block_codec.h"

namespace mnas::model {
namespace {

// Golden values computed by hand from tf.nn.conv2d's 'SAME' rule:
// pad_total = max((ceil(in / s) - 1) * s + k - in, 0), before = total / 2.
TEST(SamePadding, MatchesTheTfDefinition) {
  struct Case {
    int in, stride, k, total;
  };
  for (const Case& c : {Case{224, 2, 3, 1}, Case{225, 2, 3, 2}, Case{7, 2, 5, 4}, Case{8, 2, 5, 3},
                        Case{8, 2, 7, 5}, Case{9, 2, 7, 6}, Case{5, 1, 3, 2}, Case{112, 1, 5, 4},
                        Case{1, 2, 3, 2}, Case{2, 2, 3, 1}, Case{4, 2, 1, 0}, Case{2, 2, 1, 0},
                        Case{1, 1, 1, 0}}) {
    EXPECT_EQ(same_pad_total(c.in, c.stride, c.k), c.total) << c.in << " s" << c.stride << " k" << c.k;
  }
}

TEST(SamePadding, PutsTheOddPixelAfterPerAxis) {
  // 8 x 7 input, k5 s2: H total 3 (1 before, 2 after), W total 4 (2, 2).
  EXPECT_EQ(conv_padding(8, 7, 5, {2, 2}, true), (Padding{1, 2, 2, 2}));
  // 224 x 224, k3 s2: total 1, all of it bottom/right.
  EXPECT_EQ(conv_padding(224, 224, 3, {2, 2}, true), (Padding{0, 0, 1, 1}));
  // Strides per axis: k3 s(2, 1) on 224 x 224: H total 1, W total 2.
  EXPECT_EQ(conv_padding(224, 224, 3, {2, 1}, true), (Padding{0, 1, 1, 1}));
  EXPECT_FALSE(conv_padding(4, 4, 1, {2, 2}, true).any());
  // Without tf_same: PyTorch's symmetric k / 2 whatever the size.
  EXPECT_EQ(conv_padding(8, 7, 5, {2, 2}, false), (Padding{2, 2, 2, 2}));
  EXPECT_EQ(conv_padding(8, 8, 7, {1, 1}, false), (Padding{3, 3, 3, 3}));
}

std::vector<space::LayerSpec> layers_of(const std::vector<std::string>& blocks, int image_size) {
  space::GlobalParams p;
  p.image_size = image_size;
  p.num_classes = 10;
  return space::expand_layers(space::decode_arch(blocks), p);
}

std::string kinds(const std::vector<Step>& steps) {
  std::string s;
  for (const auto& st : steps) {
    if (!s.empty()) s += " ";
    switch (st.kind) {
      case Step::kConv: s += st.conv.module.empty() ? "conv" : st.conv.module; break;
      case Step::kSqueezeExcite: s += st.se.module; break;
      case Step::kResidual: s += st.residual.skip == space::SkipOp::kPool ? "+pool" : "+x"; break;
      case Step::kClassifier: s += "fc"; break;
    }
  }
  return s;
}

TEST(LayerSteps, EachOpMakesItsStepsInForwardOrder) {
  const auto l = layers_of({"r1_k3_s11_e1_i32_o16_noskip", "r2_k5_s22_e6_i16_o24_se0.25",
                            "ds_r1_k3_s11_i24_o24_se0.25_poolskip", "cn_r1_k7_s22_i24_o24_se0.25_poolskip"},
                           33);
  ASSERT_EQ(l.size(), 8u);  // stem, 5 blocks, head, classifier
  EXPECT_EQ(kinds(layer_steps(l[0], false, "stem")), "stem");
  EXPECT_EQ(kinds(layer_steps(l[1], false)), "depthwise project");  // e1: no expansion, noskip
  EXPECT_EQ(kinds(layer_steps(l[2], false, "blocks.1")),
            "blocks.1.expand blocks.1.depthwise blocks.1.se blocks.1.project");
  EXPECT_EQ(kinds(layer_steps(l[3], false)), "expand depthwise se project +x");
  EXPECT_EQ(kinds(layer_steps(l[4], false)), "depthwise se pointwise +pool");
  EXPECT_EQ(kinds(layer_steps(l[5], false)), "conv se +pool") << space::layer_key(l[5]);
  EXPECT_EQ(kinds(layer_steps(l[6], false, "head")), "head");
  EXPECT_EQ(kinds(layer_steps(l[7], false, "classifier")), "fc");
  EXPECT_EQ(layer_scope(l[3], 2), "blocks.2");
  EXPECT_EQ(weight_key("", "conv.weight"), "conv.weight");
  EXPECT_EQ(weight_key("blocks.2.se", "reduce.bias"), "blocks.2.se.reduce.bias");
}

TEST(LayerSteps, ConvStepsCarryShapesActivationsAndPadding) {
  const auto l = layers_of({"r1_k3_s11_e1_i32_o16_noskip", "r1_k5_s22_e6_i16_o24_se0.25",
                            "ds_r1_k3_s11_i24_o24", "cn_r1_k7_s22_i24_o24_se0.25_poolskip"},
                           33);
  const auto stem = layer_steps(l[0], true)[0].conv;  // 33 -> 17, k3 s2: total 2
  EXPECT_EQ(stem.out_h, 17);
  EXPECT_EQ(stem.pad, (Padding{1, 1, 1, 1}));
  EXPECT_TRUE(stem.relu);
  const auto mb = layer_steps(l[2], true);  // 17 x 17 x 16, e6 k5 s2, SE
  ASSERT_EQ(mb.size(), 4u);
  EXPECT_EQ(mb[0].conv.kernel_size, 1);
  EXPECT_EQ(mb[0].conv.out_channels, 96);
  EXPECT_EQ(mb[1].conv.groups, 96);
  EXPECT_EQ(mb[1].conv.pad, (Padding{2, 2, 2, 2}));  // 17 -> 9: total 4
  EXPECT_EQ(mb[1].conv.out_h, 9);
  EXPECT_EQ(mb[2].se.channels, 96);
  EXPECT_EQ(mb[2].se.squeeze, 4);  // from the 16 input filters
  EXPECT_FALSE(mb[3].conv.relu);   // linear projection
  EXPECT_EQ(mb[3].conv.in_h, 9);
  const auto sep = layer_steps(l[3], false);
  EXPECT_TRUE(sep[1].conv.relu);  // SepConv's pointwise has ReLU
  EXPECT_EQ(sep[0].conv.pad, (Padding{1, 1, 1, 1}));
  const auto cn = layer_steps(l[4], true);  // 9 -> 5, k7 s2: total 6
  EXPECT_EQ(cn[0].conv.pad, (Padding{3, 3, 3, 3}));
  EXPECT_EQ(cn[2].residual.strides, (std::array<int, 2>{2, 2}));
  EXPECT_EQ(cn[2].residual.pool_kernel, 3);
}

// emit_steps keeps a residual's input before the first step, and the
// network walk names blocks by their index.
struct Recorder : Emitter<std::string> {
  std::vector<std::string> calls;
  std::string conv(const std::string& x, const ConvStep& c) override { return log(x + ">" + c.module); }
  std::string squeeze_excite(const std::string& x, const SqueezeExciteStep& s) override {
    return log(x + ">" + s.module);
  }
  std::string keep(const std::string& x) override { return log("keep " + x); }
  std::string residual(const std::string& y, const std::string& in, const ResidualStep&) override {
    return log(y + "+" + in);
  }
  std::string classifier(const std::string& x, const ClassifierStep& c) override { return log(x + ">" + c.module); }
  std::string log(const std::string& s) {
    calls.push_back(s);
    return "v" + std::to_string(calls.size() - 1);
  }
};

TEST(EmitNetwork, WalksEveryLayerWithItsCheckpointPath) {
  const auto l = layers_of({"r1_k3_s11_e1_i32_o16_noskip", "r1_k3_s11_e1_i16_o16"}, 16);
  Recorder r;
  const std::string out = emit_network(l, false, r, std::string("in"));
  const std::vector<std::string> want = {"in>stem", "v0>blocks.0.depthwise", "v1>blocks.0.project",
                                         "keep v2", "v2>blocks.1.depthwise", "v4>blocks.1.project",
                                         "v5+v3", "v6>head", "v7>classifier"};
  EXPECT_EQ(r.calls, want);
  EXPECT_EQ(out, "v8");
}

}  // namespace
}  // namespace mnas::model
