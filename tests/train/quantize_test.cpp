// int8 quantization maths (train/quantize.h) against values computed by hand
// from the TFLite int8 specification: real = scale * (q - zero_point).
#include "train/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"

namespace mnas::train::quant {
namespace {

TEST(Quantize, RangeIgnoresNonFiniteValues) {
  Range r;
  EXPECT_TRUE(r.empty());
  const float v[] = {0.5f, -2.f, std::nanf(""), std::numeric_limits<float>::infinity(), 3.f};
  r.observe(v, 5);
  EXPECT_FALSE(r.empty());
  EXPECT_EQ(r.min, -2.f);
  EXPECT_EQ(r.max, 3.f);
}

TEST(Quantize, ActivationParamsCoverTheRangeAndZero) {
  // [-1, 3]: scale 4/255, zero point round(-128 + 1 / (4/255)) = round(-64.25) = -64.
  Params p = activation_params({-1.f, 3.f});
  EXPECT_FLOAT_EQ(p.scale, 4.f / 255.f);
  EXPECT_EQ(p.zero_point, -64);
  // After a ReLU, [0, 6]: zero at -128 exactly (what lets ONNX Runtime drop the Relu).
  p = activation_params({0.f, 6.f});
  EXPECT_FLOAT_EQ(p.scale, 6.f / 255.f);
  EXPECT_EQ(p.zero_point, -128);
  // Only positive values, [2, 5]: widened to [0, 5].
  p = activation_params({2.f, 5.f});
  EXPECT_FLOAT_EQ(p.scale, 5.f / 255.f);
  EXPECT_EQ(p.zero_point, -128);
  // Only negative, [-5, -1]: widened to [-5, 0], zero at 127.
  p = activation_params({-5.f, -1.f});
  EXPECT_FLOAT_EQ(p.scale, 5.f / 255.f);
  EXPECT_EQ(p.zero_point, 127);
  // Degenerate: an empty range and [0, 0].
  EXPECT_EQ(activation_params(Range{}).scale, 1.f);
  EXPECT_EQ(activation_params({0.f, 0.f}).zero_point, -128);
}

TEST(Quantize, QuantizeRoundsHalfToEvenAndSaturates) {
  const Params p{0.5f, 10};
  EXPECT_EQ(quantize_int8(1.f, p), 12);     // 2 + 10
  EXPECT_EQ(quantize_int8(0.25f, p), 10);   // 0.5 -> 0 (tie to even)
  EXPECT_EQ(quantize_int8(0.75f, p), 12);   // 1.5 -> 2
  EXPECT_EQ(quantize_int8(-1.25f, p), 8);   // -2.5 -> -2
  EXPECT_EQ(quantize_int8(100.f, p), 127);
  EXPECT_EQ(quantize_int8(-100.f, p), -128);
  EXPECT_FLOAT_EQ(dequantize(12, p), 1.f);
  // Zero is exact for any calibrated range.
  const Params a = activation_params({-0.7f, 2.3f});
  EXPECT_EQ(dequantize(quantize_int8(0.f, a), a), 0.f);
}

TEST(Quantize, WeightsAreSymmetricPerChannel) {
  // Channel scales 31.75 / 127 = 0.25 and 63.5 / 127 = 0.5 (exact in binary,
  // so that the ties below are real ties); an all-zero third channel.
  const std::vector<float> w = {-31.75f, 15.875f, 0.125f, 63.5f, -31.75f, 0.75f, 0.f, 0.f, 0.f};
  const std::vector<float> s = channel_scales(w, 3, 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], 0.25f);
  EXPECT_EQ(s[1], 0.5f);
  EXPECT_EQ(s[2], 1.f);
  const std::vector<int8_t> q = quantize_channels(w, s);
  // 63.5 -> 64, 0.5 -> 0, -63.5 -> -64, 1.5 -> 2 (ties to even).
  const std::vector<int8_t> expected = {-127, 64, 0, 127, -64, 2, 0, 0, 0};
  EXPECT_EQ(q, expected);
  // -128 is never used, even when rounding would reach it.
  EXPECT_EQ(quantize_channels({-1.f, 1.f}, {1.f / 127.f})[0], -127);
}

TEST(Quantize, BiasesUseInputTimesWeightScale) {
  // input scale 0.1, weight scales 0.02 and 0.001: bias scales 0.002 and 0.0001.
  const std::vector<int32_t> q = quantize_bias({0.5f, -0.00025f}, 0.1f, {0.02f, 0.001f});
  EXPECT_EQ(q, (std::vector<int32_t>{250, -2}));  // -2.5 -> -2
  EXPECT_EQ(quantize_bias({1e30f}, 1.f, {1e-10f})[0], std::numeric_limits<int32_t>::max());
}

TEST(Quantize, BadInputsNameWhatIsWrong) {
  try {
    channel_scales({1.f, 2.f, 3.f}, 2, 2);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("3 weights are not 2 channels of 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(channel_scales({1.f, std::nanf("")}, 1, 2), ConfigError);
  EXPECT_THROW(quantize_bias({1.f}, 1.f, {1.f, 2.f}), ConfigError);
  try {
    at(Ranges{}, "blocks.0.depthwise");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blocks.0.depthwise'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mnas::train::quant
