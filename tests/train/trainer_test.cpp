// Optimizers and EMA against hand-computed values, and the trainer on the
// tiny synthetic dataset: learning, divergence, bit-for-bit resume,
// checkpoint round trip.
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "space/block_codec.h"
#include "train/child_trainer.h"
#include "train/export.h"
#include "train/optim.h"
#include "train/trainer.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <functional>
#include <mutex>

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
  EXPECT_DOUBLE_EQ(r.onnx_top1_agreement, 1.0);
  EXPECT_DOUBLE_EQ(r.torchscript_top1_agreement, 1.0);
  // The written TorchScript file loads in LibTorch's own torch::jit::load (no
  // Python: tests use only what scripts/setup.sh installs) and computes the
  // eager network's logits on an input of its own.
  torch::jit::Module loaded = torch::jit::load(ts);
  loaded.eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::linspace(-2, 2, 2 * 16 * 16).reshape({2, 1, 16, 16});
  const auto got = loaded.forward({x}).toTensor();
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, 4}));
  model::MnasNet eager = load_checkpoint_model(ckpt, /*use_ema=*/true);
  eager->eval();
  const auto want = eager->forward(x);
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-4 + 1e-3 * want.abs().max().item<double>());
  fs::remove(ckpt);
  fs::remove(onnx);
  fs::remove(ts);
}

// A checkpoint of kTinyArch after `steps` steps (progressive resizing off).
std::string tiny_checkpoint(const std::string& name, int steps = 2) {
  const std::string ckpt = temp_path(name);
  TrainConfig c = tiny_run(ckpt);
  c.max_steps = steps;
  EXPECT_EQ(train(c).status, TrialStatus::kOk);
  return ckpt;
}

// Rewrites the stored meta JSON of a checkpoint (an "edited" checkpoint).
void edit_meta(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  auto dict = torch::pickle_load(bytes).toGenericDict();
  auto meta = nlohmann::json::parse(dict.at("meta").toStringRef());
  edit(meta);
  dict.insert_or_assign("meta", meta.dump());
  const auto out = torch::pickle_save(dict);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(out.data(), static_cast<std::streamsize>(out.size()));
}

size_t files_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

// A tolerance that nothing meets: verification fails, and neither requested
// name nor a temporary is left behind (nothing unverified under the name).
TEST(ExportTest, FailedVerificationWritesNothing) {
  const fs::path dir = temp_path("export_atomic");
  fs::create_directories(dir);
  const std::string ckpt = tiny_checkpoint("export_atomic.ckpt");
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = (dir / "m.onnx").string();
  o.torchscript_path = (dir / "m.pt").string();
  o.tolerance = 0;
  o.rtol = 0;
  o.batch = 4;
  try {
    export_checkpoint(o);
    // Bit-exact agreement of OpenCV DNN with LibTorch would be a surprise.
    ADD_FAILURE() << "verification with tolerance 0 passed";
  } catch (const ConfigError&) {
    ADD_FAILURE() << "a verification failure is not a ConfigError";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("top-1 agreement"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in(dir), 0u);
  // The default (1e-4 + 1e-3 x max |logit|) passes and writes both.
  o.tolerance = 1e-4;
  o.rtol = 1e-3;
  const ExportReport r = export_checkpoint(o);
  EXPECT_LE(r.onnx_max_abs_diff, r.allowed_diff);
  EXPECT_TRUE(fs::exists(o.onnx_path));
  EXPECT_TRUE(fs::exists(o.torchscript_path));
  EXPECT_EQ(files_in(dir), 2u);
  for (double bad : {std::nan(""), -1.0, HUGE_VAL}) {
    o.tolerance = bad;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << bad;
    o.tolerance = 1e-4;
    o.rtol = bad;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << bad;
    o.rtol = 1e-3;
  }
  fs::remove_all(dir);
  fs::remove(ckpt);
}

TEST(ExportTest, RefusesOutputsThatAreInputsOrEachOther) {
  const std::string ckpt = tiny_checkpoint("export_same.ckpt");
  const auto size = fs::file_size(ckpt);
  const std::string link = temp_path("export_same_link.ckpt");
  fs::create_symlink(ckpt, link);
  ExportOptions o;
  o.checkpoint = ckpt;
  o.verify = false;
  for (const std::string& out : {ckpt, link}) {
    o.onnx_path = out;
    o.torchscript_path.clear();
    EXPECT_THROW(export_checkpoint(o), ConfigError) << out;
    o.onnx_path.clear();
    o.torchscript_path = out;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << out;
  }
  o.onnx_path = o.torchscript_path = temp_path("export_same.out");
  EXPECT_THROW(export_checkpoint(o), ConfigError);
  EXPECT_FALSE(fs::exists(o.onnx_path));
  EXPECT_EQ(fs::file_size(ckpt), size);
  EXPECT_NO_THROW(read_checkpoint_info(ckpt));
  fs::remove(link);
  fs::remove(ckpt);
}

// A checkpoint whose stored architecture was edited: every tensor name and
// shape is checked (export and --eval alike) with a ConfigError naming the
// tensor, never a raw LibTorch error, a bare map::at or a broadcast copy.
TEST(ExportTest, ChecksTensorNamesAndShapesAgainstTheStoredArch) {
  const std::string ckpt = tiny_checkpoint("export_edited.ckpt");
  const std::string onnx = temp_path("export_edited.onnx");
  TrainConfig data;
  data.dataset = "synthetic";
  data.threads = 1;
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      {"input channels 1 -> 3", [](nlohmann::json& m) { m["global_params"]["input_channels"] = 3; }},
      {"expansion e1 -> e6",
       [](nlohmann::json& m) { m["block_strings"][0] = "r1_k3_s22_e6_i16_o8_noskip"; }},
      {"one block more",
       [](nlohmann::json& m) { m["block_strings"].push_back("r1_k3_s11_e1_i16_o16"); }},
      {"one block fewer", [](nlohmann::json& m) { m["block_strings"].erase(1); }},
  };
  for (const auto& [what, edit] : edits) {
    const std::string edited = temp_path("export_edited_copy.ckpt");
    fs::copy_file(ckpt, edited, fs::copy_options::overwrite_existing);
    edit_meta(edited, edit);
    ExportOptions o;
    o.checkpoint = edited;
    o.onnx_path = onnx;
    try {
      export_checkpoint(o);
      ADD_FAILURE() << what << ": exported";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("tensor '"), std::string::npos) << what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": not a ConfigError: " << e.what();
    }
    EXPECT_FALSE(fs::exists(onnx)) << what;
    EXPECT_THROW(evaluate_checkpoint(edited, data), ConfigError) << what;
    fs::remove(edited);
  }
  fs::remove(ckpt);
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
