// The PPO controller's hyperparameters (NASNet appendix A.2-A.3 defaults),
// with their strict JSON form. Torch-free, so that experiment configs and
// read-only reports parse them without linking LibTorch.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mnas::search {

struct PpoConfig {
  int lstm_hidden = 100;      // LSTM units (NASNet: 100)
  int embedding_size = 100;   // size of each decision's embedding (LSTM input)
  double init_range = 0.1;    // weights ~ U(-init_range, init_range)
  double learning_rate = 0.00035;  // Adam (NASNet: PPO lr 0.00035)
  double entropy_weight = 1e-5;    // entropy bonus (NASNet: 0.00001)
  double baseline_decay = 0.95;    // EMA baseline: b = d*b + (1-d)*reward
  double clip_epsilon = 0.2;       // PPO ratio clip
  int batch_size = 20;        // rewards per policy update (NASNet: 20 archs)
  int minibatch_size = 20;    // architectures per gradient step
  int epochs = 4;             // passes over each batch (PPO reuses samples)
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" or "auto" (CUDA when available)
};

// Throws ConfigError naming the field.
void validate(const PpoConfig& c);
nlohmann::json to_json(const PpoConfig& c);
// Strict: unknown keys and wrong types throw ConfigError naming the key;
// missing keys keep the defaults.
PpoConfig ppo_config_from_json(const nlohmann::json& j);

}  // namespace mnas::search
