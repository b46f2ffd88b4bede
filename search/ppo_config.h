// The PPO controller's hyperparameters, with their strict JSON form.
// Torch-free, so that experiment configs and read-only reports parse them
// without linking LibTorch.
//
// The defaults are chosen for searches of 100-500 trials with noisy rewards
// (a one-epoch proxy: seed noise ~0.01-0.02 accuracy) and a few per cent of
// failed children, not for the paper's ~8,000 samples:
// - learning_rate 0.005 (the paper: 0.00035). Adam moves each weight by about
//   lr per step, so 4 steps per update at the paper's rate move the policy by
//   ~0.0014 per update: with the paper's constants the summed entropy is
//   still 40.7 of 40.8 nats after 320 noisy trials. At 0.005 it falls to
//   21-24 nats and the mean reward rises by 0.03-0.04 (synthetic reward,
//   sigma 0.02, 5 % failures: tests/search/ppo_learning_test.cpp,
//   docs/search.md); 0.01 collapses it to 6-11 nats, too greedy for noisy
//   rewards; 0.003 leaves it at 31-37.
// - batch_size 8: 100 trials give 12 updates, 500 give 62; a batch of 8 still
//   gives a usable per-batch scale for the advantages (batch 20, the paper's,
//   gives only 5 updates in 100 trials; batch 5 learned as well on average
//   but varied more between seeds).
// - normalize_advantages: reward minus the EMA baseline, divided by the
//   batch's root mean square of those differences, so the step size does not
//   depend on the reward's spread (0.02 between good and bad children on the
//   proxy task, more on others).
// - entropy_weight 0.01 (weight of the entropy summed over the decisions,
//   next to advantages of RMS 1): enough to keep a noisy batch from zeroing
//   out a choice after one update; 0.003 and 0.03 learned no better (the
//   paper's 1e-5 has no measurable effect).
// - max_grad_norm 1.0 and target_kl 0.1: a single update cannot move the
//   policy far (approximate KL between the sampling and the updated policy,
//   summed over the decisions, mean over the batch; the remaining epochs of
//   an update stop above it, on the real objective usually after 1). 0.05
//   behaved the same on the real objective and left one synthetic seed of
//   five short of the learning test's gain at 320 trials.
// - per_decision_ratio: each decision's ratio clipped alone. With one ratio
//   per architecture (the product of 42), an update's second pass clipped
//   25-63 % of the batch's samples whole, leaving them only the entropy
//   bonus, and the policy moved little: on the real objective (the default
//   search, 120 architectures) best / late reward 0.684 / 0.523 (medians
//   over 3 seeds) with it, 0.739 / 0.659 per decision (docs/search.md).
// - failure_penalty 1.0: a failed, diverged or timed-out child gets the
//   advantage of an architecture one batch-RMS worse than the baseline and
//   never enters the baseline (a reward 0 would shift an EMA baseline of
//   ~0.8 by 0.04, more than the spread between good and bad children).
// experiments/search-paper.json sets the paper's constants (lr 0.00035,
// batch 20, entropy 1e-5) and switches normalisation, clipping, the KL stop
// and the per-decision ratio off.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mnas::search {

struct PpoConfig {
  int lstm_hidden = 100;      // LSTM units (NASNet: 100)
  int embedding_size = 100;   // size of each decision's embedding (LSTM input)
  double init_range = 0.1;    // weights ~ U(-init_range, init_range)
  double learning_rate = 0.005;  // Adam (NASNet: PPO lr 0.00035)
  double entropy_weight = 0.01;  // weight of the summed entropy (NASNet: 0.00001)
  double baseline_decay = 0.95;  // EMA baseline over successful rewards: b = d*b + (1-d)*reward
  double clip_epsilon = 0.2;     // PPO ratio clip
  int batch_size = 8;         // rewards per policy update (NASNet: 20 archs)
  int minibatch_size = 8;     // architectures per gradient step
  int epochs = 4;             // passes over each batch (PPO reuses samples)
  // Divide the advantages (reward - baseline) by their root mean square over
  // the batch's successful trials (NASNet: false, raw reward - baseline).
  bool normalize_advantages = true;
  // Clip the gradient's global L2 norm to this before each Adam step; 0 = off.
  double max_grad_norm = 1.0;
  // Stop an update's remaining epochs once the approximate KL divergence
  // between the sampling policy and the updated one, over the batch, exceeds
  // this; 0 = off.
  double target_kl = 0.1;
  // Advantage of a failed trial (failed, diverged, timeout), in units of the
  // batch's advantage RMS: -failure_penalty. Failures never enter the
  // baseline. >= 0.
  double failure_penalty = 1.0;
  // PPO's ratio per decision (the default) instead of per architecture.
  // false (the paper's and NASNet's form): one ratio r = p_new(arch) / p_old(arch), the
  // product of 42 per-decision ratios, clipped to 1 +- clip_epsilon, so a
  // few small moves per decision clip the whole sample. true: each decision
  // i has its own ratio r_i = p_new(a_i | a_<i) / p_old(a_i | a_<i), the
  // surrogate is the sum over decisions of min(r_i A, clip(r_i) A) (the same
  // gradient as the per-architecture form while no ratio is clipped), and
  // the KL estimate for target_kl is the sum over decisions of their
  // per-decision estimates (the chain rule: the same KL, lower variance).
  bool per_decision_ratio = true;
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" or "auto" (CUDA when available)
};

// Throws ConfigError naming the field.
void validate(const PpoConfig& c);
nlohmann::json to_json(const PpoConfig& c);
// Strict: unknown keys and wrong types throw ConfigError naming the key;
// missing keys keep the defaults.
PpoConfig ppo_config_from_json(const nlohmann::json& j);

}  // namespace mnas::search
