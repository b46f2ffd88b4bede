// Issue #17: what the final stage trains and how its outcome is compared with
// the MobileNetV2 curve.
#include <gtest/gtest.h>

#include "../space/expect_throw_msg.h"
#include "common/error.h"
#include "experiments/final_plan.h"
#include "experiments/final_report.h"
#include "space/named_archs.h"

namespace mnas::experiments {
namespace {

TEST(FinalPlan, ShippedRecipeFileIsTheBuiltInRecipe) {
  const auto file =
      train::load_train_config(std::string(MNAS_SOURCE_DIR) + "/experiments/final-fashion.json");
  EXPECT_EQ(train::to_json(file).dump(), train::to_json(default_final_recipe()).dump());
  EXPECT_EQ(final_recipe_key(file), final_recipe_key(default_final_recipe()));
}

TEST(FinalPlan, RecipeKeyIgnoresPerModelAndRunSettingsOnly) {
  const auto base = default_final_recipe();
  const std::string key = final_recipe_key(base);
  EXPECT_EQ(key.size(), 16u);
  auto same = base;
  same.arch = "mobilenet-v2";
  same.depth_multiplier = 0.5;
  same.seed = 9;
  same.threads = 1;
  same.checkpoint = "x.ckpt";
  same.log_every = 3;
  EXPECT_EQ(final_recipe_key(same), key);
  auto lr = base;
  lr.base_lr = 0.2;
  EXPECT_NE(final_recipe_key(lr), key);
  auto epochs = base;
  epochs.epochs = 3;
  EXPECT_NE(final_recipe_key(epochs), key);
}

TEST(FinalPlan, BaselinesAreThePapersAndParseStrictly) {
  const auto all = parse_baselines("all");
  ASSERT_EQ(all.size(), 8u);  // MobileNetV2 x0.35..x1.4 + A1, B1, small
  int mbv2 = 0;
  for (const auto& b : all) {
    EXPECT_TRUE(space::is_named_arch(b.arch)) << b.arch;
    mbv2 += b.arch == "mobilenet-v2";
  }
  EXPECT_EQ(mbv2, 5);
  EXPECT_TRUE(parse_baselines("none").empty());
  const auto two = parse_baselines("mobilenet-v2@0.5, mnasnet-a1");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].depth_multiplier, 0.5);
  EXPECT_EQ(baseline_name(two[0]), "mobilenet-v2 x0.5");
  EXPECT_EQ(baseline_name(two[1]), "mnasnet-a1");
  EXPECT_THROW_MSG(parse_baselines("resnet50"), ConfigError, "unknown model 'resnet50'");
  EXPECT_THROW_MSG(parse_baselines("mobilenet-v2@0"), ConfigError, "(0, 4]");
  EXPECT_THROW_MSG(parse_baselines("mobilenet-v2@x"), ConfigError, "got 'x'");
  EXPECT_THROW_MSG(parse_baselines("mnasnet-a1,,"), ConfigError, "empty item");
}

db::TrialRecord trial(int64_t index, const std::string& arch, double reward) {
  db::TrialRecord t;
  t.index = index;
  t.arch = arch;
  t.status = "done";
  t.reward = reward;
  t.accuracy = reward;
  t.latency_ms = 10.0 + static_cast<double>(index);
  return t;
}

TEST(FinalPlan, TopKDistinctArchitecturesThenBaselines) {
  db::ExperimentRecord e;
  e.id = 3;
  e.config = to_json(ExperimentConfig{}).dump();
  const std::string a = "r1_k3_s11_e1_i32_o16", b = "r1_k5_s11_e1_i32_o16", c = "r1_k3_s11_e6_i32_o16";
  // The same architecture sampled twice is trained once.
  const std::vector<db::TrialRecord> trials = {trial(0, a, 0.5), trial(1, b, 0.7), trial(2, b, 0.69),
                                               trial(3, c, 0.6)};
  FinalPlanOptions o;
  o.top_k = 2;
  o.seeds = 2;
  o.baselines = parse_baselines("mobilenet-v2@0.35");
  const auto plan = plan_final_models(e, trials, o);
  ASSERT_EQ(plan.size(), 5u);  // 2 archs x 2 seeds + 1 baseline
  EXPECT_EQ(plan[0].record.trial_index, 1);
  EXPECT_EQ(plan[1].record.trial_index, 1);
  EXPECT_EQ(plan[1].record.key.seed, plan[0].record.key.seed + 1);
  EXPECT_EQ(plan[2].record.trial_index, 3);
  EXPECT_EQ(plan[4].record.key.kind, "baseline");
  EXPECT_EQ(plan[4].config.depth_multiplier, 0.35);
  // Found archs keep the space's stem and divisor; every model its own folder.
  const auto widths = ExperimentConfig{}.space.global_params({});
  EXPECT_EQ(plan[0].config.stem_size, widths.stem_size);
  EXPECT_NE(plan[0].dir_name, plan[1].dir_name);
  EXPECT_EQ(plan[0].record.key.recipe_key, final_recipe_key(o.recipe));
  o.top_k = -1;
  EXPECT_THROW(plan_final_models(e, trials, o), ConfigError);
}

db::FinalRecord row(const std::string& kind, const std::string& arch, double mult, double top1,
                    double device_ms) {
  db::FinalRecord r;
  r.key.kind = kind;
  r.key.arch = arch;
  r.key.depth_multiplier = mult;
  r.status = "done";
  r.test_top1 = top1;
  r.device_ms = device_ms;
  r.name = arch;
  return r;
}

// The MobileNetV2 curve at the paper's published points (MnasNet Table 1 /
// MobileNetV2 paper: x1.0 72.0 % at 75 ms, x1.4 74.7 % at 143 ms on Pixel 1).
TEST(FinalReport, MarginOverTheMobileNetV2CurveInterpolatesLinearly) {
  std::vector<db::FinalRecord> rows = {row("baseline", "mobilenet-v2", 1.0, 0.720, 75),
                                       row("baseline", "mobilenet-v2", 1.4, 0.747, 143),
                                       row("found", "a1", 1, 0.752, 78),
                                       row("found", "far", 1, 0.9, 300)};
  const auto curve = mobilenet_v2_curve(rows, LatencyAxis::kDevice);
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_DOUBLE_EQ(*curve_top1_at(curve, 75), 0.720);
  EXPECT_NEAR(*curve_top1_at(curve, 109), 0.7335, 1e-12);  // halfway
  EXPECT_FALSE(curve_top1_at(curve, 74.9));
  // MnasNet-A1: 75.2 % at 78 ms; the curve there: 72.0 + 2.7 * 3/68.
  const auto m = margin_over_mobilenet_v2(rows[2], rows, LatencyAxis::kDevice);
  ASSERT_TRUE(m);
  EXPECT_NEAR(*m, 0.752 - (0.720 + 0.027 * 3.0 / 68.0), 1e-12);
  EXPECT_FALSE(margin_over_mobilenet_v2(rows[3], rows, LatencyAxis::kDevice));  // outside
  EXPECT_FALSE(margin_over_mobilenet_v2(rows[2], rows, LatencyAxis::kHost));    // no host figures
  // Seeds of one multiplier are averaged.
  rows.push_back(row("baseline", "mobilenet-v2", 1.0, 0.730, 77));
  EXPECT_DOUBLE_EQ(mobilenet_v2_curve(rows, LatencyAxis::kDevice)[0].second, 0.725);
  const auto j = final_to_json(rows[2], rows);
  EXPECT_TRUE(j.at("margin_vs_mobilenet_v2").at("device").is_number());
  EXPECT_TRUE(j.at("margin_vs_mobilenet_v2").at("host").is_null());
}

}  // namespace
}  // namespace mnas::experiments
