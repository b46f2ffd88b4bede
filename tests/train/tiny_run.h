// The tiny training runs shared by the trainer and export tests: a
// two-stage architecture on the synthetic dataset, a few steps.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "train/trainer.h"

namespace mnas::train::test_util {

inline constexpr const char* kTinyArch = "r1_k3_s22_e1_i16_o8_noskip r1_k3_s22_e3_i8_o16_se0.25";

inline std::string temp_path(const std::string& name) {
  namespace fs = std::filesystem;
  return (fs::temp_directory_path() / ("mnas_trainer_test_" + name + "_" + std::to_string(::getpid()))).string();
}

inline TrainConfig tiny_run(const std::string& checkpoint) {
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

// A checkpoint of kTinyArch after `steps` steps (progressive resizing off).
inline std::string tiny_checkpoint(const std::string& name, int steps = 2) {
  const std::string ckpt = temp_path(name);
  TrainConfig c = tiny_run(ckpt);
  c.max_steps = steps;
  EXPECT_EQ(train(c).status, TrialStatus::kOk);
  return ckpt;
}

}  // namespace mnas::train::test_util
