// The optimizers and the EMA against hand-computed values (train/optim.h).
#include "train/optim.h"

#include <gtest/gtest.h>

namespace mnas::train {
namespace {

// TF RMSProp, w = 1, g = 0.5, lr 0.1, decay 0.9, momentum 0.9, eps 1e-3,
// ms starting at 1 (by hand: ms = 0.925, mom = 0.05 / sqrt(0.926), ...).
TEST(RmsPropTFTest, MatchesHandComputedSteps) {
  auto w = torch::ones({1}, torch::kFloat64).requires_grad_();
  RmsPropTF opt({w}, 0.9, 0.9, 1e-3);
  w.mutable_grad() = torch::full({1}, 0.5, torch::kFloat64);
  opt.step(0.1);
  EXPECT_NEAR(w.item<double>(), 0.9480405541092034, 1e-14);
  opt.step(0.1);
  EXPECT_NEAR(w.item<double>(), 0.8473135845027759, 1e-14);
  EXPECT_NEAR(opt.slots()["ms"][0].item<double>(), 0.8575, 1e-14);
}

TEST(SgdNesterovTest, MatchesHandComputedSteps) {
  auto w = torch::ones({1}, torch::kFloat64).requires_grad_();
  SgdNesterov opt({w}, 0.9);
  w.mutable_grad() = torch::full({1}, 0.5, torch::kFloat64);
  opt.step(0.1);
  EXPECT_NEAR(w.item<double>(), 0.905, 1e-14);  // buf 0.5; 1 - 0.1 * (0.5 + 0.45)
  opt.step(0.1);
  EXPECT_NEAR(w.item<double>(), 0.7695, 1e-14);  // buf 0.95; - 0.1 * (0.5 + 0.855)
}

TEST(EmaTest, NumUpdatesWarmupAndBnStatistics) {
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9999, 0), 0.1);
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9999, 1), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(ema_decay_at(0.9999, 1000000), 0.9999);
  torch::nn::BatchNorm2d model(2), ema(2);
  {
    torch::NoGradGuard g;
    model->weight.fill_(3.0);
    model->running_mean.fill_(1.0);
    model->running_var.fill_(5.0);
    model->num_batches_tracked.fill_(7);
  }
  ema_update(*ema, *model, 0.75);
  EXPECT_FLOAT_EQ(ema->weight[0].item<float>(), 0.75f * 1 + 0.25f * 3);
  EXPECT_FLOAT_EQ(ema->running_mean[0].item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(ema->running_var[0].item<float>(), 0.75f * 1 + 0.25f * 5);
  EXPECT_EQ(ema->num_batches_tracked.item<int64_t>(), 7);
}

}  // namespace
}  // namespace mnas::train
