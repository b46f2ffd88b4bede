#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace mnas::train {

LrSchedule LrSchedule::from_config(const TrainConfig& c, double steps_per_epoch) {
  LrSchedule s;
  s.kind = c.schedule;
  s.peak_lr = c.base_lr * c.batch_size / c.lr_batch_base;
  s.warmup_steps = static_cast<int64_t>(c.warmup_epochs * steps_per_epoch);
  s.decay_steps = std::max(c.decay_epochs * steps_per_epoch, 1e-9);
  s.decay_rate = c.decay_rate;
  s.total_steps = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(c.epochs * steps_per_epoch)));
  return s;
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return peak_lr * static_cast<double>(step) / warmup_steps;
  if (kind == "cosine") {
    const double span = std::max<double>(1.0, static_cast<double>(total_steps - warmup_steps));
    const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / span);
    return peak_lr * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  return peak_lr * std::pow(decay_rate, std::floor(static_cast<double>(step) / decay_steps));
}

}  // namespace mnas::train
