// The proxy task's configuration (ProxyConfig, train/child_trainer.h) and
// the TrainConfig that trains a child exactly as the search does
// (child_train_config). Torch-free.
#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "space/block_codec.h"
#include "train/child_trainer.h"
#include "train/config_fields.h"
#include "train/train_config.h"

namespace mnas::train {
namespace {

using nlohmann::json;
using namespace detail;

template <class C, class V>
void visit_proxy_fields(C& c, V&& v) {
  v("dataset", c.dataset);
  v("data_path", c.data_path);
  v("image_size", c.image_size);
  v("num_classes", c.num_classes);
  v("train_subset", c.train_subset);
  v("val_subset", c.val_subset);
  v("split_seed", c.split_seed);
  v("epochs", c.epochs);
  v("batch_size", c.batch_size);
  v("optimizer", c.optimizer);
  v("lr", c.lr);
  v("momentum", c.momentum);
  v("schedule", c.schedule);
  v("warmup_epochs", c.warmup_epochs);
  v("weight_decay", c.weight_decay);
  v("label_smoothing", c.label_smoothing);
  v("dropout", c.dropout);
  v("bn_decay", c.bn_decay);
  v("classifier_init", c.classifier_init);
  v("augment", c.augment);
  v("seed", c.seed);
  v("time_limit_s", c.time_limit_s);
  v("threads", c.threads);
  v("device", c.device);
}

}  // namespace

void validate(const ProxyConfig& c) {
  const std::string w = "proxy config";
  check_one_of(w, "dataset", c.dataset, {"folder", "fashion-mnist", "cifar10", "synthetic"});
  require(c.image_size >= 8 && c.image_size <= 1024, w, "image_size", "8..1024");
  require(c.num_classes >= 2, w, "num_classes", ">= 2");
  require(c.train_subset >= 1, w, "train_subset", ">= 1");
  require(c.val_subset >= 1, w, "val_subset", ">= 1");
  require(c.epochs > 0 && std::isfinite(c.epochs), w, "epochs", "a finite number > 0");
  require(c.batch_size >= 1, w, "batch_size", ">= 1");
  check_one_of(w, "optimizer", c.optimizer, {"rmsprop", "sgd"});
  require(c.lr > 0, w, "lr", "> 0");
  require(c.momentum >= 0 && c.momentum < 1, w, "momentum", "in [0, 1)");
  check_one_of(w, "schedule", c.schedule, {"exponential", "cosine"});
  require(c.warmup_epochs >= 0, w, "warmup_epochs", ">= 0");
  require(c.weight_decay >= 0, w, "weight_decay", ">= 0");
  require(c.label_smoothing >= 0 && c.label_smoothing < 1, w, "label_smoothing", "in [0, 1)");
  require(c.dropout >= 0 && c.dropout < 1, w, "dropout", "in [0, 1)");
  require(c.bn_decay > 0 && c.bn_decay < 1, w, "bn_decay", "in (0, 1)");
  check_one_of(w, "classifier_init", c.classifier_init, {"reference", "zero"});
  check_one_of(w, "augment", c.augment, {"inception", "crop-flip", "flip", "none"});
  require(c.time_limit_s >= 0, w, "time_limit_s", ">= 0");
  check_threads_and_device(w, c.threads, c.device);
}

nlohmann::json to_json(const ProxyConfig& proxy) {
  json j = json::object();
  visit_proxy_fields(proxy, [&](const char* name, const auto& field) { j[name] = field; });
  return j;
}

ProxyConfig proxy_config_from_json(const nlohmann::json& j) {
  ProxyConfig p;
  read_fields(j, p, "proxy config",
              [](auto& c, auto&& v) { visit_proxy_fields(c, std::forward<decltype(v)>(v)); });
  return p;
}

int64_t proxy_total_steps(const ProxyConfig& proxy) {
  validate(proxy);
  // As train/loop.cpp counts them: drop_last batches, epochs x batches truncated.
  const int64_t per_epoch = proxy.train_subset / proxy.batch_size;
  if (per_epoch < 1) {
    throw ConfigError("proxy config: train_subset " + std::to_string(proxy.train_subset) +
                      " is fewer than one batch of " + std::to_string(proxy.batch_size));
  }
  return std::max<int64_t>(1, static_cast<int64_t>(proxy.epochs * static_cast<double>(per_epoch)));
}

TrainConfig child_train_config(const space::ArchSpec& arch, const ProxyConfig& proxy) {
  TrainConfig c;
  c.arch = space::arch_to_string(arch);
  c.image_size = proxy.image_size;
  c.dataset = proxy.dataset;
  c.data_path = proxy.data_path;
  c.num_classes = proxy.num_classes;
  c.train_subset = proxy.train_subset;
  c.val_holdout = proxy.val_subset;
  c.split_seed = proxy.split_seed;
  c.augment = proxy.augment;
  c.eval_crop = 0.875;
  c.epochs = proxy.epochs;
  c.batch_size = proxy.batch_size;
  c.optimizer = proxy.optimizer;
  c.base_lr = proxy.lr;
  c.lr_batch_base = proxy.batch_size;  // lr is the peak, not scaled
  c.schedule = proxy.schedule;
  c.warmup_epochs = proxy.warmup_epochs;
  c.momentum = proxy.momentum;
  c.weight_decay = proxy.weight_decay;
  c.label_smoothing = proxy.label_smoothing;
  c.dropout = proxy.dropout;
  c.bn_decay = proxy.bn_decay;
  c.classifier_init = proxy.classifier_init;
  c.ema_decay = 0;  // a proxy run is too short for the 0.9999 average
  c.seed = proxy.seed;
  c.threads = proxy.threads;
  c.device = proxy.device;
  c.time_limit_s = proxy.time_limit_s;
  c.quiet = true;
  c.eval_test = false;
  return c;
}

}  // namespace mnas::train
