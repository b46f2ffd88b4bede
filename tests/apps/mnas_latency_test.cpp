// mnas_latency end to end: where `measure` keeps its reference constant.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_app.h"

namespace {

TEST(MnasLatencyMeasure, WithoutADbCachesTheReferenceConstantForLaterRuns) {
  std::string dir = ::testing::TempDir() + "mnas_cache_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string env = "MNAS_CACHE_DIR=" + dir;
  const std::string args = "measure mnasnet-b1 --image-size 32 --runs 5 --json";
  const auto first = run_app("mnas_latency", args, env);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto j1 = nlohmann::json::parse(first.out);
  EXPECT_EQ(j1.at("reference_constant_from"), dir + "/reference.db");
  EXPECT_TRUE(std::filesystem::exists(dir + "/reference.db"));
  const double constant = j1.at("reference_ms").get<double>();
  EXPECT_GT(constant, 0.0);
  // A later process normalises by the same constant instead of measuring one.
  const auto second = run_app("mnas_latency", args, env);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(second.out).at("reference_ms").get<double>(), constant);
  // Raw wall-clock times use no constant.
  const auto raw = run_app("mnas_latency", args + " --raw", env);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  const auto j3 = nlohmann::json::parse(raw.out);
  EXPECT_EQ(j3.at("reference_ms").get<double>(), 0.0);
  EXPECT_EQ(j3.at("reference_constant_from"), "");
  std::filesystem::remove_all(dir);
}

// Issue #16: the pixel1 profile's estimate, with no database. Golden values
// are the published Pixel-1 figures (MnasNet paper Table 1: A1 78 ms,
// MobileNetV2 1.0 75 ms).
double predict_pixel1(const std::string& args) {
  const auto r = run_app("mnas_latency", "predict --device pixel1 " + args + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("device"), "pixel1");
  EXPECT_TRUE(j.at("estimate").get<bool>());
  EXPECT_GT(j.at("loo_mape_percent").get<double>(), 0.0);
  EXPECT_GT(j.at("loo_within10").get<double>(), 0.0);
  return j.at("ms").get<double>();
}

TEST(MnasLatencyPredict, Pixel1ProfileNeedsNoDatabase) {
  const double a1 = predict_pixel1("mnasnet-a1");
  EXPECT_NEAR(a1, 78, 0.05 * 78);
  EXPECT_NEAR(predict_pixel1("mobilenet-v2"), 75, 0.05 * 75);
  // Resolution and width move the estimate the right way.
  EXPECT_LT(predict_pixel1("mnasnet-a1 --image-size 192"), a1);
  EXPECT_LT(predict_pixel1("mnasnet-a1 --depth-multiplier 0.5"), a1);
  EXPECT_GT(predict_pixel1("mnasnet-a1 --depth-multiplier 1.4"), a1);
  // Block strings as well as names.
  EXPECT_GT(predict_pixel1("r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24"), 0.0);

  const auto text = run_app("mnas_latency", "predict --device pixel1 mnasnet-a1");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("an estimate (fitted device profile: held-out mean error"),
            std::string::npos)
      << text.out;

  // A profile is never measured and has no table.
  const auto measure = run_app("mnas_latency", "measure --device pixel1 mnasnet-a1");
  EXPECT_EQ(measure.exit_code, 2);
  EXPECT_NE(measure.err.find("device profile"), std::string::npos) << measure.err;
  const auto bad = run_app("mnas_latency", "predict --device pixel2 mnasnet-a1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("pixel1"), std::string::npos) << bad.err;
}

// fit-profile rebuilds the shipped pixel1 profile from its measurement file.
TEST(MnasLatencyFitProfile, ReproducesTheShippedPixel1Coefficients) {
  const std::string src = MNAS_SOURCE_DIR;
  const std::string out = ::testing::TempDir() + "mnas_fit_profile_pixel1.json";
  std::filesystem::remove(out);
  const auto r = run_app("mnas_latency", "fit-profile --data " + src +
                                             "/latency/profiles/pixel1-data.json --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mnasnet-a1"), std::string::npos) << r.out;  // the validation table
  std::ifstream fitted_in(out), shipped_in(src + "/latency/profiles/pixel1.json");
  const auto fitted = nlohmann::json::parse(fitted_in);
  const auto shipped = nlohmann::json::parse(shipped_in);
  EXPECT_EQ(fitted.at("name"), "pixel1");
  ASSERT_EQ(fitted.at("coefficients").size(), shipped.at("coefficients").size());
  for (const auto& [key, value] : shipped.at("coefficients").items()) {
    EXPECT_NEAR(fitted.at("coefficients").at(key).get<double>(), value.get<double>(),
                1e-6 * std::max(1.0, std::abs(value.get<double>())))
        << key;
  }
  EXPECT_NEAR(fitted.at("fit").at("loo_mape_percent").get<double>(),
              shipped.at("fit").at("loo_mape_percent").get<double>(), 1e-6);
  // The fitted file is itself a device.
  const auto again = run_app("mnas_latency", "predict --device " + out + " mnasnet-a1 --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NEAR(nlohmann::json::parse(again.out).at("ms").get<double>(),
              predict_pixel1("mnasnet-a1"), 1e-3);
  // --out must not overwrite the data.
  const auto clobber = run_app("mnas_latency", "fit-profile --data " + out + " --out " + out);
  EXPECT_EQ(clobber.exit_code, 2);
  std::filesystem::remove(out);
}

}  // namespace
