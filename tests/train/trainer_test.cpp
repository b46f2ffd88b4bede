// Optimizers and EMA against hand-computed values, and the trainer on the
// tiny synthetic dataset: learning, divergence, bit-for-bit resume,
// checkpoint round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "space/block_codec.h"
#include "train/child_trainer.h"
#include "train/export.h"
#include "train/optim.h"
#include "train/trainer.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTinyArch = "r1_k3_s22_e1_i16_o8_noskip r1_k3_s22_e3_i8_o16_se0.25";

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("mnas_trainer_test_" + name + "_" + std::to_string(::getpid()))).string();
}

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

ProxyConfig tiny_proxy() {
  ProxyConfig p;
  p.dataset = "synthetic";
  p.image_size = 16;
  p.num_classes = 4;
  p.train_subset = 512;
  p.val_subset = 256;
  p.batch_size = 32;
  p.epochs = 4;
  p.lr = 0.1;
  p.threads = 1;
  return p;
}

TEST(TrainChildTest, LearnsTheSyntheticTaskQuickly) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  const ChildResult r = train_child(arch, tiny_proxy());
  ASSERT_EQ(r.status, TrialStatus::kOk) << r.message;
  EXPECT_GT(r.top1, 0.6);  // chance is 0.25
  EXPECT_EQ(r.images_seen, 4 * 512);
  EXPECT_GT(r.train_seconds, 0.0);
}

TEST(TrainChildTest, BadChildrenBecomeStatuses) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  ProxyConfig p = tiny_proxy();
  p.lr = 1e30;
  EXPECT_EQ(train_child(arch, p).status, TrialStatus::kDiverged);
  p = tiny_proxy();
  p.num_classes = 1;  // invalid config
  const ChildResult bad = train_child(arch, p);
  EXPECT_EQ(bad.status, TrialStatus::kFailed);
  EXPECT_NE(bad.message.find("num_classes"), std::string::npos);
  p = tiny_proxy();
  p.time_limit_s = 1e-9;
  EXPECT_EQ(train_child(arch, p).status, TrialStatus::kTimeout);
}

TrainConfig tiny_run(const std::string& checkpoint) {
  TrainConfig c;
  c.arch = kTinyArch;
  c.dataset = "synthetic";
  c.num_classes = 4;
  c.image_size = 16;
  c.train_subset = 96;
  c.val_holdout = 32;
  c.epochs = 2;          // 6 steps, crossing an epoch boundary
  c.batch_size = 32;
  c.micro_batch = 16;    // gradient accumulation
  c.augment = "crop-flip";
  c.warmup_epochs = 0.5;
  c.lr_batch_base = 32;
  c.base_lr = 0.01;
  c.threads = 1;
  c.checkpoint = checkpoint;
  c.eval_test = false;
  c.quiet = true;
  return c;  // rmsprop, EMA, dropout 0.2, label smoothing: the full recipe
}

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

// Every op kind of the exporter (MBConv with and without expansion, SE,
// identity and pooling residuals at stride 1 and 2, SepConv, Conv), run in
// OpenCV DNN (ONNX) and LibTorch (TorchScript) against the eager model.
TEST(ExportTest, OnnxInOpenCvAndTorchScriptMatchLibTorch) {
  const std::string ckpt = temp_path("export.pt"), onnx = temp_path("export.onnx"), ts = temp_path("export.ts");
  TrainConfig c = tiny_run(ckpt);
  c.arch = "r1_k3_s22_e1_i16_o8_noskip r2_k5_s22_e3_i8_o16_se0.25_poolskip ds_r1_k3_s11_i16_o16 "
           "cn_r1_k3_s22_i16_o16_se0.25_poolskip r1_k3_s11_e6_i16_o16";
  c.max_steps = 2;
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = onnx;
  o.torchscript_path = ts;
  o.batch = 2;
  const ExportReport r = export_checkpoint(o);  // throws when above 1e-4
  EXPECT_GE(r.onnx_max_abs_diff, 0.0);
  EXPECT_LE(r.onnx_max_abs_diff, 1e-4);
  EXPECT_GE(r.torchscript_max_abs_diff, 0.0);
  EXPECT_LE(r.torchscript_max_abs_diff, 1e-4);
  EXPECT_GT(r.onnx_nodes, 20);
  // Python's torch.jit.load runs the TorchScript file (Debian python3-torch).
  if (fs::exists("/usr/bin/python3")) {
    const std::string cmd = "/usr/bin/python3 -c \"import torch; m = torch.jit.load('" + ts +
                            "'); assert m(torch.zeros(2, 1, 16, 16)).shape == (2, 4)\" 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  fs::remove(ckpt);
  fs::remove(onnx);
  fs::remove(ts);
}

}  // namespace
}  // namespace mnas::train
