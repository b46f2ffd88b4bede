// ensure_predictor profiles and calibrates once, then reads the db
// (latency/calibrate.h, latency/profile.h).
#include "latency/calibrate.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "latency/arch_list.h"
#include "latency/engine.h"
#include "latency/small_configs.h"
#include "latency/table_store.h"

namespace mnas::latency {
namespace {

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
  o.profile.warmup = 1;
  o.profile.min_runs = o.profile.max_runs = 2;
  o.profile.min_time_ms = 0;
  o.profile.chunk = 3;
  o.measure.warmup = 1;
  o.measure.min_runs = o.measure.max_runs = 3;
  o.measure.min_time_ms = 0;
  o.calibration_archs = 4;
  db::Database db(path);
  std::vector<Progress> heard;
  const Predictor p = ensure_predictor(db, space, d, o, [&](const Progress& e) { heard.push_back(e); });
  const auto params = space.global_params(apply_deploy({}, d));
  const auto layers = space.enumerate_layers(params);
  EXPECT_TRUE(missing_layers(p.table(), layers).empty());
  EXPECT_EQ(p.table().layers.size(), layers.size());
  EXPECT_EQ(p.table().calibration.size(), 4u);
  EXPECT_EQ(p.correction().num_points, 4);
  for (const auto& a : sample_archs(space, 3, 99)) EXPECT_GT(p.predict_ms(a), 0.0);
  // Progress: profiling chunks of 3 layers, then the calibration stages.
  // auto: onnxruntime where it is installed, else onednn.
  const TableId id = table_id(d, resolve_engine(d));
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front().what, "profiling " + to_string(id) + " layers");
  EXPECT_EQ(heard.front().done, 3);
  EXPECT_EQ(heard.front().total, static_cast<int>(layers.size()));
  bool announced = false;
  for (const auto& e : heard) announced |= e.what == "calibrating " + to_string(id) && e.total == 0;
  EXPECT_TRUE(announced);
  EXPECT_EQ(heard.back().what, "measuring (3 interleaved rounds)");
  EXPECT_EQ(heard.back().done, heard.back().total);
  EXPECT_EQ(heard.back().total, 3 * 4);
  // Everything is cached: nothing left to profile or calibrate.
  EXPECT_EQ(profile_layers(db, layers, params, d, o.profile), 0);
  EXPECT_EQ(calibrate(db, sample_archs(space, 4, kCalibrationSeed), params, d, true, o.measure), 0);
  const Predictor again = ensure_predictor(db, space, d, o);
  EXPECT_EQ(again.table().layers.size(), layers.size());
  // The table's reference constant was measured once and is reused.
  heard.clear();
  EXPECT_EQ(ensure_predictor(db, space, d, o, [&](const Progress& e) { heard.push_back(e); })
                .table().layers.size(),
            layers.size());
  EXPECT_TRUE(heard.empty());
  std::string workload;
  const double ref = load_reference_ms(db, id, &workload);
  EXPECT_GT(ref, 0.0);
  EXPECT_EQ(workload, reference_workload(d));
  EXPECT_DOUBLE_EQ(table_reference_ms(db, d), ref);
  EXPECT_DOUBLE_EQ(again.correction().scale, p.correction().scale);
}

}  // namespace
}  // namespace mnas::latency
