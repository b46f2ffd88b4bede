#include "experiments/experiment_config.h"

#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/json_file.h"

namespace mnas::experiments {

void validate(const ExperimentConfig& c) {
  if (c.objective != "synthetic" && c.objective != "proxy") {
    throw ConfigError("unknown objective '" + c.objective + "' (expected synthetic or proxy)");
  }
  if (c.strategy.name != "ppo" && c.strategy.name != "random" && c.strategy.name != "evolution") {
    throw ConfigError("unknown strategy '" + c.strategy.name +
                      "' (expected ppo, random or evolution)");
  }
  if (c.budget < 1) throw ConfigError("budget must be >= 1 trial, got " + std::to_string(c.budget));
  train::validate(c.proxy);
  latency::validate(c.deploy);
  search::validate(c.reward);
  search::validate(c.strategy.ppo);
  search::validate(c.strategy.evolution);
  if (c.rungs) {
    search::validate(*c.rungs);
    search::rung_steps(*c.rungs, train::proxy_total_steps(c.proxy));  // distinct step budgets
  }
}

nlohmann::json to_json(const ExperimentConfig& c) {
  nlohmann::json j = {{"space", c.space.to_json()},
          {"objective", c.objective},
          {"proxy", train::to_json(c.proxy)},
          {"deploy", latency::to_json(c.deploy)},
          {"reward", search::to_json(c.reward)},
          {"strategy",
           {{"name", c.strategy.name},
            {"ppo", search::to_json(c.strategy.ppo)},
            {"evolution", search::to_json(c.strategy.evolution)}}},
          {"budget", c.budget},
          {"seed", c.seed}};
  // Absent = single fidelity: the canonical form of an experiment without
  // rungs is what it was before rungs existed.
  if (c.rungs) j["rungs"] = search::to_json(*c.rungs);
  return j;
}

namespace {

StrategyConfig strategy_from_json(const nlohmann::json& j, StrategyConfig s) {
  if (!j.is_object()) throw ConfigError("strategy must be a JSON object, got " + json_excerpt(j));
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      if (!value.is_string()) throw ConfigError("strategy.name must be a string");
      s.name = value.get<std::string>();
    } else if (key == "ppo") {
      s.ppo = search::ppo_config_from_json(value);
    } else if (key == "evolution") {
      s.evolution = search::evolution_config_from_json(value);
    } else {
      throw ConfigError("unknown key 'strategy." + key + "' (expected name, ppo, evolution)");
    }
  }
  return s;
}

}  // namespace

ExperimentConfig experiment_from_json(const nlohmann::json& j, const std::string& base_dir) {
  if (!j.is_object()) throw ConfigError("an experiment must be a JSON object");
  ExperimentConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "space") {
      if (value.is_string()) {
        std::filesystem::path p(value.get<std::string>());
        if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
        c.space = space::SearchSpace::from_file(p.string());
      } else {
        c.space = space::SearchSpace::from_json(value);
      }
    } else if (key == "objective") {
      if (!value.is_string()) throw ConfigError("objective must be a string");
      c.objective = value.get<std::string>();
    } else if (key == "proxy") {
      if (!value.is_object()) throw ConfigError("proxy must be a JSON object");
      c.proxy = train::proxy_config_from_json(value);
    } else if (key == "deploy") {
      if (!value.is_object()) throw ConfigError("deploy must be a JSON object");
      c.deploy = latency::deploy_config_from_json(value);
    } else if (key == "reward") {
      c.reward = search::reward_config_from_json(value);
    } else if (key == "strategy") {
      c.strategy = strategy_from_json(value, c.strategy);
    } else if (key == "budget") {
      if (!value.is_number_integer()) throw ConfigError("budget must be an integer, got " + json_excerpt(value));
      c.budget = value.get<int64_t>();
    } else if (key == "rungs") {
      c.rungs = search::rung_config_from_json(value);
    } else if (key == "seed") {
      if (!value.is_number_unsigned()) {
        throw ConfigError("seed must be a non-negative integer, got " + json_excerpt(value));
      }
      c.seed = value.get<uint64_t>();
    } else {
      throw ConfigError("unknown key '" + key +
                        "' in experiment (expected space, objective, proxy, deploy, reward, "
                        "strategy, budget, seed, rungs)");
    }
  }
  validate(c);
  return c;
}

ExperimentConfig experiment_from_file(const std::string& path) {
  // Strict: bounded depth (a document nested 100,000 deep overflowed the
  // stack), no duplicate keys, no NUL bytes; a directory is named as one.
  const nlohmann::json j = load_json_file(path, "experiment file");
  try {
    return experiment_from_json(j, std::filesystem::path(path).parent_path().string());
  } catch (const ConfigError& e) {
    throw ConfigError("experiment file '" + path + "': " + e.what());
  }
}

ExperimentConfig stored_experiment_from_json(nlohmann::json j) {
  if (j.is_object() && j.contains("strategy") && j["strategy"].is_object() &&
      j["strategy"].contains("ppo") && j["strategy"]["ppo"].is_object() &&
      !j["strategy"]["ppo"].contains("per_decision_ratio")) {
    j["strategy"]["ppo"]["per_decision_ratio"] = false;
  }
  return experiment_from_json(j);
}

bool ConfigOverrides::any() const {
  return config_file || target_latency || budget || strategy || reward || alpha || beta || seed ||
         objective || latency_device;
}

ExperimentConfig apply_overrides(ExperimentConfig base, const ConfigOverrides& o) {
  ExperimentConfig c = o.config_file ? experiment_from_file(*o.config_file) : std::move(base);
  if (o.target_latency) c.reward.target_ms = search::parse_latency_ms(*o.target_latency);
  if (o.budget) c.budget = *o.budget;
  if (o.strategy) c.strategy.name = *o.strategy;
  if (o.objective) c.objective = *o.objective;
  if (o.seed) c.seed = *o.seed;
  if (o.latency_device) {
    latency::DeployConfig d = c.deploy;
    d.device = *o.latency_device;
    const auto kind = [](const latency::DeployConfig& x) {
      return latency::uses_profile(x) ? 0 : latency::is_remote(x) ? 1 : 2;
    };
    if (kind(d) != kind(c.deploy)) d.engine = "auto";
    c.deploy = d;
  }
  if (o.reward) {
    if (*o.reward != "soft" && *o.reward != "hard") {
      throw ConfigError("--reward must be soft or hard, got '" + *o.reward +
                        "' (use --alpha/--beta for custom exponents)");
    }
    c.reward = search::with_preset(c.reward, search::reward_kind_from_string(*o.reward));
  }
  if (o.alpha || o.beta) {
    if (o.reward) throw ConfigError("--reward and --alpha/--beta exclude each other");
    c.reward.kind = search::RewardKind::kCustom;
    if (o.alpha) c.reward.alpha = *o.alpha;
    if (o.beta) c.reward.beta = *o.beta;
  }
  validate(c);
  return c;
}

ExperimentConfig default_experiment() {
  ExperimentConfig c;
  c.rungs = default_rungs();
  return c;
}

ExperimentConfig build_config(const ConfigOverrides& o) { return apply_overrides(default_experiment(), o); }

std::string first_difference(const nlohmann::json& a, const nlohmann::json& b,
                             const std::string& prefix) {
  if (a.type() != b.type() && !(a.is_number() && b.is_number())) {
    return prefix.empty() ? "(root)" : prefix;
  }
  if (a.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k), (void)v;
    for (const auto& [k, v] : b.items()) keys.insert(k), (void)v;
    for (const auto& k : keys) {
      const std::string path = prefix.empty() ? k : prefix + "." + k;
      if (!a.contains(k) || !b.contains(k)) return path;
      auto d = first_difference(a.at(k), b.at(k), path);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.is_array()) {
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      const std::string path = prefix + "[" + std::to_string(i) + "]";
      if (i >= a.size() || i >= b.size()) return path;
      auto d = first_difference(a[i], b[i], path);
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a.is_number()) return a.get<double>() == b.get<double>() ? "" : prefix;
  return a == b ? "" : prefix;
}

}  // namespace mnas::experiments
