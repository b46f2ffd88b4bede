#include "latency/predictor.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/expect_throw_msg.h"

namespace mnas::latency {
namespace {

const std::vector<std::string> kSmall = {"r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24"};

// stem, 3 block layers, head, classifier with hand-set times 1..6 ms.
LatencyTable small_table(const space::GlobalParams& p) {
  LatencyTable t;
  t.id = {"cpu", "onednn", 1, p.image_size, 1};
  const auto layers = space::expand_layers(space::decode_arch(kSmall), p);
  double ms = 1.0;
  for (const auto& l : layers) t.layers[space::layer_key(l)] = {ms, ms, ms, 1}, ms += 1.0;
  return t;
}

TEST(Predictor, LutSumAndCorrection) {
  space::GlobalParams p;
  const auto layers = space::expand_layers(space::decode_arch(kSmall), p);
  ASSERT_EQ(layers.size(), 6u);
  const Predictor plain(small_table(p), p, Correction{});
  EXPECT_DOUBLE_EQ(plain.lut_sum_ms(layers), 21.0);
  EXPECT_DOUBLE_EQ(plain.predict_ms(layers), 21.0);
  Correction c;
  c.scale = 1.5;
  c.per_layer_ms = 0.1;
  c.per_mact_ms = 0.5;
  c.offset_ms = 2.0;
  // Activations (in + out elements) of the six layers, by hand: stem
  // 224x224x3 -> 112x112x32, 112x112x32 -> 112x112x16, -> 56x56x24,
  // -> 56x56x24, head -> 56x56x1280, classifier -> 1000.
  const double act = activations_m(layers);
  EXPECT_DOUBLE_EQ(act, (150528.0 + 401408 + 401408 + 200704 + 200704 + 75264 + 75264 + 75264 +
                         75264 + 4014080 + 4014080 + 1000) / 1e6);
  const Predictor corrected(small_table(p), p, c);
  EXPECT_DOUBLE_EQ(corrected.predict_ms(layers), 1.5 * 21.0 + 0.6 + 0.5 * act + 2.0);
  EXPECT_DOUBLE_EQ(corrected.predict_ms(space::decode_arch(kSmall)),
                   1.5 * 21.0 + 0.6 + 0.5 * act + 2.0);
  // Input heights: stem 224 (1 ms), blocks 112 (2 ms) and 112 (3 ms: the
  // stride-2 layer takes 112 px in), 56 (4 ms), head and classifier 56 (5, 6).
  const auto by = plain.lut_by_group_ms(layers);
  EXPECT_EQ(by, (std::map<std::string, double>{{"224px stem", 1.0},
                                               {"112px mbconv", 5.0},
                                               {"56px mbconv", 4.0},
                                               {"56px head", 5.0},
                                               {"56px classifier", 6.0}}));
  c.group_scales = {{"112px mbconv", 2.0}, {"56px mbconv", 0.5}, {"56px head", 0.5}, {"56px classifier", 0.5}};
  const Predictor per_res(small_table(p), p, c);
  EXPECT_DOUBLE_EQ(per_res.predict_ms(layers), 1.5 * 1.0 + 2.0 * 5.0 + 0.5 * 15.0 + 0.6 + 0.5 * act + 2.0);
}

TEST(Predictor, MissingLayerNamesTheSignature) {
  space::GlobalParams p;
  const Predictor pred(small_table(p), p, Correction{});
  auto arch = space::decode_arch(kSmall);
  arch.blocks[1].kernel_size = 5;
  EXPECT_THROW_MSG(pred.predict_ms(arch), MissingLayerError,
                   "block:mbconv:k5:s22:e6:f96:se0:none:112x112x16:o24",
                   "cpu/onednn/1t/224px/b1", "mnas_latency profile");
}

// Calibration points with all of their LUT time at one input height.
std::vector<FitPoint> one_height(const std::vector<double>& lut, const std::vector<int>& n,
                                         const std::vector<double>& act, const std::vector<double>& y) {
  std::vector<FitPoint> p;
  for (size_t i = 0; i < y.size(); ++i) p.push_back({{{"56px mbconv", lut[i]}}, n[i], act[i], y[i]});
  return p;
}

TEST(FitCorrection, RecoversExactCoefficients) {
  // y = 1.2 * lut + 0.05 * n + 0.4 * act + 0.3, hand-picked points.
  const std::vector<double> lut = {5, 8, 12, 20, 7, 15, 9, 11};
  const std::vector<int> n = {14, 18, 22, 25, 20, 16, 19, 21};
  const std::vector<double> act = {3.1, 4.0, 2.2, 5.5, 3.3, 4.8, 2.9, 3.7};
  std::vector<double> y;
  for (size_t i = 0; i < lut.size(); ++i) y.push_back(1.2 * lut[i] + 0.05 * n[i] + 0.4 * act[i] + 0.3);
  const Correction c = fit_correction(one_height(lut, n, act, y), /*ridge=*/0.0);
  EXPECT_NEAR(c.scale_for("56px mbconv"), 1.2, 1e-9);
  EXPECT_NEAR(c.per_layer_ms, 0.05, 1e-9);
  EXPECT_NEAR(c.per_mact_ms, 0.4, 1e-9);
  EXPECT_NEAR(c.offset_ms, 0.3, 1e-9);
  EXPECT_EQ(c.num_points, 8);
}

// Twelve hand-picked points with y = 1.3 * lut112 + 0.7 * lut14 + (stem: the
// same 0.5 ms everywhere, no scale of its own) + 0.02 * n + 0.1 * act + 0.4.
std::vector<FitPoint> two_group_points() {
  const std::vector<double> l112 = {2.0, 3.5, 1.2, 4.1, 2.8, 3.0, 1.9, 2.2, 3.9, 2.5, 1.5, 3.3};
  const std::vector<double> l14 = {0.9, 0.4, 1.3, 0.7, 1.1, 0.5, 0.8, 1.6, 0.6, 1.0, 1.4, 0.3};
  const std::vector<int> n = {18, 21, 15, 24, 20, 17, 22, 19, 23, 16, 25, 20};
  const std::vector<double> act = {3.0, 4.2, 2.1, 5.0, 3.6, 2.9, 4.4, 3.1, 4.8, 2.6, 3.9, 3.3};
  std::vector<FitPoint> p;
  for (size_t i = 0; i < n.size(); ++i) {
    const double y = 1.3 * l112[i] + 0.7 * l14[i] + 0.5 + 0.02 * n[i] + 0.1 * act[i] + 0.4;
    p.push_back({{{"224px stem", 0.5}, {"112px mbconv", l112[i]}, {"14px conv", l14[i]}}, n[i], act[i], y});
  }
  return p;
}

TEST(FitCorrection, RecoversOneScalePerGroup) {
  const Correction c = fit_correction(two_group_points(), /*ridge=*/0.0);
  ASSERT_EQ(c.group_scales.size(), 2u);
  EXPECT_NEAR(c.scale_for("112px mbconv"), 1.3, 1e-9);
  EXPECT_NEAR(c.scale_for("14px conv"), 0.7, 1e-9);
  EXPECT_EQ(c.scale_for("224px stem"), 1.0);  // constant: counted once, the offset absorbs the rest
  EXPECT_NEAR(c.per_layer_ms, 0.02, 1e-9);
  EXPECT_NEAR(c.per_mact_ms, 0.1, 1e-9);
  EXPECT_NEAR(c.offset_ms, 0.4, 1e-9);
}

TEST(FitCorrection, RidgePullsGroupScalesTowardsOne) {
  const auto p = two_group_points();  // true scales 1.3 and 0.7
  const Correction mild = fit_correction(p);  // kCorrectionRidge
  const Correction strong = fit_correction(p, 1e6);
  EXPECT_GT(mild.scale_for("112px mbconv"), 1.0);
  EXPECT_LT(mild.scale_for("112px mbconv"), 1.3);
  EXPECT_GT(mild.scale_for("14px conv"), 0.7);
  EXPECT_LT(mild.scale_for("14px conv"), 1.0);
  EXPECT_NEAR(strong.scale_for("112px mbconv"), 1.0, 1e-3);
  EXPECT_NEAR(strong.scale_for("14px conv"), 1.0, 1e-3);
  EXPECT_THROW_MSG(fit_correction(p, -1.0), ConfigError, "ridge should be >= 0");
}

TEST(FitCorrection, TooFewPointsPerCoefficientFallBackToOneScale) {
  // 8 points, 2 varying heights: 5 coefficients need 10 points, so the fit
  // is the global one (y = 2 * (lut112 + lut14) exactly).
  std::vector<FitPoint> p;
  const std::vector<double> l112 = {2.0, 3.5, 1.2, 4.1, 2.8, 3.0, 1.9, 2.2};
  const std::vector<double> l14 = {0.9, 0.4, 1.3, 0.7, 1.1, 0.5, 0.8, 1.6};
  const std::vector<int> n = {18, 21, 15, 24, 20, 17, 22, 19};
  const std::vector<double> act = {3.0, 4.2, 2.1, 5.0, 3.6, 2.9, 4.4, 3.1};
  for (size_t i = 0; i < n.size(); ++i) {
    p.push_back({{{"112px mbconv", l112[i]}, {"14px mbconv", l14[i]}}, n[i], act[i], 2.0 * (l112[i] + l14[i])});
  }
  const Correction c = fit_correction(p);
  EXPECT_TRUE(c.group_scales.empty());
  EXPECT_NEAR(c.scale, 2.0, 1e-9);
  EXPECT_NEAR(c.scale_for("112px mbconv"), 2.0, 1e-9);
  EXPECT_NEAR(c.offset_ms, 0.0, 1e-9);
}

TEST(FitCorrection, FewPointsFitTheScaleOnly) {
  const Correction c = fit_correction(one_height({4, 10}, {10, 12}, {1, 2}, {8, 20}));
  EXPECT_NEAR(c.scale, 2.0, 1e-12);
  EXPECT_EQ(c.per_layer_ms, 0.0);
  EXPECT_EQ(c.offset_ms, 0.0);
  const Correction none = fit_correction({});
  EXPECT_EQ(none.scale, 1.0);
  EXPECT_EQ(none.num_points, 0);
  EXPECT_THROW(fit_correction(one_height({1}, {1}, {1}, {0.0})), ConfigError);
}

TEST(MakePredictor, FitsOnTheCalibrationPoints) {
  space::GlobalParams p;
  LatencyTable t = small_table(p);
  // One calibration architecture: LUT sum 21 measured 42 -> scale 2.
  t.calibration.push_back({space::arch_to_string(space::decode_arch(kSmall)), {42, 41, 43, 30}});
  const Predictor pred = make_predictor(t, p);
  EXPECT_NEAR(pred.correction().scale, 2.0, 1e-12);
  EXPECT_NEAR(pred.predict_ms(space::decode_arch(kSmall)), 42.0, 1e-9);
}

TEST(FlopsPredictor, LinearInMacs) {
  space::GlobalParams p;
  LatencyTable t;
  const std::vector<std::vector<std::string>> archs = {
      kSmall, {"r1_k3_s11_e1_i32_o16_noskip", "r3_k5_s22_e6_i16_o40"}};
  for (const auto& a : archs) {
    const double gmacs = space::model_cost(space::expand_layers(space::decode_arch(a), p)).total.macs * 1e-9;
    const double ms = 20.0 * gmacs + 1.0;
    t.calibration.push_back({space::arch_to_string(space::decode_arch(a)), {ms, ms, ms, 1}});
  }
  const auto f = FlopsPredictor::fit(t, p);
  EXPECT_NEAR(f.ms_per_gmac(), 20.0, 1e-6);
  EXPECT_NEAR(f.offset_ms(), 1.0, 1e-6);
}

TEST(Accuracy, HandComputed) {
  // Errors +10, -5, 0, -20 on 100 ms.
  const Accuracy a = accuracy({110, 95, 100, 80}, {100, 100, 100, 100});
  EXPECT_EQ(a.n, 4);
  EXPECT_NEAR(a.rmse_ms, 11.456439237, 1e-6);  // sqrt(525 / 4)
  EXPECT_NEAR(a.mape_percent, 8.75, 1e-9);
  EXPECT_DOUBLE_EQ(a.within10_percent, 75.0);
  EXPECT_DOUBLE_EQ(a.within5_percent, 50.0);
}

}  // namespace
}  // namespace mnas::latency
