// The learning-rate schedule (train/lr_schedule.h) against the reference.
#include "train/lr_schedule.h"

#include <gtest/gtest.h>

namespace mnas::train {
namespace {

// Reference: batch 4096 on ImageNet (1,281,167 images): peak 0.016 * 4096 /
// 256 = 0.256, steps/epoch 312.7849, warmup int(5 * 312.78) = 1563, decay
// every 2.4 * 312.78 = 750.68 steps, computed from step 0 (staircase).
TEST(LrScheduleTest, ReferenceExponentialStaircase) {
  TrainConfig c;
  const LrSchedule s = LrSchedule::from_config(c, 1281167.0 / 4096);
  EXPECT_DOUBLE_EQ(s.peak_lr, 0.256);
  EXPECT_EQ(s.warmup_steps, 1563);
  EXPECT_NEAR(s.decay_steps, 750.6837890625, 1e-9);
  EXPECT_DOUBLE_EQ(s.at(0), 0.0);
  EXPECT_NEAR(s.at(781), 0.12791810620601407, 1e-15);
  // At the end of warm-up the lr drops to 0.256 * 0.97^2 (floor(5/2.4) = 2).
  EXPECT_NEAR(s.at(1563), 0.2408704, 1e-12);
  EXPECT_NEAR(s.at(2252), 0.2408704, 1e-12);  // 2252 / 750.68 = 2.9999
  EXPECT_NEAR(s.at(2253), 0.233644288, 1e-12);
}

TEST(LrScheduleTest, CosineAfterWarmup) {
  TrainConfig c;
  c.schedule = "cosine";
  c.base_lr = 0.1;
  c.lr_batch_base = 4096;  // peak = 0.1
  c.warmup_epochs = 1;
  c.epochs = 11;
  const LrSchedule s = LrSchedule::from_config(c, 100.0);
  EXPECT_EQ(s.warmup_steps, 100);
  EXPECT_EQ(s.total_steps, 1100);
  EXPECT_NEAR(s.at(50), 0.05, 1e-15);
  EXPECT_NEAR(s.at(100), 0.1, 1e-15);
  EXPECT_NEAR(s.at(600), 0.05, 1e-12);  // half-way: 0.1 * 0.5 * (1 + cos(pi / 2))
  EXPECT_NEAR(s.at(1100), 0.0, 1e-15);
}

}  // namespace
}  // namespace mnas::train
