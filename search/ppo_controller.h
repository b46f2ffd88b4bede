// The RL controller of MnasNet (paper section 4.2), which is NASNet's
// (Zoph et al. 2018, appendix A.2-A.3): a one-layer LSTM that emits one
// decision per step, with an embedding (input of the next step) and a softmax
// head per decision, weights initialised U(-0.1, 0.1), trained with Proximal
// Policy Optimisation (clipped surrogate objective) on the reward minus an
// exponential-moving-average baseline, plus an entropy bonus.
//
// This header is Torch-free (the LibTorch module lives in ppo_controller.cpp
// only) so that the search loop and apps compile without <torch/torch.h>.
//
// Sampling draws from the softmax probabilities with the strategy's own
// std::mt19937_64 (not Torch's generator), so that state() holds the whole
// RNG state and a resumed search samples exactly what an uninterrupted one
// would. Weights + Adam state travel in weights() (torch::serialize archive).
//
// Asynchronous use: the log-probability of each proposal under the policy
// that sampled it is kept until its reward arrives (PPO's "old" policy); an
// update runs after every batch_size observed rewards.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "search/ppo_config.h"
#include "search/strategy.h"

namespace mnas::search {

// Sets LibTorch's intra-op thread count (torch::set_num_threads) for the
// controller and anything else in the process that uses LibTorch; n >= 1.
void set_torch_threads(int n);

// The CUDA device for the process with this local rank on its host
// ("cuda:<local_rank mod device count>"), or "" when CUDA is unavailable: one
// GPU per MPI rank.
std::string cuda_device_for_local_rank(int local_rank);

class PpoController : public Strategy {
 public:
  // Builds the LSTM for `choice_sizes` and initialises it from `seed`.
  PpoController(std::vector<int> choice_sizes, PpoConfig config, uint64_t seed);
  ~PpoController() override;

  std::string name() const override { return "ppo"; }
  Proposal propose(int64_t trial) override;
  bool observe(int64_t trial, const std::vector<int>& decisions, double reward) override;
  nlohmann::json state() const override;
  std::string weights() const override;
  void restore(const nlohmann::json& state, const std::string& weights) override;
  nlohmann::json last_update() const override;

  // Probability of each choice of each decision when the previous decisions
  // are the policy's most likely ones (greedy decode), for reports and tests.
  std::vector<std::vector<double>> greedy_probabilities() const;
  // The most likely decision vector (greedy decode).
  std::vector<int> greedy_decisions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnas::search
