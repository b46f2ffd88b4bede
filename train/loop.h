// The training loop of the MnasNet recipe (reference section 8) and
// evaluation on a dataset: internal to train/ (train/trainer.cpp drives
// them). Torch header (train/loop.cpp).
#pragma once

#include <torch/torch.h>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/mnasnet.h"
#include "train/datasets.h"
#include "train/lr_schedule.h"
#include "train/optim.h"
#include "train/report.h"
#include "train/torch_support.h"
#include "train/train_config.h"

namespace mnas::train {

// The splits of a run: train, the held-out validation (when val_holdout >
// 0) and test (when eval_test).
struct Data {
  Dataset train, val, test;
  bool has_val = false;
};
// Throws ConfigError when num_classes does not match the dataset.
Data load_data(const TrainConfig& config);

// Top-1/top-5/loss of `net` (switched to eval mode) on `d` at
// config.image_size.
EvalResult evaluate(model::MnasNet& net, const Dataset& d, const TrainConfig& config, torch::Device device,
                    const WarningFn& on_warning = {});

// One training run: the network, its EMA, the optimizer and schedule, and
// the step counter. `config` and `data` must outlive it.
class Run {
 public:
  // Builds the network on the config's device. Throws ConfigError when the
  // training set is smaller than a batch or the step count does not fit an
  // int64; c10::Error / std::bad_alloc when the network cannot be built.
  Run(const TrainConfig& config, const Data& data);

  // Continues from checkpoint `path` (weights, EMA, optimizer slots, RNG, step).
  void restore(const std::string& path);
  // Trains up to the end step (max_steps or the whole run).
  TrainResult run(const TrainCallbacks& callbacks);

  model::MnasNet& eval_net() { return ema_ ? *ema_ : net_; }
  torch::Device device() const { return device_; }

 private:
  // The micro-batches of the current epoch and the statistics of the
  // progress window since the last report.
  struct Feed;
  struct Window {
    double loss = 0;
    int64_t correct = 0, images = 0;
    Clock::time_point start = Clock::now();
  };

  void init_weights();
  void init_optimizer();
  void init_steps();

  int64_t end_step() const;
  // Training input size of `epoch` (progressive resizing).
  int size_at(int64_t epoch) const;
  bool at_epoch_end() const { return (step_ * accum_) % micro_per_epoch_ < accum_; }
  TrainResult already_done(int64_t end) const;

  // Forward and backward passes of the accum_ micro-batches of one step.
  // False (r: kDiverged and why) when the loss is not finite.
  bool accumulate_gradients(Feed& feed, Window& window, TrainResult& r);
  // Weight decay, the optimizer step at `lr`, the step count and the EMA.
  void update_weights(double lr);
  void report_window(Window& window, double lr, int image_size, int64_t end, TrainResult& r,
                     const TrainCallbacks& callbacks);
  void evaluate_epoch(const TrainCallbacks& callbacks);
  void save(const std::string& path);

  const TrainConfig& c_;
  const Data& data_;
  torch::Device device_;
  ModelSpec spec_;
  model::MnasNet net_;
  std::optional<model::MnasNet> ema_;
  std::vector<torch::Tensor> params_;
  std::vector<bool> decay_;
  std::unique_ptr<Optimizer> opt_;
  LrSchedule schedule_;
  int micro_ = 1, accum_ = 1;
  int64_t micro_per_epoch_ = 1;
  int64_t total_steps_ = 1;
  int64_t step_ = 0;
  double last_loss_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace mnas::train
