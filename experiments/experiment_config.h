// The experiment: everything that decides what a search does, as one value
// type with a strict JSON form. It is stored in the experiment database when
// the search starts, so `--resume` needs no file and a contradicting config
// can be detected.
//
//   {
//     "space": "space-mnasnet.json" | {inline search space},
//     "objective": "synthetic" | "proxy",
//     "proxy": {...},      // child-trainer configuration (train::ProxyConfig)
//     "deploy": {...},     // latency configuration (latency::DeployConfig);
//                          // absent: the embedded default, device "pixel1";
//                          // an object is read as DeployConfig gives it, so
//                          // an object without "device" means the host "cpu"
//     "reward": {"target_ms": 75, "kind": "soft" | "hard" | "custom",
//                "alpha": -0.07, "beta": -0.07},
//     "strategy": {"name": "ppo" | "random" | "evolution",
//                  "ppo": {...PpoConfig}, "evolution": {...EvolutionConfig}},
//     "budget": 100,       // total trials (sampled architectures)
//     "seed": 1,
//     "rungs": {"eta": 3, "levels": 3, "min_fraction": 0}
//                          // multi-fidelity children (search/asha.h);
//                          // absent = one rung, every child trains the
//                          // full proxy (single fidelity)
//   }
//
// Layers (STYLE.md habit 6): embedded defaults -> --config file -> flags ->
// validate. A relative "space" path is resolved against the config file's
// folder; the stored form always holds the space inline. Unknown keys anywhere
// throw ConfigError naming the key. "proxy" and "deploy" are parsed here, once
// (train::proxy_config_from_json, latency::deploy_config_from_json), and held
// typed; no other code reads them as JSON.
//
// Compatibility: databases written before the typed form store "proxy" and
// "deploy" as given (partial objects, e.g. {"time_limit_s": 70} and {}), the
// typed form stores every field. Both parse to the same ExperimentConfig, and
// `--resume` compares configurations in the canonical form (to_json of the
// parsed value), so an old database resumes as before. The canonical form is
// also what the old parser read (it accepted any object there).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "latency/deploy_config.h"
#include "search/asha.h"
#include "search/ppo_config.h"
#include "search/reward.h"
#include "search/strategy.h"
#include "space/search_space.h"
#include "train/child_trainer.h"

namespace mnas::experiments {

// The objective used when neither the file nor a flag names one: the real
// proxy task (child training on Fashion-MNIST + the host-CPU latency table).
constexpr const char* kDefaultObjective = "proxy";

// The embedded default budget: 120 sampled architectures, each trained to
// rung 0 (52 of the proxy's 156 steps) and the best third to all 156
// (default_rungs), an estimated 15-18 minutes on a quiet 2-core machine
// (docs/search.md has the arithmetic); 120 / PPO batch 8 = 15 policy updates. With the host
// table instead of pixel1, its first-use profiling adds ~2-3 min. (Before
// multi-fidelity children it was 14 full-proxy trials.)
constexpr int64_t kDefaultBudget = 120;
// A child's budget is its steps (proxy epochs x images / batch), the same on
// a busy machine as on a quiet one. The wall-clock limit is only a safety net
// against hangs: about 10x the slowest default child seen on a loaded 2-core
// machine (34 s), so that load alone never trips it. A child that does hit
// it is evaluated with the weights it has and recorded as "timeout", a
// failure to the strategy. (Until issue #18 it was 70 s, and 2 of the first
// 7 children of a search on a busy machine hit it; databases of that time
// store {"time_limit_s": 70} and resume with it.)
constexpr double kDefaultChildSeconds = 300;

// The embedded default deploy device: the MnasNet paper's latency target,
// Pixel 1 (latency/profiles/pixel1.json, docs/pixel1-profile.md), so that
// `--target-latency 75ms` means what the paper means. Its latencies are
// estimates from a fitted profile; `mnas_search --latency-device cpu` (or a
// config with "deploy": {"device": "cpu"}) uses the host's table instead.
constexpr const char* kDefaultLatencyDevice = "pixel1";

inline latency::DeployConfig default_deploy_config() {
  latency::DeployConfig d;
  d.device = kDefaultLatencyDevice;
  return d;
}

// PpoConfig's defaults, chosen for 100-500 trials of noisy rewards
// (search/ppo_config.h says why); experiments/search-paper.json holds the
// paper's constants.
inline search::PpoConfig default_ppo_config() { return search::PpoConfig{}; }

// The child trainer of the embedded default: train::ProxyConfig's defaults
// with the safety-net time limit kDefaultChildSeconds.
inline train::ProxyConfig default_proxy_config() {
  train::ProxyConfig p;
  p.time_limit_s = kDefaultChildSeconds;
  return p;
}

// The rungs of the embedded default (experiments/search-default.json): two
// rungs, eta 3: every child trains 1/3 of the proxy's schedule (52 of 156
// steps), the best third on to the full proxy. 1/9 of an epoch (17 steps)
// scores chance level (0.07-0.22 top-1 in the proxy-fidelity bench, 0.113 for
// the first children of a default search), 1/3 of an epoch 0.42-0.63: the
// smallest rung must carry a signal for the controller. docs/search.md has
// the budget arithmetic. An experiment file without "rungs" is single-fidelity.
inline search::RungConfig default_rungs() {
  search::RungConfig r;
  r.eta = 3;
  r.levels = 2;
  r.min_fraction = 1.0 / 3;  // explicit, so that the file shows the knob
  return r;
}

struct StrategyConfig {
  std::string name = "ppo";  // "ppo", "random", "evolution"
  search::PpoConfig ppo = default_ppo_config();
  search::EvolutionConfig evolution;
};

struct ExperimentConfig {
  space::SearchSpace space = space::SearchSpace::mnasnet_default();
  std::string objective = kDefaultObjective;  // "synthetic" or "proxy"
  train::ProxyConfig proxy = default_proxy_config();  // objective "proxy": the child trainer
  // objective "proxy": where latency is predicted (and measured, on the host)
  latency::DeployConfig deploy = default_deploy_config();
  search::RewardConfig reward;
  StrategyConfig strategy;
  int64_t budget = kDefaultBudget;  // total trials, >= 1
  uint64_t seed = 1;
  // Multi-fidelity children; nullopt = single fidelity (every child trains
  // the full proxy). Only the embedded default (default_experiment) sets it:
  // a file or a stored configuration without "rungs" has none.
  std::optional<search::RungConfig> rungs;
};

// The embedded default experiment: ExperimentConfig{} with default_rungs().
ExperimentConfig default_experiment();

// Throws ConfigError naming the field (unknown strategy or objective, budget
// < 1, reward and strategy constants out of range, a proxy or deploy field
// out of range).
void validate(const ExperimentConfig& config);

// Canonical JSON (space inline, every field explicit).
nlohmann::json to_json(const ExperimentConfig& config);

// Strict parsing; missing keys keep the embedded defaults. `base_dir` resolves
// a relative "space" path.
ExperimentConfig experiment_from_json(const nlohmann::json& j, const std::string& base_dir = ".");
// experiment_from_json of a file; ConfigError names the file on I/O or JSON
// syntax errors.
ExperimentConfig experiment_from_file(const std::string& path);
// experiment_from_json of a configuration stored by mnas_search (a database's
// experiment, an MPI job's: to_json, every key explicit). A key added to the
// format after it was stored keeps the behaviour the experiment ran with, not
// today's default: strategy.ppo.per_decision_ratio absent = false (the
// per-architecture ratio, the default before 2026-12-07).
ExperimentConfig stored_experiment_from_json(nlohmann::json j);

// The command-line layer: every field a flag of mnas_search can set.
struct ConfigOverrides {
  std::optional<std::string> config_file;
  std::optional<std::string> target_latency;  // with unit: "75ms", "0.075s"
  std::optional<int64_t> budget;
  std::optional<std::string> strategy;
  std::optional<std::string> reward;  // "soft" | "hard"
  std::optional<double> alpha, beta;  // imply reward kind "custom"
  std::optional<uint64_t> seed;
  std::optional<std::string> objective;
  // --latency-device: deploy.device (pixel1 | cpu | cuda[:N] | remote:NAME |
  // a profile .json); the engine goes back to "auto" when the kind of device
  // changes (a profile or remote label means nothing on the host).
  std::optional<std::string> latency_device;

  // True when any of the above is set.
  bool any() const;
};

// The one flag layering: `base` -> the config file (which replaces `base`
// when given) -> the flags -> validate. Throws ConfigError for a bad flag
// (--reward neither soft nor hard, --reward together with --alpha/--beta, a
// target latency without unit) or a refused result.
ExperimentConfig apply_overrides(ExperimentConfig base, const ConfigOverrides& overrides);

// A new experiment: default_experiment() layered with apply_overrides.
ExperimentConfig build_config(const ConfigOverrides& overrides);

// The path of the first difference between two JSON values ("reward.target_ms",
// "strategy.ppo.learning_rate", "space.skeleton[2]") or "" when equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b,
                             const std::string& prefix = "");

}  // namespace mnas::experiments
