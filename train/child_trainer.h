// The proxy task of a search: train one sampled child briefly and return its
// held-out validation accuracy (the paper: 5 epochs on ImageNet, accuracy on
// 50K images held out from the training set). Torch-free header.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/trial_status.h"
#include "space/block_args.h"

namespace mnas::train {

// The one status enum (common/trial_status.h), shared with search/.
using mnas::TrialStatus;
using mnas::to_string;

// The default evaluates an A1-sized child on Fashion-MNIST in about a minute
// on the 2-core development machine (docs/training.md has the figures).
struct ProxyConfig {
  std::string dataset = "fashion-mnist";  // "fashion-mnist" | "cifar10" | "folder" | "synthetic"
  std::string data_path;                  // empty = the dataset's default location
  int image_size = 32;                    // network input (Fashion-MNIST 28 px is resized)
  int num_classes = 10;                   // must match the dataset (synthetic: any >= 2)
  // Images used for training and for validation. Validation is carved from
  // the TRAIN set with split_seed (the same for every child, so accuracies are
  // comparable); the test set is never used.
  int train_subset = 10000;
  int val_subset = 2000;
  uint64_t split_seed = 0;
  double epochs = 1.0;
  int batch_size = 64;
  std::string optimizer = "sgd";  // "sgd" (Nesterov) | "rmsprop" (TF)
  double lr = 0.04;               // peak learning rate (not scaled by batch)
  double momentum = 0.9;
  std::string schedule = "cosine";  // "cosine" | "exponential"
  // Short: a rung of successive halving stops at a third of the schedule,
  // and with the former 0.1 epochs (16 of 52 steps warming up) a 52-step
  // child scored 0.19-0.38 where 0.54-0.56 with 0.02 (bench/proxy_fidelity,
  // docs/search.md).
  double warmup_epochs = 0.02;
  double weight_decay = 4e-5;
  double label_smoothing = 0.1;
  double dropout = 0.0;
  // TF BN decay. The recipe's 0.99 leaves the running statistics far from
  // the batch statistics after a few hundred steps, which wrecks eval.
  double bn_decay = 0.9;
  std::string classifier_init = "zero";  // see TrainConfig::classifier_init
  std::string augment = "flip";   // see TrainConfig::augment
  uint64_t seed = 0;              // initialisation and data order
  // A safety net against hangs, not a budget (the budget is epochs): training
  // stops after it with kTimeout, the child is still evaluated on the held-out
  // set with the weights it has (top1, loss), and the message says at which
  // step it stopped. 0 = none.
  double time_limit_s = 300;
  int threads = 2;
  std::string device = "cpu";
};

// Throws ConfigError naming the field.
void validate(const ProxyConfig& proxy);

nlohmann::json to_json(const ProxyConfig& proxy);
// Missing keys keep their defaults; unknown keys and wrong types throw
// ConfigError naming the key.
ProxyConfig proxy_config_from_json(const nlohmann::json& j);

struct ChildResult {
  TrialStatus status = TrialStatus::kFailed;
  double top1 = 0;   // held-out validation top-1, fraction in [0, 1]
  double loss = 0;   // mean validation cross-entropy (no smoothing)
  double train_seconds = 0;
  double eval_seconds = 0;
  int64_t images_seen = 0;  // training images processed
  int64_t steps = 0;        // optimizer steps reached (including resumed ones)
  std::string message;      // why, when status != kOk
};

// Part of the proxy's schedule for multi-fidelity children (search/asha.h):
// train to step `max_steps` of the proxy's schedule (0 = its end), keeping
// the weights in `checkpoint` (empty = nowhere); with `resume`, continue from
// that checkpoint (a missing file starts from scratch). The learning-rate
// schedule is always the full proxy's, so training to k1 steps and resuming
// to k2 gives the result of training to k2 steps at once.
struct ChildStage {
  int64_t max_steps = 0;
  std::string checkpoint;
  bool resume = false;
};

// Optimizer steps of the proxy's whole schedule: floor(epochs x
// floor(train_subset / batch_size)), at least 1 (the child trains on exactly
// train_subset images).
int64_t proxy_total_steps(const ProxyConfig& proxy);

// Trains `arch` on the proxy task and returns held-out validation top-1.
// Never throws for a bad child: divergence (NaN/inf loss), out of memory, the
// time limit and exceptions become a status + message. A timeout still
// carries the held-out top-1 and loss of the weights it reached. Deterministic for a
// given (arch, proxy) on the same machine and thread count.
// Implementation: train/child_trainer.cpp.
ChildResult train_child(const space::ArchSpec& arch, const ProxyConfig& proxy);
// The same for one stage of the schedule.
ChildResult train_child(const space::ArchSpec& arch, const ProxyConfig& proxy, const ChildStage& stage);

// {"status", "top1", "loss", "train_seconds", "eval_seconds", "images_seen",
// "steps", "message"}: what mnas_train --proxy prints (besides the arch).
nlohmann::json to_json(const ChildResult& result);

}  // namespace mnas::train
