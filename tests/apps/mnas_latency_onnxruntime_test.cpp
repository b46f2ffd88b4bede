// mnas_latency with --engine onnxruntime end to end (issue #20): measure a
// block string, profile layers into the onnxruntime table (keyed by its
// settings) and predict from it; a missing package is one clear line, exit 2.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_app.h"
#include "tests/common/onnxruntime_available.h"

namespace {

const std::string kTiny = "--image-size 32 --num-classes 10";
const std::string kArch = "r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24_se0.25";

TEST(MnasLatencyOnnxRuntime, MeasureProfilePredict) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  std::string dir = ::testing::TempDir() + "mnas_ort_app_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string env = "MNAS_CACHE_DIR=" + dir;
  const auto m = run_app("mnas_latency", "measure --engine onnxruntime " + kArch + " " + kTiny + " --runs 5 --json", env);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto j = nlohmann::json::parse(m.out);
  EXPECT_EQ(j.at("engine"), "onnxruntime");
  EXPECT_EQ(j.at("deploy").at("ort_opt_level"), "all");
  EXPECT_GT(j.at("median_ms").get<double>(), 0.0);
  EXPECT_GT(j.at("reference_ms").get<double>(), 0.0);  // mnasnet-b1, timed in ONNX Runtime
  EXPECT_NE(m.err.find("engine onnxruntime"), std::string::npos) << m.err;

  const std::string db = dir + "/lat.db", archs = dir + "/archs.txt";
  std::ofstream(archs) << kArch << "\n";
  const auto p = run_app("mnas_latency", "profile --db " + db + " --archs " + archs +
                                             " --engine onnxruntime --ort-opt-level extended " + kTiny);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // Stem, 1 + 2 block layers (the second of r2 at stride 1 is another key), head, classifier.
  EXPECT_NE(p.out.find("profiled 6 new layer(s)"), std::string::npos) << p.out;
  const auto t = run_app("mnas_latency", "tables --db " + db);
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("cpu/onnxruntime.extended.sequential/1t/32px/b1\t6 layers"), std::string::npos) << t.out;
  const auto pr = run_app("mnas_latency", "predict --db " + db + " --engine onnxruntime --ort-opt-level extended " +
                                              kArch + " " + kTiny + " --json");
  ASSERT_EQ(pr.exit_code, 0) << pr.err;
  const auto pj = nlohmann::json::parse(pr.out);
  EXPECT_EQ(pj.at("table"), "cpu/onnxruntime.extended.sequential/1t/32px/b1");
  EXPECT_GT(pj.at("lut_sum_ms").get<double>(), 0.0) << pr.out;
  EXPECT_GT(pj.at("predicted_ms").get<double>(), 0.0) << pr.out;
  // Another optimisation level is another table: none yet.
  const auto other = run_app("mnas_latency", "predict --db " + db + " --engine onnxruntime " + kArch + " " + kTiny);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("no latency table"), std::string::npos) << other.err;
  std::filesystem::remove_all(dir);
}

TEST(MnasLatencyOnnxRuntime, MissingPackageNamesSetup) {
  std::string dir = ::testing::TempDir() + "mnas_no_ort_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const auto r = run_app("mnas_latency", "measure --engine onnxruntime " + kArch + " " + kTiny,
                         "MNAS_ONNXRUNTIME_DIR=" + dir + " MNAS_CACHE_DIR=" + dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("scripts/setup.sh"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir), std::string::npos) << r.err;
  const auto bad = run_app("mnas_latency", "measure --engine onnxruntime --ort-opt-level max " + kArch + " " + kTiny);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("ort_opt_level should be disabled, basic, extended or all, got 'max'"), std::string::npos)
      << bad.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
