// The learning-rate schedule of a TrainConfig. Torch-free
// (train/lr_schedule.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "train/train_config.h"

namespace mnas::train {

// Learning rate as a function of the optimizer step (reference section 8):
//   exponential: lr(t) = peak * t / warmup            if t < warmup
//                        peak * rate^floor(t / decay)  otherwise
//   cosine:      linear warm-up, then peak * 0.5 * (1 + cos(pi * (t - warmup) / (total - warmup)))
// with peak = base_lr * batch / lr_batch_base, warmup = int(warmup_epochs *
// steps_per_epoch) and decay = decay_epochs * steps_per_epoch (float, as TF).
struct LrSchedule {
  std::string kind = "exponential";
  double peak_lr = 0.0;
  int64_t warmup_steps = 0;
  double decay_steps = 1.0;
  double decay_rate = 0.97;
  int64_t total_steps = 1;

  static LrSchedule from_config(const TrainConfig& config, double steps_per_epoch);
  double at(int64_t step) const;
};

}  // namespace mnas::train
