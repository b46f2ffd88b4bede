// Optimizers and the weight EMA of the MnasNet recipe, on plain tensors so
// that their state is easy to checkpoint. Torch header (train/optim.cpp).
// The learning-rate schedule is Torch-free: train/lr_schedule.h.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "train/lr_schedule.h"

namespace mnas::train {

// Update rule over a fixed list of parameters; gradients are read from
// p.grad() (undefined gradients are skipped).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(double lr) = 0;
  // Slot tensors by name ("ms", "mom", "buf"), one per parameter, for
  // checkpoints; load by copying into them.
  virtual std::map<std::string, std::vector<torch::Tensor>> slots() = 0;
};

// TF1 RMSProp (tensorflow/python/training/rmsprop.py; timm RMSpropTF), the
// reference optimizer:
//   ms  = decay * ms + (1 - decay) * g^2      (ms initialised to ONES)
//   mom = momentum * mom + lr * g / sqrt(ms + epsilon)   (epsilon inside)
//   w  -= mom
class RmsPropTF : public Optimizer {
 public:
  RmsPropTF(std::vector<torch::Tensor> params, double decay = 0.9, double momentum = 0.9,
            double epsilon = 1e-3);
  void step(double lr) override;
  std::map<std::string, std::vector<torch::Tensor>> slots() override;

 private:
  std::vector<torch::Tensor> params_, ms_, mom_;
  double decay_, momentum_, epsilon_;
};

// SGD with Nesterov momentum (PyTorch semantics):
//   buf = momentum * buf + g;  w -= lr * (g + momentum * buf)
class SgdNesterov : public Optimizer {
 public:
  SgdNesterov(std::vector<torch::Tensor> params, double momentum = 0.9);
  void step(double lr) override;
  std::map<std::string, std::vector<torch::Tensor>> slots() override;

 private:
  std::vector<torch::Tensor> params_, buf_;
  double momentum_;
};

// Effective decay of tf.train.ExponentialMovingAverage(decay, num_updates):
// min(decay, (1 + num_updates) / (10 + num_updates)).
double ema_decay_at(double decay, int64_t num_updates);

// shadow = d * shadow + (1 - d) * value for every parameter AND floating
// buffer (BN running mean/variance) of `model`, into the same-named tensors
// of `ema`; integer buffers (num_batches_tracked) are copied.
void ema_update(torch::nn::Module& ema, torch::nn::Module& model, double d);

}  // namespace mnas::train
