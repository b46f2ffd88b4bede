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
// update runs after every batch_size observed results (rewards and failures).
//
// An update (ppo_config.h has the defaults and why): advantages normalised
// per batch, failures at a bounded penalty, `epochs` passes of the clipped
// surrogate minus entropy_weight x the summed entropy, each Adam step on a
// gradient clipped to max_grad_norm, the remaining passes skipped once the
// approximate KL from the sampling policy passes target_kl. The ratio is the
// architecture's (the paper's) or, with per_decision_ratio, each decision's
// (clipped alone; clip_fraction is then the fraction of decisions clipped).
// last_update() reports loss, entropy, clip_fraction, epochs_run, approx_kl,
// failures, baseline, mean_advantage (raw), advantage_rms and grad_norm.
//
// Checkpoints (state()) written before failures were told apart have no
// "failed" flag in their buffer: they load, their failures as reward 0.
// Those written before per-decision log-probabilities were kept have no
// "old_logps": they load for the per-architecture ratio; restore() refuses
// them (ConfigError naming the key) for the per-decision one.
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
  // `canonical` (canonical_choices() of the space's labels; empty = every
  // choice distinct) maps each choice to the first choice that decodes to the
  // same architecture: the policy gives the others probability 0 (their
  // logits are masked), so each distinct architecture has one decision path
  // and equivalent choices do not split credit. Throws ConfigError when it
  // does not fit `choice_sizes`.
  PpoController(std::vector<int> choice_sizes, PpoConfig config, uint64_t seed,
                std::vector<std::vector<int>> canonical = {});
  ~PpoController() override;

  std::string name() const override { return "ppo"; }
  Proposal propose(int64_t trial) override;
  // The baseline is an EMA (baseline_decay) of successful rewards only,
  // started at the first one; each sample's advantage is its reward minus the
  // baseline before it. Throws Error for an unknown trial or a non-finite
  // reward.
  bool observe(int64_t trial, const std::vector<int>& decisions, double reward) override;
  // Leaves the baseline alone; the sample enters the next update with the
  // advantage -failure_penalty (in units of the batch's advantage RMS).
  bool observe_failure(int64_t trial, const std::vector<int>& decisions) override;
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
