#include "search/ppo_config.h"

#include <cmath>
#include <map>

#include "common/error.h"

namespace mnas::search {

void validate(const PpoConfig& c) {
  auto bad = [](const std::string& field, const std::string& expect, double v) {
    throw ConfigError("strategy.ppo." + field + " must be " + expect + ", got " +
                      std::to_string(v));
  };
  if (c.lstm_hidden < 1) bad("lstm_hidden", ">= 1", c.lstm_hidden);
  if (c.embedding_size < 1) bad("embedding_size", ">= 1", c.embedding_size);
  if (!(c.init_range > 0)) bad("init_range", "> 0", c.init_range);
  if (!(c.learning_rate > 0)) bad("learning_rate", "> 0", c.learning_rate);
  if (!(c.entropy_weight >= 0)) bad("entropy_weight", ">= 0", c.entropy_weight);
  if (!(c.baseline_decay >= 0 && c.baseline_decay < 1)) {
    bad("baseline_decay", "in [0, 1)", c.baseline_decay);
  }
  if (!(c.clip_epsilon > 0)) bad("clip_epsilon", "> 0", c.clip_epsilon);
  if (c.batch_size < 1) bad("batch_size", ">= 1", c.batch_size);
  if (c.minibatch_size < 1 || c.minibatch_size > c.batch_size) {
    bad("minibatch_size", "in 1..batch_size", c.minibatch_size);
  }
  if (c.epochs < 1) bad("epochs", ">= 1", c.epochs);
  if (!(c.max_grad_norm >= 0) || std::isinf(c.max_grad_norm)) {
    bad("max_grad_norm", ">= 0 and finite (0 = off)", c.max_grad_norm);
  }
  if (!(c.target_kl >= 0) || std::isinf(c.target_kl)) {
    bad("target_kl", ">= 0 and finite (0 = off)", c.target_kl);
  }
  if (!(c.failure_penalty >= 0) || std::isinf(c.failure_penalty)) {
    bad("failure_penalty", ">= 0 and finite", c.failure_penalty);
  }
  if (c.device != "cpu" && c.device != "auto" && c.device.rfind("cuda", 0) != 0) {
    throw ConfigError("strategy.ppo.device must be cpu, cuda, cuda:N or auto, got '" + c.device +
                      "'");
  }
}

nlohmann::json to_json(const PpoConfig& c) {
  return {{"lstm_hidden", c.lstm_hidden},
          {"embedding_size", c.embedding_size},
          {"init_range", c.init_range},
          {"learning_rate", c.learning_rate},
          {"entropy_weight", c.entropy_weight},
          {"baseline_decay", c.baseline_decay},
          {"clip_epsilon", c.clip_epsilon},
          {"batch_size", c.batch_size},
          {"minibatch_size", c.minibatch_size},
          {"epochs", c.epochs},
          {"normalize_advantages", c.normalize_advantages},
          {"max_grad_norm", c.max_grad_norm},
          {"target_kl", c.target_kl},
          {"failure_penalty", c.failure_penalty},
          {"per_decision_ratio", c.per_decision_ratio},
          {"device", c.device}};
}

PpoConfig ppo_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("strategy.ppo must be a JSON object");
  PpoConfig c;
  const std::map<std::string, int*> ints = {{"lstm_hidden", &c.lstm_hidden},
                                            {"embedding_size", &c.embedding_size},
                                            {"batch_size", &c.batch_size},
                                            {"minibatch_size", &c.minibatch_size},
                                            {"epochs", &c.epochs}};
  const std::map<std::string, double*> doubles = {{"init_range", &c.init_range},
                                                  {"learning_rate", &c.learning_rate},
                                                  {"entropy_weight", &c.entropy_weight},
                                                  {"baseline_decay", &c.baseline_decay},
                                                  {"clip_epsilon", &c.clip_epsilon},
                                                  {"max_grad_norm", &c.max_grad_norm},
                                                  {"target_kl", &c.target_kl},
                                                  {"failure_penalty", &c.failure_penalty}};
  const std::map<std::string, bool*> bools = {{"normalize_advantages", &c.normalize_advantages},
                                              {"per_decision_ratio", &c.per_decision_ratio}};
  for (const auto& [key, value] : j.items()) {
    if (auto it = ints.find(key); it != ints.end()) {
      if (!value.is_number_integer()) {
        throw ConfigError("strategy.ppo." + key + " must be an integer, got " + value.dump());
      }
      *it->second = value.get<int>();
    } else if (auto it2 = doubles.find(key); it2 != doubles.end()) {
      if (!value.is_number()) {
        throw ConfigError("strategy.ppo." + key + " must be a number, got " + value.dump());
      }
      *it2->second = value.get<double>();
    } else if (auto it3 = bools.find(key); it3 != bools.end()) {
      if (!value.is_boolean()) {
        throw ConfigError("strategy.ppo." + key + " must be true or false, got " + value.dump());
      }
      *it3->second = value.get<bool>();
    } else if (key == "device") {
      if (!value.is_string()) throw ConfigError("strategy.ppo.device must be a string");
      c.device = value.get<std::string>();
    } else {
      throw ConfigError("unknown key 'strategy.ppo." + key +
                        "' (expected lstm_hidden, embedding_size, init_range, learning_rate, "
                        "entropy_weight, baseline_decay, clip_epsilon, batch_size, "
                        "minibatch_size, epochs, normalize_advantages, max_grad_norm, target_kl, "
                        "failure_penalty, per_decision_ratio, device)");
    }
  }
  validate(c);
  return c;
}

}  // namespace mnas::search
