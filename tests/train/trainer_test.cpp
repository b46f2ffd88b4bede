// The trainer on the tiny synthetic dataset: learning, divergence,
// bit-for-bit resume, checkpoint round trip and checks, evaluation.
#include "train/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/error.h"
#include "space/block_codec.h"
#include "tests/train/tiny_run.h"
#include "train/checkpoint_io.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;
using test_util::kTinyArch;
using test_util::temp_path;
using test_util::tiny_run;

TEST(TrainerTest, ResumeIsBitForBit) {
  const std::string straight = temp_path("straight.pt"), halves = temp_path("halves.pt");
  TrainConfig c = tiny_run(straight);
  const TrainResult a = train(c);
  ASSERT_EQ(a.status, TrialStatus::kOk) << a.message;
  EXPECT_EQ(a.steps, 6);
  c.checkpoint = halves;
  c.max_steps = 3;
  ASSERT_EQ(train(c).steps, 3);
  c.max_steps = 0;
  const TrainResult b = train(c, /*resume=*/true);
  EXPECT_EQ(b.steps, 6);
  const auto ta = read_checkpoint_tensors(straight), tb = read_checkpoint_tensors(halves);
  ASSERT_EQ(ta.size(), tb.size());
  int compared = 0;
  for (const auto& [key, t] : ta) {
    ASSERT_TRUE(tb.count(key)) << key;
    EXPECT_TRUE(torch::equal(t, tb.at(key))) << key;
    ++compared;
  }
  EXPECT_GT(compared, 50);
  EXPECT_DOUBLE_EQ(a.val.top1, b.val.top1);
  const CheckpointInfo info = read_checkpoint_info(halves);
  EXPECT_EQ(info.step, 6);
  EXPECT_TRUE(info.has_ema);
  EXPECT_EQ(space::arch_to_string(space::decode_arch(info.block_strings)),
            space::arch_to_string(space::decode_arch(space::split_block_strings(kTinyArch))));
  EXPECT_EQ(info.params.num_classes, 4);
  EXPECT_FALSE(fs::exists(halves + ".tmp"));
  fs::remove(straight);
  fs::remove(halves);
}

// Progressive resizing: epoch 0 at 8 px, epoch 1 at 16 px. A run resumed at
// the epoch boundary picks the size of the epoch it resumes in (bit-for-bit
// equal to the straight run), and the low-resolution epoch really changes
// the training (weights differ from a run at 16 px throughout).
TEST(TrainerTest, ProgressiveResizeResumesBitForBit) {
  const std::string straight = temp_path("prog_straight.pt"), halves = temp_path("prog_halves.pt"),
                    full = temp_path("prog_full.pt");
  TrainConfig c = tiny_run(full);
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  c.low_res_size = 8;
  c.low_res_epochs = 1;
  c.checkpoint = straight;
  const TrainResult a = train(c);
  ASSERT_EQ(a.status, TrialStatus::kOk) << a.message;
  c.checkpoint = halves;
  c.max_steps = 3;  // the end of epoch 0
  ASSERT_EQ(train(c).steps, 3);
  c.max_steps = 0;
  const TrainResult b = train(c, /*resume=*/true);
  ASSERT_EQ(b.steps, 6);
  const auto ta = read_checkpoint_tensors(straight), tb = read_checkpoint_tensors(halves),
             tf = read_checkpoint_tensors(full);
  int differ_from_full = 0;
  for (const auto& [key, t] : ta) {
    ASSERT_TRUE(tb.count(key)) << key;
    EXPECT_TRUE(torch::equal(t, tb.at(key))) << key;
    if (key.rfind("model/", 0) == 0 && t.is_floating_point() && !torch::equal(t, tf.at(key))) ++differ_from_full;
  }
  EXPECT_GT(differ_from_full, 10);
  EXPECT_DOUBLE_EQ(a.val.top1, b.val.top1);
  for (const auto& p : {straight, halves, full}) fs::remove(p);
}

TEST(TrainerTest, ZeroClassifierInitStartsFromTheUniformPrediction) {
  const std::string ckpt = temp_path("zero_init.pt");
  TrainConfig c = tiny_run(ckpt);
  c.classifier_init = "zero";
  c.max_steps = 1;
  c.log_every = 1;
  const TrainResult r = train(c);
  ASSERT_EQ(r.status, TrialStatus::kOk) << r.message;
  // All logits 0: cross-entropy (label smoothing or not) is ln(classes).
  EXPECT_NEAR(r.train_loss, std::log(4.0), 1e-5);
  c.classifier_init = "uniform";
  EXPECT_THROW(train(c), mnas::ConfigError);
  fs::remove(ckpt);
}

TEST(TrainerTest, EvaluateCheckpointUsesTheStoredArchitecture) {
  const std::string path = temp_path("eval.pt");
  TrainConfig c = tiny_run(path);
  c.epochs = 1;
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  TrainConfig data;
  data.dataset = "synthetic";
  data.threads = 1;
  const EvalResult e = evaluate_checkpoint(path, data);
  EXPECT_EQ(e.images, 1024);  // the synthetic test split
  EXPECT_GE(e.top1, 0.0);
  EXPECT_ANY_THROW(evaluate_checkpoint(temp_path("missing.pt"), data));
  fs::remove(path);
}

// Progressive resizing: a checkpoint taken in the low-resolution phase is
// evaluated at that resolution (the weights and BN statistics it has), not
// at image_size; an explicit size wins.
TEST(TrainerTest, EvaluateCheckpointAtTheResolutionItWasTrainedAt) {
  const std::string ckpt = temp_path("eval_lowres.ckpt");
  TrainConfig c = tiny_run(ckpt);
  c.low_res_size = 8;
  c.low_res_epochs = 1;
  c.max_steps = 3;  // the end of epoch 0, all at 8 px
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  EXPECT_EQ(read_checkpoint_info(ckpt).train_image_size, 8);
  TrainConfig data;
  data.dataset = "synthetic";
  data.threads = 1;
  EXPECT_EQ(evaluate_checkpoint(ckpt, data).image_size, 8);
  EXPECT_EQ(evaluate_checkpoint(ckpt, data, 16).image_size, 16);
  c.max_steps = 0;  // finish: the last epoch runs at 16 px
  ASSERT_EQ(train(c, /*resume=*/true).steps, 6);
  EXPECT_EQ(evaluate_checkpoint(ckpt, data).image_size, 16);
  fs::remove(ckpt);
}

// Resuming a checkpoint already past max_steps runs no step and says so; its
// train_loss is the checkpoint's, not a made-up 0.
TEST(TrainerTest, ResumePastMaxStepsRunsNoStepAndSaysSo) {
  const std::string ckpt = temp_path("resume_past.ckpt");
  TrainConfig c = tiny_run(ckpt);
  c.max_steps = 4;
  c.log_every = 1;
  const TrainResult first = train(c);
  ASSERT_EQ(first.steps, 4);
  EXPECT_EQ(first.steps_run, 4);
  ASSERT_TRUE(std::isfinite(first.train_loss));
  c.max_steps = 2;
  const TrainResult again = train(c, /*resume=*/true);
  EXPECT_EQ(again.status, TrialStatus::kOk);
  EXPECT_EQ(again.steps, 4);
  EXPECT_EQ(again.steps_run, 0);
  EXPECT_NE(again.message.find("no step was run"), std::string::npos) << again.message;
  EXPECT_DOUBLE_EQ(again.train_loss, first.train_loss);
  fs::remove(ckpt);
}

TEST(TrainerTest, EpochsWhoseStepCountDoesNotFitAreRejected) {
  TrainConfig c = tiny_run("");
  c.epochs = 1e19;
  try {
    train(c);
    FAIL() << "1e19 epochs accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("epochs"), std::string::npos) << e.what();
  }
  c.epochs = HUGE_VAL;
  EXPECT_THROW(train(c), ConfigError);
  c.epochs = std::nan("");
  EXPECT_THROW(train(c), ConfigError);
}

// An image folder with one undecodable file among valid images: training
// skips it, names it once through the warning callback and counts it; with
// max_bad_image_fraction 0 the run stops with a clear error.
TEST(TrainerTest, UndecodableImagesAreSkippedAndCounted) {
  const fs::path dir = temp_path("bad_folder");
  for (const char* split : {"train", "val"}) {
    for (int k = 0; k < 2; ++k) {
      const fs::path cls = dir / split / (k == 0 ? "cat" : "dog");
      fs::create_directories(cls);
      // train/cat: 7 images and the corrupt one, so that with micro-batches
      // of 2 no image is dropped and every epoch reads the corrupt file.
      const int n = (std::string(split) == "train" && k == 0) ? 7 : 8;
      for (int i = 0; i < n; ++i) {
        cv::Mat img(24, 24, CV_8UC3, cv::Scalar(k * 200, 30 * i, 100));
        cv::imwrite((cls / (std::to_string(i) + ".jpg")).string(), img);
      }
    }
  }
  std::ofstream(dir / "train" / "cat" / "corrupt.jpg") << "not a jpeg image\n";  // 17 bytes of text
  TrainConfig c;
  c.arch = kTinyArch;
  c.dataset = "folder";
  c.data_path = dir.string();
  c.image_size = 16;
  c.batch_size = 4;
  c.micro_batch = 2;
  c.epochs = 2;  // every image is read at least once
  c.threads = 1;
  c.quiet = true;
  std::vector<std::string> warnings;
  std::mutex mu;
  const WarningFn warn = [&](const std::string& w) {
    std::lock_guard<std::mutex> lock(mu);
    warnings.push_back(w);
  };
  const TrainResult r = train(c, false, warn);
  ASSERT_EQ(r.status, TrialStatus::kOk) << r.message;
  EXPECT_EQ(r.bad_images, 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("corrupt.jpg"), std::string::npos) << warnings[0];
  EXPECT_EQ(r.test.images, 16);
  c.max_bad_image_fraction = 0;
  try {
    train(c);
    FAIL() << "no error with max_bad_image_fraction 0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_bad_image_fraction"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mnas::train
