// Reward ACC * (LAT/T)^w and latency-with-units parsing; golden values
// computed by hand (2^-0.07 = exp(-0.07 ln 2) = 0.952638, 2^0.07 = 1.049717).
#include <gtest/gtest.h>

#include "../space/expect_throw_msg.h"
#include "common/error.h"
#include "search/reward.h"

namespace mnas::search {
namespace {

TEST(RewardTest, SoftConstraint) {
  RewardConfig c;  // T = 75 ms, alpha = beta = -0.07
  EXPECT_NEAR(reward(0.8, 75, c), 0.8, 1e-12);
  EXPECT_NEAR(reward(0.8, 150, c), 0.8 * 0.952638, 1e-6);   // 0.762110
  EXPECT_NEAR(reward(0.8, 37.5, c), 0.8 * 1.049717, 1e-6);  // 0.839774
  // The paper's rationale: 2x latency with 5% more accuracy is about a tie.
  EXPECT_NEAR(reward(0.8 * 1.05, 150, c) / reward(0.8, 75, c), 1.0, 0.001);
}

TEST(RewardTest, HardConstraint) {
  const RewardConfig c = with_preset(RewardConfig{}, RewardKind::kHard);
  EXPECT_EQ(c.alpha, 0.0);
  EXPECT_EQ(c.beta, -1.0);
  EXPECT_DOUBLE_EQ(reward(0.8, 37.5, c), 0.8);
  EXPECT_DOUBLE_EQ(reward(0.8, 75, c), 0.8);
  EXPECT_DOUBLE_EQ(reward(0.8, 150, c), 0.4);
}

TEST(RewardTest, CustomExponentsAndFailures) {
  RewardConfig c;
  c.kind = RewardKind::kCustom;
  c.alpha = -0.5;
  c.beta = -2;
  c.target_ms = 80;
  EXPECT_NEAR(reward(0.8, 40, c), 0.8 * 1.41421356, 1e-7);
  EXPECT_NEAR(reward(0.8, 160, c), 0.2, 1e-12);
  EXPECT_EQ(reward(0.0, 40, c), 0.0);
  EXPECT_EQ(reward(0.8, 0, c), 0.0);
  EXPECT_EQ(reward(0.8, std::nan(""), c), 0.0);
}

TEST(RewardTest, JsonIsStrict) {
  const auto c = reward_config_from_json({{"target_ms", 60}, {"kind", "hard"}});
  EXPECT_EQ(c.target_ms, 60);
  EXPECT_EQ(c.beta, -1);
  EXPECT_EQ(reward_config_from_json(to_json(c)).beta, -1);
  EXPECT_THROW_MSG(reward_config_from_json({{"target", 60}}), ConfigError, "reward.target");
  EXPECT_THROW_MSG(reward_config_from_json({{"kind", "soft"}, {"alpha", -0.5}}), ConfigError,
                   "custom");
  EXPECT_THROW_MSG(reward_config_from_json({{"kind", "custom"}, {"alpha", -0.5}}), ConfigError,
                   "beta");
  EXPECT_THROW_MSG(reward_config_from_json({{"kind", "medium"}}), ConfigError, "medium");
  EXPECT_THROW_MSG(reward_config_from_json({{"target_ms", 0}}), ConfigError, "target_ms");
  EXPECT_THROW_MSG(reward_config_from_json({{"kind", "custom"}, {"alpha", 0.1}, {"beta", -1}}),
                   ConfigError, "alpha");
}

TEST(RewardTest, ParsesLatencyWithUnits) {
  EXPECT_DOUBLE_EQ(parse_latency_ms("75ms"), 75);
  EXPECT_DOUBLE_EQ(parse_latency_ms("0.075s"), 75);
  EXPECT_DOUBLE_EQ(parse_latency_ms("75000us"), 75);
  EXPECT_DOUBLE_EQ(parse_latency_ms(" 75 ms "), 75);
  EXPECT_THROW_MSG(parse_latency_ms("75"), ConfigError, "'75'", "unit is missing");
  EXPECT_THROW_MSG(parse_latency_ms("75min"), ConfigError, "unknown unit 'min'");
  EXPECT_THROW_MSG(parse_latency_ms("0ms"), ConfigError, "> 0");
  EXPECT_THROW_MSG(parse_latency_ms("-5ms"), ConfigError, "> 0");
  EXPECT_THROW_MSG(parse_latency_ms("ms"), ConfigError, "not a number");
  EXPECT_THROW(parse_latency_ms(""), ConfigError);
}

}  // namespace
}  // namespace mnas::search
