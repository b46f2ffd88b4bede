// LibTorch side of latency/: engines compute what eager computes, profiling
// fills and resumes a table, measurement records its engine. No timing
// assertions (the CI host is shared and loaded).
#include "latency/measure.h"

#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "latency/arch_list.h"
#include "latency/table_store.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

DeployConfig small_deploy(int image_size) {
  DeployConfig d;
  d.image_size = image_size;
  d.num_classes = 10;
  return d;
}

space::GlobalParams small_params(int image_size) {
  space::GlobalParams p;
  p.image_size = image_size;
  p.num_classes = 10;
  return p;
}

// A few layers covering every op, SE, both skips, 5x5 and stride 2.
std::vector<space::LayerSpec> sample_layers(const space::GlobalParams& p) {
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip",
                                        "r2_k5_s22_e6_i16_o24_se0.25_poolskip",
                                        "ds_r1_k3_s11_i24_o24_poolskip", "cn_r1_k5_s22_i24_o32_se0.25"});
  return space::expand_layers(arch, p);
}

TEST(Engines, SingleLayersMatchEager) {
  const auto p = small_params(16);
  const auto d = small_deploy(16);
  for (const auto& l : sample_layers(p)) {
    for (const char* engine : {"onednn", "xnnpack"}) {
      EXPECT_LE(engine_error(l, p, d, engine), kExactTolerance) << engine << " " << space::layer_key(l);
    }
  }
}

TEST(Engines, TheInContextPrologueLeavesLayersExact) {
  const auto p = small_params(16);
  const auto d = small_deploy(16);
  for (const auto& l : sample_layers(p)) {
    if (l.kind == space::LayerKind::kStem) continue;
    EXPECT_LE(engine_error(l, p, d, "onednn", /*in_context=*/true), kExactTolerance) << space::layer_key(l);
  }
}

TEST(Engines, OneDnnPrimitiveCacheIsWidened) {
  // Interleaved measurement of many models needs more than oneDNN's default
  // of 1024 kernels; a capacity the user set is left alone.
  const int capacity = onednn_primitive_cache_capacity();
  if (capacity < 0) GTEST_SKIP() << "this LibTorch does not expose oneDNN's C API";
  if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY")) {
    GTEST_SKIP() << "capacity set by the environment";
  }
  EXPECT_EQ(capacity, 65536);
}

TEST(Engines, WholeNetworksMatchEagerIncludingTfPadding) {
  auto p = small_params(32);
  const auto d = small_deploy(32);
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "r2_k5_s22_e6_i16_o24_se0.25",
                                        "ds_r1_k3_s22_i24_o40"});
  EXPECT_LE(engine_error(arch, p, d, "onednn"), kExactTolerance);
  p.tf_same_padding = true;
  EXPECT_LE(engine_error(arch, p, d, "onednn"), kExactTolerance);
  EXPECT_LE(engine_error(arch, p, d, "xnnpack"), kExactTolerance);
}

TEST(Engines, AutoResolvesToAnExactConcreteEngine) {
  const std::string e = resolve_engine(DeployConfig{});
  EXPECT_TRUE(e == "onednn" || e == "xnnpack" || e == "eager") << e;
  DeployConfig d;
  d.engine = "eager";
  EXPECT_EQ(resolve_engine(d), "eager");
}

TEST(Engines, BadDevicesAreClearErrors) {
  DeployConfig d;
  d.device = "remote:pixel1";
  d.engine = "tflite";
  EXPECT_THROW_MSG(resolve_engine(d), ConfigError, "remote", "import");
  if (!torch::cuda::is_available()) {
    d.device = "cuda";
    d.engine = "auto";
    EXPECT_THROW_MSG(resolve_engine(d), ConfigError, "CUDA is not available");
  }
}

TEST(Measure, RecordsEngineAndRuns) {
  const auto p = small_params(32);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  MeasureOptions o;
  o.warmup = 1;
  o.min_runs = o.max_runs = 5;
  o.min_time_ms = 0;
  const auto m = measure(space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"}), p, d, o);
  EXPECT_EQ(m.engine, "onednn");
  EXPECT_EQ(m.runs, 5);
  EXPECT_GT(m.median_ms, 0.0);
  EXPECT_LE(m.p10_ms, m.median_ms);
  EXPECT_LE(m.median_ms, m.p90_ms);
  EXPECT_GT(m.reference_ms, 0.0);  // normalised by default on CPU
  d.image_size = 64;  // differs from the model's 32
  EXPECT_THROW_MSG(measure(space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"}), p, d, o),
                   ConfigError, "differs from the deploy configuration");
}

TEST(Measure, NormalisesByTheReferenceConstantOrGivesRawTimes) {
  const auto p = small_params(32);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  const auto arch = space::decode_arch({"r1_k3_s11_e6_i32_o32"});
  MeasureOptions o;
  o.warmup = 2;
  o.min_runs = o.max_runs = 21;
  o.min_time_ms = 0;
  o.reference_ms = 1.0;
  const auto one = measure(arch, p, d, o);
  o.reference_ms = 3.0;
  const auto three = measure(arch, p, d, o);
  EXPECT_DOUBLE_EQ(one.reference_ms, 1.0);
  EXPECT_DOUBLE_EQ(three.reference_ms, 3.0);
  // Times are in units of the reference: scaling the constant scales them
  // (the per-run ratios themselves vary a little from run to run).
  EXPECT_NEAR(three.median_ms / one.median_ms, 3.0, 0.75);
  EXPECT_GT(one.raw_median_ms, 0.0);
  o.normalize = false;
  const auto raw = measure(arch, p, d, o);
  EXPECT_EQ(raw.reference_ms, 0.0);
  EXPECT_DOUBLE_EQ(raw.raw_median_ms, raw.median_ms);  // the same runs, unscaled
}

TEST(Measure, TheReferenceNetworkIsMnasnetB1AtTheDeployGeometry) {
  DeployConfig d = small_deploy(32);
  const ModelToMeasure net = reference_network(d);
  EXPECT_EQ(net.params.image_size, 32);
  EXPECT_EQ(net.params.num_classes, d.num_classes);
  EXPECT_EQ(net.params.input_channels, d.input_channels);
  EXPECT_EQ(net.arch.blocks.size(), space::named_arch_spec("mnasnet-b1").blocks.size());
  EXPECT_EQ(reference_workload(d), "network:mnasnet-b1:32x32x" + std::to_string(d.input_channels) +
                                       ":o" + std::to_string(d.num_classes));
}

TEST(Measure, RefusesATableNormalisedByTheReferenceNetworkOfAnotherGeometry) {
  const std::string path = ::testing::TempDir() + "/latency_ref_geometry.db";
  for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  db::Database db(path);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  DeployConfig other = d;
  other.num_classes = d.num_classes + 5;
  store_reference_ms(db, table_id(d, "onednn"), reference_workload(other), 2.0);
  EXPECT_DOUBLE_EQ(table_reference_ms(db, other), 2.0);
  EXPECT_THROW_MSG(table_reference_ms(db, d), ConfigError,
                   "is normalised by the reference network:mnasnet-b1:32x32");
}

TEST(EnsurePredictor, ProfilesOnceThenReadsTheCache) {
  const std::string path = ::testing::TempDir() + "/latency_ensure.db";
  for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  const auto space = space::SearchSpace::from_json(nlohmann::json::parse(R"({
    "stem_size": 16, "depth_divisor": 8,
    "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                 {"filters": 24, "repeats": 2, "stride": 2}],
    "choices": {"conv_op": ["sepconv", "mbconv3"], "kernel_size": [3], "se_ratio": [0, 0.25],
                "skip": ["identity"], "filter_multiplier": [1.0], "repeat_delta": [0]}})"));
  const DeployConfig d = small_deploy(32);
  PredictorOptions o;
  o.quiet = o.profile.quiet = true;
  o.profile.warmup = 1;
  o.profile.min_runs = o.profile.max_runs = 2;
  o.profile.min_time_ms = 0;
  o.profile.chunk = 3;
  o.measure.warmup = 1;
  o.measure.min_runs = o.measure.max_runs = 3;
  o.measure.min_time_ms = 0;
  o.calibration_archs = 4;
  db::Database db(path);
  const Predictor p = ensure_predictor(db, space, d, o);
  const auto params = space.global_params(apply_deploy({}, d));
  const auto layers = space.enumerate_layers(params);
  EXPECT_TRUE(missing_layers(p.table(), layers).empty());
  EXPECT_EQ(p.table().layers.size(), layers.size());
  EXPECT_EQ(p.table().calibration.size(), 4u);
  EXPECT_EQ(p.correction().num_points, 4);
  for (const auto& a : sample_archs(space, 3, 99)) EXPECT_GT(p.predict_ms(a), 0.0);
  // Everything is cached: nothing left to profile or calibrate.
  EXPECT_EQ(profile_layers(db, layers, params, d, o.profile), 0);
  EXPECT_EQ(calibrate(db, sample_archs(space, 4, kCalibrationSeed), params, d, true, o.measure), 0);
  const Predictor again = ensure_predictor(db, space, d, o);
  EXPECT_EQ(again.table().layers.size(), layers.size());
  // The table's reference constant was measured once and is reused.
  const TableId id = table_id(d, "onednn");
  std::string workload;
  const double ref = load_reference_ms(db, id, &workload);
  EXPECT_GT(ref, 0.0);
  EXPECT_EQ(workload, reference_workload(d));
  EXPECT_DOUBLE_EQ(table_reference_ms(db, d), ref);
  EXPECT_DOUBLE_EQ(again.correction().scale, p.correction().scale);
}

}  // namespace
}  // namespace mnas::latency
