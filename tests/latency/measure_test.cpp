// End-to-end measurement records its engine, normalises by the reference
// constant, and repeats (latency/measure.h). No timing assertions (the CI
// host is shared and loaded).
#include "latency/measure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "latency/small_configs.h"
#include "latency/table_store.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"

namespace mnas::latency {
namespace {

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
  // Times are in units of the reference: scaling the constant scales them.
  // The per-run ratio to the reference varies between two measurements, by
  // more than 25 % on a loaded 2-core host (the old +-0.75 band failed
  // there), so the check is a factor of 2 around 3: an unapplied constant
  // gives 1.
  const double ratio = three.median_ms / one.median_ms;
  EXPECT_GT(ratio, 1.5);
  EXPECT_LT(ratio, 6.0);
  EXPECT_GT(one.raw_median_ms, 0.0);
  o.normalize = false;
  const auto raw = measure(arch, p, d, o);
  EXPECT_EQ(raw.reference_ms, 0.0);
  EXPECT_DOUBLE_EQ(raw.raw_median_ms, raw.median_ms);  // the same runs, unscaled
}

TEST(Measure, ManyModelsReportCompilingThenTheirRounds) {
  const auto p = small_params(32);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  MeasureOptions o;
  o.warmup = 1;
  o.min_runs = o.max_runs = 4;
  o.min_time_ms = 0;
  o.normalize = false;
  const std::vector<ModelToMeasure> models = {
      {space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"}), p},
      {space::decode_arch({"r1_k3_s11_e6_i32_o32"}), p}};
  std::vector<Progress> heard;
  const auto ms = measure_many(models, d, o, 2, [&](const Progress& e) { heard.push_back(e); });
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].runs, 4);  // 2 rounds of 2
  ASSERT_EQ(heard.size(), 2u + 4u);
  EXPECT_EQ(heard[0].what, "compiling");
  EXPECT_EQ(heard[1].done, 2);
  EXPECT_EQ(heard[1].total, 2);
  EXPECT_EQ(heard[2].what, "measuring (2 interleaved rounds)");
  EXPECT_EQ(heard[5].done, 4);
  EXPECT_EQ(heard[5].total, 4);
}

TEST(Measure, RepeatsTakeTheReferenceConstantFromTheDb) {
  const std::string path = ::testing::TempDir() + "/latency_repeat.db";
  for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  const auto p = small_params(32);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  {
    db::Database db(path);
    store_reference_ms(db, table_id(d, "onednn"), reference_workload(d), 2.0);
  }
  MeasureOptions o;
  o.warmup = 1;
  o.min_runs = o.max_runs = 3;
  o.min_time_ms = 0;
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip"});
  const auto r = measure_repeated(arch, p, d, o, 2, path);
  ASSERT_EQ(r.runs.size(), 2u);
  EXPECT_EQ(r.reference_constant_from, path);
  EXPECT_DOUBLE_EQ(r.runs[0].reference_ms, 2.0);
  EXPECT_DOUBLE_EQ(r.runs[1].reference_ms, 2.0);
  EXPECT_DOUBLE_EQ(r.stats.median_ms, std::max(r.runs[0].median_ms, r.runs[1].median_ms));
  o.normalize = false;  // raw: no constant, from nowhere
  const auto raw = measure_repeated(arch, p, d, o, 1, path);
  EXPECT_EQ(raw.reference_constant_from, "");
  EXPECT_EQ(raw.runs[0].reference_ms, 0.0);
  EXPECT_THROW_MSG(measure_repeated(arch, p, d, o, 0, path), ConfigError, "repeat should be >= 1");
}

}  // namespace
}  // namespace mnas::latency
