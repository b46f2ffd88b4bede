// The shipped pixel1 profile: it loads, validates and reproduces the
// PUBLISHED Pixel-1 figures (MnasNet paper Table 1, the reference README);
// bad files fail with a message naming the key; every model of the space
// gets a finite positive prediction.
#include "latency/device_profile.h"
#include "latency/builtin_profiles.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

const std::string kProfile = std::string(MNAS_SOURCE_DIR) + "/latency/profiles/pixel1.json";

const DeviceProfile& pixel1() {
  static const DeviceProfile p = read_profile_file(kProfile);
  return p;
}

double predict(const char* model, double multiplier, int image_size = 224, int head_size = 1280) {
  space::GlobalParams params = space::named_arch(model).params;
  params.depth_multiplier = multiplier;
  params.image_size = image_size;
  params.head_size = head_size;
  return pixel1().predict_ms(space::expand_layers(space::named_arch_spec(model), params));
}

TEST(DeviceProfile, ShippedPixel1LoadsAndValidates) {
  const DeviceProfile& p = pixel1();
  EXPECT_EQ(p.name, "pixel1");
  EXPECT_NO_THROW(validate(p));
  EXPECT_GT(p.coefficient(CostTerm::kConvMac), 0.0);
  EXPECT_GT(p.coefficient(CostTerm::kDepthwiseMac), 0.0);
  // The bar: >= 90 % of the fitted published points within +-10 %
  // when held out, and the figures are the file's own record.
  EXPECT_GE(p.fit.loo_within10, 0.9);
  EXPECT_LT(p.fit.loo_mape_percent, 6.0);
  EXPECT_GE(p.fit.network_points, 25);
  EXPECT_FALSE(p.fit.points.empty());
  EXPECT_EQ(static_cast<int>(p.fit.layer_fit.size()), p.fit.layer_points);
}

// Golden values are the published figures (MnasNet paper Table 1; the
// abstract's "1.8x faster than MobileNetV2 (1.4)"), never the code's output.
TEST(DeviceProfile, Pixel1ReproducesPublishedFigures) {
  const double a1 = predict("mnasnet-a1", 1.0);
  EXPECT_NEAR(a1, 78.0, 0.05 * 78.0);
  const double v2 = predict("mobilenet-v2", 1.0);
  EXPECT_NEAR(v2, 75.0, 0.05 * 75.0);
  // MobileNetV2 1.4 widens its head to 1792 (Sandler et al. 2018).
  const double v2_14 = predict("mobilenet-v2", 1.4, 224, 1792);
  EXPECT_NEAR(v2_14 / a1, 1.8, 0.18);  // within 10 % of the paper's ratio
  EXPECT_NEAR(predict("mnasnet-b1", 1.0), 76.0, 0.05 * 76.0);  // arXiv v1
  EXPECT_NEAR(predict("mnasnet-a1", 1.4), 135.0, 0.10 * 135.0);  // README
  EXPECT_NEAR(predict("mnasnet-a1", 0.35), 22.0, 0.10 * 22.0);  // README
  EXPECT_NEAR(predict("mnasnet-small", 1.0), 23.2, 0.10 * 23.2);  // Table 4
}

TEST(DeviceProfile, EveryNamedModelAtEveryScaleIsFinitePositive) {
  for (const auto& name : space::named_arch_names()) {
    for (int size : {96, 128, 160, 192, 224, 320}) {
      for (double m : {0.35, 0.5, 0.75, 1.0, 1.4}) {
        const double ms = predict(name.c_str(), m, size);
        EXPECT_TRUE(std::isfinite(ms) && ms > 0.0) << name << " " << size << " x" << m << ": " << ms;
      }
    }
    // Larger input, larger multiplier: never faster.
    EXPECT_LT(predict(name.c_str(), 1.0, 160), predict(name.c_str(), 1.0, 224)) << name;
    EXPECT_LT(predict(name.c_str(), 0.5), predict(name.c_str(), 1.0)) << name;
  }
}

TEST(DeviceProfile, CoversEveryLayerKindOfTheSpace) {
  // Kernel 7, expansion 1/3/6/9, SE, ds/cn ops, pool skip, noskip.
  const std::vector<std::string> arch = {
      "ds_r1_k3_s11_i32_o16_noskip", "r2_k7_s22_e3_i16_o24_se0.25", "cn_r1_k5_s11_i24_o24_se0.25",
      "r2_k5_s22_e9_i24_o40_poolskip", "r1_k3_s11_e1_i40_o40", "r3_k7_s22_e6_i40_o80_se0.5"};
  space::GlobalParams params;
  const auto layers = space::expand_layers(space::decode_arch(arch), params);
  for (const auto& l : layers) {
    const double ms = pixel1().predict_ms({l});
    EXPECT_TRUE(std::isfinite(ms) && ms > 0.0) << space::layer_key(l);
  }
  const CostFeatures parts = pixel1().predict_terms_ms(layers);
  double sum = 0.0;
  for (double v : parts) sum += v;
  EXPECT_NEAR(sum, pixel1().predict_ms(layers), 1e-9);
  // A bigger kernel costs more; SE costs more than none.
  auto one = [&](const char* s) {
    return pixel1().predict_ms(space::expand_layers(space::decode_arch({s}), params));
  };
  EXPECT_LT(one("r1_k3_s11_e6_i32_o32"), one("r1_k5_s11_e6_i32_o32"));
  EXPECT_LT(one("r1_k5_s11_e6_i32_o32"), one("r1_k7_s11_e6_i32_o32"));
  EXPECT_LT(one("r1_k3_s11_e6_i32_o32"), one("r1_k3_s11_e6_i32_o32_se0.25"));
}

TEST(DeviceProfile, FeaturesByHand) {
  // One MBConv e6 k3 layer 8x8x16 -> 8x8x16 with identity residual.
  space::LayerSpec l = space::block_layer(space::decode_block("r1_k3_s11_e6_i16_o16"), 0, 0, 16, 16,
                                          16, 8, 8);
  const CostFeatures x = layer_features(l);
  const double hw = 64.0, f = 96.0;
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kConvMac)], 2.0 * hw * 16 * f / 1e6);
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kDepthwiseMac)], hw * 9 * f / 1e6);
  // expand (16 in, 96 out), dw (96, 96), project (96, 16), add (3 x 16).
  const double elements = hw * (16 + 96) + hw * (96 + 96) + hw * (96 + 16) + 3 * hw * 16;
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kActivationTraffic)], elements * 4 / 1e6);
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kWeightTraffic)], (16 * f + 9 * f + f * 16) * 4 / 1e6);
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kOperator)], 4.0);
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kSeTraffic)], 0.0);
  EXPECT_DOUBLE_EQ(x[static_cast<int>(CostTerm::kInference)], 0.0);

  // The classifier: pool + FC, weights on their own term, no MACs.
  space::GlobalParams p;
  const CostFeatures fc = layer_features(space::classifier_layer(7, 7, p));
  EXPECT_DOUBLE_EQ(fc[static_cast<int>(CostTerm::kClassifierWeights)], 1280.0 * 1000 * 4 / 1e6);
  EXPECT_DOUBLE_EQ(fc[static_cast<int>(CostTerm::kWeightTraffic)], 0.0);
  EXPECT_DOUBLE_EQ(fc[static_cast<int>(CostTerm::kConvMac)], 0.0);
  EXPECT_DOUBLE_EQ(fc[static_cast<int>(CostTerm::kOperator)], 2.0);
  // The stem marks one whole network.
  EXPECT_DOUBLE_EQ(layer_features(space::stem_layer(p))[static_cast<int>(CostTerm::kInference)], 1.0);
}

TEST(DeviceProfile, JsonRoundTrip) {
  const auto j = nlohmann::json::parse(profile_to_json(pixel1()).dump());
  const DeviceProfile back = profile_from_json(j, "round trip");
  EXPECT_EQ(back.coefficients, pixel1().coefficients);
  EXPECT_EQ(back.fit.points.size(), pixel1().fit.points.size());
  EXPECT_EQ(nlohmann::json::parse(profile_to_json(back).dump()), j);
}

// Each bad file gives a ConfigError naming the key and what was expected.
TEST(DeviceProfile, BadFilesNameTheKey) {
  const auto good = nlohmann::json::parse(profile_to_json(pixel1()).dump());
  auto with = [&](auto&& edit) {
    nlohmann::json j = good;
    edit(j);
    return j;
  };
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["coefficients"].erase("dw_ms_per_mmac"); }), "p"),
                   ConfigError, "p: missing key 'coefficients.dw_ms_per_mmac'", "a number >= 0");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["coefficients"]["dw_ms_per_mmac"] = "x"; }), "p"),
                   ConfigError, "coefficients.dw_ms_per_mmac should be a number >= 0", "\"x\"");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["coefficients"]["conv_ms_per_mmac"] = -1; }), "p"),
                   ConfigError, "coefficients.conv_ms_per_mmac should be a number >= 0");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["coefficients"]["per_flop"] = 1; }), "p"),
                   ConfigError, "unknown key 'coefficients.per_flop'", "dw_ms_per_mmac");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["colour"] = 1; }), "p"), ConfigError,
                   "unknown key 'colour'");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["format"] = "mnas-latency-table"; }), "p"),
                   ConfigError, "format should be \"mnas-device-profile\"");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["name"] = "Pixel 1"; }), "p"), ConfigError,
                   "[a-z0-9_-]");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["fit"]["points"][0]["role"] = "train"; }), "p"),
                   ConfigError, "fit.points[0].role should be \"fit\" or \"check\"");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["fit"].erase("loo_within10"); }), "p"),
                   ConfigError, "missing key 'fit.loo_within10'");
  EXPECT_THROW_MSG(profile_from_json(with([](auto& j) { j["terms"]["conv_ms_per_mmac"] = "per GFLOP"; }), "p"),
                   ConfigError, "terms.conv_ms_per_mmac should be");
  EXPECT_THROW_MSG(profile_from_json(nlohmann::json::array(), "p"), ConfigError,
                   "the document should be an object");
  EXPECT_THROW_MSG(read_profile_file("/nonexistent/pixel1.json"), Error, "/nonexistent/pixel1.json");
}

TEST(BuiltinProfiles, Pixel1IsCompiledInAndEqualsTheFile) {
  EXPECT_EQ(builtin_profile_names(), std::vector<std::string>{"pixel1"});
  EXPECT_TRUE(is_builtin_profile("pixel1"));
  const DeviceProfile& builtin = builtin_profile("pixel1");
  EXPECT_EQ(builtin.coefficients, pixel1().coefficients);
  EXPECT_EQ(&builtin, &builtin_profile("pixel1"));
  EXPECT_EQ(load_profile("pixel1").coefficients, pixel1().coefficients);
  EXPECT_EQ(load_profile(kProfile).coefficients, pixel1().coefficients);
  EXPECT_THROW_MSG(builtin_profile("pixel9"), ConfigError, "unknown device profile 'pixel9'", "pixel1");
  EXPECT_THROW_MSG(load_profile("pixel9"), ConfigError, "neither a built-in profile (pixel1)", ".json");
}

}  // namespace
}  // namespace mnas::latency
