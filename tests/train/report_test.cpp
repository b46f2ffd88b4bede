// What a run reports (train/report.h): the progress lines mnas_train prints
// and the result JSON, exactly.
#include "train/report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "train/train_config.h"

namespace mnas::train {
namespace {

TEST(ReportTest, ProgressLines) {
  StepProgress p;
  p.epoch = 0.5;
  p.epochs = 2;
  p.step = 3;
  p.end_step = 6;
  p.loss = 1.38629;
  p.accuracy = 0.25;
  p.lr = 0.01;
  p.image_size = 16;
  p.images_per_second = 512.4;
  p.eta_seconds = 61.9;
  EXPECT_EQ(format_progress(p),
            "epoch 0.50/2  step 3/6  loss 1.3863  acc 0.250  lr 0.01000  16 px  512 img/s  ETA 1m01s");
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(187.5), "3m07s");
  EvalResult e;
  e.top1 = 0.5;
  e.top5 = 1;
  e.loss = 1.2;
  EXPECT_EQ(format_epoch_eval(1, e), "epoch 1  val top1 0.5000  top5 1.0000  loss 1.2000");
  EXPECT_EQ(format_resumed("a.ckpt"), "resumed from a.ckpt");
}

TEST(ReportTest, ResultJson) {
  TrainResult r;
  r.status = TrialStatus::kOk;
  r.steps = r.steps_run = r.total_steps = 6;
  r.val.images = 32;
  TrainConfig c;
  nlohmann::json j = train_result_json(r, c);
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_TRUE(j.at("train_loss").is_null());  // NaN: not finite
  EXPECT_EQ(j.at("val").at("images"), 32);
  EXPECT_FALSE(j.contains("test"));
  EXPECT_FALSE(j.contains("checkpoint"));
  EXPECT_FALSE(j.contains("source"));
  c.checkpoint = "a.ckpt";
  c.source = {{"trial", 3}};
  r.train_loss = 0.5;
  j = train_result_json(r, c);
  EXPECT_EQ(j.at("checkpoint"), "a.ckpt");
  EXPECT_EQ(j.at("source").at("trial"), 3);
  EXPECT_DOUBLE_EQ(j.at("train_loss").get<double>(), 0.5);
  EXPECT_EQ(to_json(r.val).size(), 7u);
}

}  // namespace
}  // namespace mnas::train
