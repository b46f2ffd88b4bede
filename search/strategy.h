// Search strategies: what proposes the next architecture and learns from the
// rewards. All of them work on decision vectors (one choice index per
// decision of space::SearchSpace::decisions()) and know nothing of
// architectures, training or the database, so the same search loop, budget
// and database serve every strategy and users can compare them on one
// experiment.
//
// Asynchronous use (DESIGN.md): the loop may call propose() several times
// before the matching observe() calls arrive, and results may arrive in any
// order; every strategy here accepts that.
//
// Crash safety: state() + weights() capture everything (RNG state included),
// and restore() of them continues exactly where the strategy was, so a
// resumed search makes the same choices as an uninterrupted one. The loop
// saves them in the same database transaction as the trial they concern.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mnas::space {
class SearchSpace;
}  // namespace mnas::space

namespace mnas::search {

struct Proposal {
  std::vector<int> decisions;
  // Entropy (nats, summed over decisions) of the distribution the decisions
  // were drawn from; NaN when the strategy has no such distribution
  // (evolution's mutations).
  double entropy = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  // "ppo", "random", "evolution".
  virtual std::string name() const = 0;

  // The decisions for trial `trial` (0-based, increasing).
  virtual Proposal propose(int64_t trial) = 0;

  // The reward of a proposed trial whose child was evaluated (status ok).
  // Returns true when the strategy updated its policy (PPO after each batch),
  // so the caller knows that weights() changed.
  virtual bool observe(int64_t trial, const std::vector<int>& decisions, double reward) = 0;

  // A proposed trial that produced no reward: its child failed, diverged or
  // hit the safety-net time limit. The default records it as reward 0 (random
  // search ignores it, evolution ranks it last); PPO keeps it out of its
  // baseline and gives it a bounded penalty (PpoConfig::failure_penalty).
  // Returns what observe() returns.
  virtual bool observe_failure(int64_t trial, const std::vector<int>& decisions) {
    return observe(trial, decisions, 0.0);
  }

  // Everything but large tensors, as JSON (RNG state, counters, buffers).
  virtual nlohmann::json state() const = 0;
  // The large binary state (controller weights and optimizer); empty for
  // strategies without one.
  virtual std::string weights() const { return {}; }
  // Restores what state() and weights() returned. Throws ConfigError when
  // they do not fit this strategy or search space.
  virtual void restore(const nlohmann::json& state, const std::string& weights) = 0;

  // Statistics of the last policy update (loss, entropy, baseline, ...), for
  // the experiment log; null before any.
  virtual nlohmann::json last_update() const { return nullptr; }
};

// Uniform random search: every decision drawn independently and uniformly.
class RandomSearch : public Strategy {
 public:
  RandomSearch(std::vector<int> choice_sizes, uint64_t seed);
  std::string name() const override { return "random"; }
  Proposal propose(int64_t trial) override;
  bool observe(int64_t, const std::vector<int>&, double) override { return false; }
  nlohmann::json state() const override;
  void restore(const nlohmann::json& state, const std::string& weights) override;

 private:
  std::vector<int> sizes_;
  std::mt19937_64 rng_;
};

// Regularized evolution (Real et al., AAAI 2019, "aging evolution"): the
// first population_size proposals are random; afterwards each proposal
// samples sample_size members of the population without replacement, takes
// the one with the highest reward and changes ONE decision (chosen uniformly
// among decisions with more than one choice) to a different value chosen
// uniformly. Each observed result joins the population and the oldest member
// leaves once it exceeds population_size.
struct EvolutionConfig {
  int population_size = 50;
  int sample_size = 10;
};
// Throws ConfigError naming the field.
void validate(const EvolutionConfig& c);
nlohmann::json to_json(const EvolutionConfig& c);
// Strict: unknown keys and wrong types throw ConfigError naming the key.
EvolutionConfig evolution_config_from_json(const nlohmann::json& j);

class RegularizedEvolution : public Strategy {
 public:
  RegularizedEvolution(std::vector<int> choice_sizes, EvolutionConfig config, uint64_t seed);
  std::string name() const override { return "evolution"; }
  Proposal propose(int64_t trial) override;
  bool observe(int64_t trial, const std::vector<int>& decisions, double reward) override;
  nlohmann::json state() const override;
  void restore(const nlohmann::json& state, const std::string& weights) override;

 private:
  struct Member {
    std::vector<int> decisions;
    double reward = 0;
  };
  std::vector<int> sizes_;
  EvolutionConfig config_;
  std::mt19937_64 rng_;
  std::vector<Member> population_;  // oldest first
  int64_t proposed_ = 0;
};

// Helpers shared by the strategies (also used by the PPO controller).
std::string rng_to_string(const std::mt19937_64& rng);
std::mt19937_64 rng_from_string(const std::string& s);
// Entropy of the uniform distribution over every decision: sum of ln(n_i).
double uniform_entropy(const std::vector<int>& choice_sizes);
// For each decision, the canonical choice of each of its choices: the first
// choice with the same label. `labels` are the choices' printable labels
// (space::Decision::labels), which for the MnasNet space are the decoded
// values (a block's filter count, its number of layers), so choices with one
// label decode to the same architecture: with repeats 1 + {-1, 0, +1}, delta
// -1 and 0 both give 1 layer. A strategy that samples only canonical choices
// gives each distinct architecture one decision path.
std::vector<std::vector<int>> canonical_choices(const std::vector<std::vector<std::string>>& labels);
// canonical_choices of the labels of every decision of `space`.
std::vector<std::vector<int>> canonical_choices(const space::SearchSpace& space);
// Checks that `decisions` has one in-range value per decision; throws
// ConfigError naming the first bad index.
void check_decisions(const std::vector<int>& decisions, const std::vector<int>& choice_sizes);

}  // namespace mnas::search
