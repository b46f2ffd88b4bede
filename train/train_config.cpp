#include "train/train_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <type_traits>

#include "common/error.h"
#include "common/json_file.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "train/config_fields.h"

namespace mnas::train {
namespace {

using nlohmann::json;
using namespace detail;

// Every field of TrainConfig by its JSON key, in declaration order.
template <class C, class V>
void visit_fields(C& c, V&& v) {
  v("arch", c.arch);
  v("depth_multiplier", c.depth_multiplier);
  v("stem_size", c.stem_size);
  v("depth_divisor", c.depth_divisor);
  v("image_size", c.image_size);
  v("dropout", c.dropout);
  v("bn_decay", c.bn_decay);
  v("classifier_init", c.classifier_init);
  v("dataset", c.dataset);
  v("data_path", c.data_path);
  v("num_classes", c.num_classes);
  v("train_subset", c.train_subset);
  v("val_holdout", c.val_holdout);
  v("split_seed", c.split_seed);
  v("augment", c.augment);
  v("eval_crop", c.eval_crop);
  v("low_res_size", c.low_res_size);
  v("low_res_epochs", c.low_res_epochs);
  v("max_bad_image_fraction", c.max_bad_image_fraction);
  v("epochs", c.epochs);
  v("batch_size", c.batch_size);
  v("micro_batch", c.micro_batch);
  v("optimizer", c.optimizer);
  v("base_lr", c.base_lr);
  v("lr_batch_base", c.lr_batch_base);
  v("schedule", c.schedule);
  v("warmup_epochs", c.warmup_epochs);
  v("decay_epochs", c.decay_epochs);
  v("decay_rate", c.decay_rate);
  v("momentum", c.momentum);
  v("rms_decay", c.rms_decay);
  v("rms_epsilon", c.rms_epsilon);
  v("weight_decay", c.weight_decay);
  v("label_smoothing", c.label_smoothing);
  v("ema_decay", c.ema_decay);
  v("seed", c.seed);
  v("threads", c.threads);
  v("device", c.device);
  v("channels_last", c.channels_last);
  v("checkpoint", c.checkpoint);
  v("checkpoint_minutes", c.checkpoint_minutes);
  v("time_limit_s", c.time_limit_s);
  v("max_steps", c.max_steps);
  v("log_every", c.log_every);
  v("quiet", c.quiet);
  v("eval_test", c.eval_test);
  v("eval_every_epochs", c.eval_every_epochs);
  v("source", c.source);
}

}  // namespace

void validate(const TrainConfig& c) {
  const std::string w = "train config";
  require(c.depth_multiplier >= 0, w, "depth_multiplier", ">= 0 (0 = unset)");
  require(c.stem_size >= 0 && c.stem_size <= 16384, w, "stem_size", "0 (the model's own) or 1..16384");
  require(c.depth_divisor >= 0 && c.depth_divisor <= 1024, w, "depth_divisor",
          "0 (the model's own) or 1..1024");
  require(c.source.is_null() || c.source.is_object(), w, "source", "a JSON object or null");
  require(c.image_size >= 8 && c.image_size <= 4096, w, "image_size", "8..4096");
  require(c.dropout >= 0 && c.dropout < 1, w, "dropout", "in [0, 1)");
  require(c.bn_decay > 0 && c.bn_decay < 1, w, "bn_decay", "in (0, 1)");
  check_one_of(w, "classifier_init", c.classifier_init, {"reference", "zero"});
  check_one_of(w, "dataset", c.dataset, {"folder", "fashion-mnist", "cifar10", "synthetic"});
  require(c.num_classes >= 0, w, "num_classes", ">= 0 (0 = from the dataset)");
  require(c.train_subset >= 0, w, "train_subset", ">= 0");
  require(c.val_holdout >= 0, w, "val_holdout", ">= 0");
  check_one_of(w, "augment", c.augment, {"inception", "crop-flip", "flip", "none"});
  require(c.eval_crop > 0 && c.eval_crop <= 1, w, "eval_crop", "in (0, 1]");
  require(c.epochs > 0 && std::isfinite(c.epochs), w, "epochs", "a finite number > 0");
  require(c.max_bad_image_fraction >= 0 && c.max_bad_image_fraction <= 1, w, "max_bad_image_fraction",
          "in [0, 1]");
  require(c.low_res_size == 0 || (c.low_res_size >= 8 && c.low_res_size <= c.image_size), w,
          "low_res_size", "0 (off) or 8..image_size (" + std::to_string(c.image_size) + ")");
  require(c.low_res_epochs >= 0 && c.low_res_epochs < c.epochs, w, "low_res_epochs",
          ">= 0 and below epochs");
  require(c.low_res_epochs == 0 || c.low_res_size > 0, w, "low_res_epochs",
          "0 unless low_res_size is set");
  require(c.batch_size >= 1, w, "batch_size", ">= 1");
  require(c.micro_batch >= 0 && c.micro_batch <= c.batch_size &&
              (c.micro_batch == 0 || c.batch_size % c.micro_batch == 0),
          w, "micro_batch", "0 or a divisor of batch_size");
  check_one_of(w, "optimizer", c.optimizer, {"rmsprop", "sgd"});
  require(c.base_lr > 0, w, "base_lr", "> 0");
  require(c.lr_batch_base > 0, w, "lr_batch_base", "> 0");
  check_one_of(w, "schedule", c.schedule, {"exponential", "cosine"});
  require(c.warmup_epochs >= 0, w, "warmup_epochs", ">= 0");
  require(c.decay_epochs > 0, w, "decay_epochs", "> 0");
  require(c.decay_rate > 0 && c.decay_rate <= 1, w, "decay_rate", "in (0, 1]");
  require(c.momentum >= 0 && c.momentum < 1, w, "momentum", "in [0, 1)");
  require(c.rms_decay > 0 && c.rms_decay < 1, w, "rms_decay", "in (0, 1)");
  require(c.rms_epsilon > 0, w, "rms_epsilon", "> 0");
  require(c.weight_decay >= 0, w, "weight_decay", ">= 0");
  require(c.label_smoothing >= 0 && c.label_smoothing < 1, w, "label_smoothing", "in [0, 1)");
  require(c.ema_decay >= 0 && c.ema_decay < 1, w, "ema_decay", "in [0, 1) (0 = no EMA)");
  check_threads_and_device(w, c.threads, c.device);
  require(c.checkpoint_minutes > 0, w, "checkpoint_minutes", "> 0");
  require(c.time_limit_s >= 0, w, "time_limit_s", ">= 0");
  require(c.max_steps >= 0, w, "max_steps", ">= 0");
  require(c.log_every >= 1, w, "log_every", ">= 1");
  require(c.eval_every_epochs >= 0, w, "eval_every_epochs", ">= 0");
}

nlohmann::json to_json(const TrainConfig& config) {
  json j = json::object();
  visit_fields(config, [&](const char* name, const auto& field) { j[name] = field; });
  return j;
}

TrainConfig train_config_from_json(const nlohmann::json& j, TrainConfig base) {
  if (j.is_object() && j.contains("arch") && j.at("arch").is_array()) {
    // An array of block strings, one stage each: the same as the strings
    // separated by spaces.
    json copy = j;
    std::string joined;
    for (const auto& b : j.at("arch")) {
      if (!b.is_string() || b.get<std::string>().empty()) {
        throw ConfigError("train config key 'arch': expected a model name, block strings, or an "
                          "array of block strings, got an array holding " + json_excerpt(b));
      }
      joined += (joined.empty() ? "" : " ") + b.get<std::string>();
    }
    if (joined.empty()) throw ConfigError("train config key 'arch': the array of block strings is empty");
    copy["arch"] = joined;
    return train_config_from_json(copy, std::move(base));
  }
  read_fields(j, base, "train config",
              [](auto& c, auto&& v) { visit_fields(c, std::forward<decltype(v)>(v)); });
  return base;
}

TrainConfig load_train_config(const std::string& path, TrainConfig base) {
  const json j = load_json_file(path, "config file");
  try {
    return train_config_from_json(j, base);
  } catch (const ConfigError& e) {
    throw ConfigError("config file '" + path + "': " + e.what());
  }
}

space::GlobalParams global_params_from_json(const nlohmann::json& j) {
  space::GlobalParams p;
  if (!j.is_object()) throw ConfigError("global params: expected a JSON object");
  for (const auto& [key, value] : j.items()) {
    const std::string w = "global params";
    if (key == "depth_multiplier") {
      if (value.is_null()) {
        p.depth_multiplier.reset();
      } else {
        double m = 0;
        assign(w, key, value, m);
        p.depth_multiplier = m;
      }
    } else if (key == "depth_divisor") assign(w, key, value, p.depth_divisor);
    else if (key == "min_depth") assign(w, key, value, p.min_depth);
    else if (key == "stem_size") assign(w, key, value, p.stem_size);
    else if (key == "head_size") assign(w, key, value, p.head_size);
    else if (key == "num_classes") assign(w, key, value, p.num_classes);
    else if (key == "dropout_rate") assign(w, key, value, p.dropout_rate);
    else if (key == "bn_decay") assign(w, key, value, p.bn_decay);
    else if (key == "bn_epsilon") assign(w, key, value, p.bn_epsilon);
    else if (key == "image_size") assign(w, key, value, p.image_size);
    else if (key == "input_channels") assign(w, key, value, p.input_channels);
    else if (key == "tf_same_padding") assign(w, key, value, p.tf_same_padding);
    else throw ConfigError("global params: unknown key '" + key + "'");
  }
  space::validate(p);
  return p;
}

ModelSpec resolve_model(const TrainConfig& config, int num_classes, int input_channels) {
  ModelSpec m;
  const auto ref = space::resolve_arch(config.arch);
  m.arch = ref.arch;
  if (ref.named) m.params = ref.named->params;
  if (config.depth_multiplier > 0) m.params.depth_multiplier = config.depth_multiplier;
  if (config.stem_size > 0) m.params.stem_size = config.stem_size;
  if (config.depth_divisor > 0) m.params.depth_divisor = config.depth_divisor;
  m.params.image_size = config.image_size;
  m.params.num_classes = num_classes;
  m.params.input_channels = input_channels;
  m.params.dropout_rate = config.dropout;
  m.params.bn_decay = config.bn_decay;
  space::validate(m.params);
  m.block_strings = space::encode_arch(m.arch);
  return m;
}

}  // namespace mnas::train
