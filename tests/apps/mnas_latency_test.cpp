// mnas_latency end to end: where `measure` keeps its reference constant.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
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

}  // namespace
