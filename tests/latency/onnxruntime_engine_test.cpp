// The onnxruntime engine (latency/onnxruntime_engine.h): ONNX Runtime, an
// independent runtime, computes what eager LibTorch computes for networks
// and single layers; measure, profile and a calibrated predictor work end to
// end on a tiny space; auto considers it, and a missing package is a clear
// error for an explicit --engine onnxruntime and a reported skip for auto.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "latency/arch_list.h"
#include "latency/measure.h"
#include "latency/small_configs.h"
#include "latency/table_store.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"
#include "tests/common/onnxruntime_available.h"

namespace mnas::latency {
namespace {

DeployConfig ort_deploy(int image_size) {
  DeployConfig d = small_deploy(image_size);
  d.engine = "onnxruntime";
  return d;
}

TEST(OnnxRuntimeEngine, NetworksAndSingleLayersMatchEager) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  auto p = small_params(32);
  const auto d = ort_deploy(32);
  // Every op: SE, both skips, 5x5 kernels, stride 2, SepConv and Conv.
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "ds_r2_k5_s22_i16_o24_se0.25",
                                        "r2_k3_s22_e6_i24_o24_se0.25_poolskip", "cn_r1_k3_s11_i24_o32"});
  EXPECT_LE(engine_error(arch, p, d, "onnxruntime"), kExactTolerance);
  for (const auto& l : space::expand_layers(arch, p)) {
    EXPECT_LE(engine_error(l, p, d, "onnxruntime"), kExactTolerance) << space::layer_key(l);
    // After the identity prologue of in-context profiling.
    if (l.kind != space::LayerKind::kStem) {
      EXPECT_LE(engine_error(l, p, d, "onnxruntime", /*in_context=*/true), kExactTolerance) << space::layer_key(l);
    }
  }
  p.tf_same_padding = true;
  EXPECT_LE(engine_error(arch, p, d, "onnxruntime"), kExactTolerance);
  EXPECT_EQ(resolve_engine(d), "onnxruntime");
}

TEST(OnnxRuntimeEngine, AutoConsidersItAndSaysWhichItPicked) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const EngineChoice c = choose_engine(DeployConfig{});
  EXPECT_EQ(c.engine, "onnxruntime");
  EXPECT_NE(c.why.find("auto picked onnxruntime"), std::string::npos) << c.why;
}

TEST(OnnxRuntimeEngine, MissingPackageIsAClearErrorAndAutoSkipsIt) {
  const std::string empty = ::testing::TempDir() + "/mnas_no_onnxruntime";
  std::filesystem::create_directories(empty);
  setenv("MNAS_ONNXRUNTIME_DIR", empty.c_str(), 1);
  DeployConfig d = small_deploy(32);
  d.engine = "onnxruntime";
  EXPECT_THROW_MSG(resolve_engine(d), ConfigError, "onnxruntime", "scripts/setup.sh", empty);
  EXPECT_THROW_MSG(measure(space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"}), small_params(32), d), ConfigError,
                   "scripts/setup.sh");
  d.engine = "auto";
  const EngineChoice c = choose_engine(d);
  EXPECT_NE(c.engine, "onnxruntime");
  EXPECT_NE(c.why.find("onnxruntime skipped: not installed"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("scripts/setup.sh"), std::string::npos) << c.why;
  unsetenv("MNAS_ONNXRUNTIME_DIR");
  std::filesystem::remove_all(empty);
}

TEST(OnnxRuntimeEngine, MeasuresInterleavedAndNormalisedByTheReferenceInOnnxRuntime) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const auto d = ort_deploy(32);
  const auto p = small_params(32);
  MeasureOptions o;
  o.warmup = 1;
  o.min_runs = 6;
  o.max_runs = 6;
  o.min_time_ms = 0;
  o.reference_ms = 1.0;  // a fixed constant: normalised times are ratios to the reference
  const std::vector<ModelToMeasure> models = {
      {space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"}), p},
      {space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "r4_k5_s22_e6_i16_o64_se0.25"}), p}};
  std::vector<Progress> heard;
  const auto ms = measure_many(models, d, o, 3, [&](const Progress& e) { heard.push_back(e); });
  ASSERT_EQ(ms.size(), 2u);
  for (const auto& m : ms) {
    EXPECT_EQ(m.engine, "onnxruntime");
    EXPECT_EQ(m.runs, 6);  // 2 per round, 3 rounds
    EXPECT_GT(m.median_ms, 0.0);
    EXPECT_GT(m.raw_median_ms, 0.0);
    EXPECT_LE(m.p10_ms, m.median_ms);
    EXPECT_LE(m.median_ms, m.p90_ms);
    EXPECT_DOUBLE_EQ(m.reference_ms, 1.0);
  }
  // Four more 5x5 MBConv layers with SE cost more than none.
  EXPECT_GT(ms[1].median_ms, ms[0].median_ms);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front().what, "compiling");
  // Round by round, as the LibTorch engines report.
  EXPECT_EQ(heard.back().what, "measuring (3 interleaved rounds)");
  EXPECT_EQ(heard.back().done, 6);
  EXPECT_EQ(heard.back().total, 6);
  o.normalize = false;
  const Measurement raw = measure(models[0].arch, p, d, o);
  EXPECT_EQ(raw.reference_ms, 0.0);
  EXPECT_DOUBLE_EQ(raw.median_ms, raw.raw_median_ms);
}

TEST(OnnxRuntimeEngine, ProfilesAndCalibratesATinySpaceIntoItsOwnTable) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string path = ::testing::TempDir() + "/latency_ort_ensure.db";
  for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  const auto space = space::SearchSpace::from_json(nlohmann::json::parse(R"({
    "stem_size": 16, "depth_divisor": 8,
    "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                 {"filters": 24, "repeats": 2, "stride": 2}],
    "choices": {"conv_op": ["sepconv", "mbconv3"], "kernel_size": [3], "se_ratio": [0, 0.25],
                "skip": ["identity"], "filter_multiplier": [1.0], "repeat_delta": [0]}})"));
  const DeployConfig d = ort_deploy(32);
  PredictorOptions o;
  o.profile.warmup = 1;
  o.profile.min_runs = o.profile.max_runs = 3;
  o.profile.min_time_ms = 0;
  o.measure.warmup = 1;
  o.measure.min_runs = o.measure.max_runs = 3;
  o.measure.min_time_ms = 0;
  o.calibration_archs = 4;
  db::Database db(path);
  std::vector<Progress> heard;
  const Predictor p = ensure_predictor(db, space, d, o, [&](const Progress& e) { heard.push_back(e); });
  const TableId id = table_id(d, "onnxruntime");
  EXPECT_EQ(p.table().id, id);
  EXPECT_EQ(to_string(id), "cpu/onnxruntime.all.sequential/1t/32px/b1");
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front().what, "profiling " + to_string(id) + " layers");
  const auto params = space.global_params(apply_deploy({}, d));
  const auto layers = space.enumerate_layers(params);
  EXPECT_TRUE(missing_layers(p.table(), layers).empty());
  EXPECT_EQ(p.table().calibration.size(), 4u);
  for (const auto& a : sample_archs(space, 3, 99)) EXPECT_GT(p.predict_ms(a), 0.0);
  // The table's reference constant was measured in ONNX Runtime and stored.
  std::string workload;
  EXPECT_GT(load_reference_ms(db, id, &workload), 0.0);
  EXPECT_EQ(workload, reference_workload(d));
  // Other settings are another table: nothing of this one is reused.
  DeployConfig basic = d;
  basic.ort_opt_level = "basic";
  EXPECT_NE(table_id(basic, "onnxruntime"), id);
  EXPECT_TRUE(load_table(db, table_id(basic, "onnxruntime")).layers.empty());
}

}  // namespace
}  // namespace mnas::latency
