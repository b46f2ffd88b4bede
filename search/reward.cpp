#include "search/reward.h"

#include <charconv>
#include <cmath>

#include "common/error.h"

namespace mnas::search {

const char* to_string(RewardKind kind) {
  switch (kind) {
    case RewardKind::kSoft: return "soft";
    case RewardKind::kHard: return "hard";
    case RewardKind::kCustom: return "custom";
  }
  return "?";
}

RewardKind reward_kind_from_string(std::string_view s) {
  if (s == "soft") return RewardKind::kSoft;
  if (s == "hard") return RewardKind::kHard;
  if (s == "custom") return RewardKind::kCustom;
  throw ConfigError("unknown reward kind '" + std::string(s) + "' (expected soft, hard or custom)");
}

RewardConfig with_preset(RewardConfig config, RewardKind kind) {
  config.kind = kind;
  if (kind == RewardKind::kSoft) {
    config.alpha = config.beta = kSoftExponent;
  } else if (kind == RewardKind::kHard) {
    config.alpha = 0.0;
    config.beta = -1.0;
  }
  return config;
}

void validate(const RewardConfig& c) {
  if (!std::isfinite(c.target_ms) || c.target_ms <= 0) {
    throw ConfigError("reward.target_ms must be a positive number of milliseconds, got " +
                      std::to_string(c.target_ms));
  }
  if (!std::isfinite(c.alpha) || c.alpha > 0) {
    throw ConfigError("reward.alpha must be <= 0, got " + std::to_string(c.alpha));
  }
  if (!std::isfinite(c.beta) || c.beta > 0) {
    throw ConfigError("reward.beta must be <= 0, got " + std::to_string(c.beta));
  }
  if (c.kind != RewardKind::kCustom) {
    const RewardConfig preset = with_preset(c, c.kind);
    if (preset.alpha != c.alpha || preset.beta != c.beta) {
      throw ConfigError(std::string("reward kind '") + to_string(c.kind) +
                        "' fixes alpha and beta; use kind 'custom' for other exponents");
    }
  }
}

nlohmann::json to_json(const RewardConfig& c) {
  return {{"target_ms", c.target_ms}, {"kind", to_string(c.kind)}, {"alpha", c.alpha},
          {"beta", c.beta}};
}

namespace {
double number(const nlohmann::json& j, const std::string& key) {
  if (!j.is_number()) throw ConfigError("reward." + key + " must be a number, got " + j.dump());
  return j.get<double>();
}
}  // namespace

RewardConfig reward_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("reward must be a JSON object, got " + j.dump());
  RewardConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key != "target_ms" && key != "kind" && key != "alpha" && key != "beta") {
      throw ConfigError("unknown key 'reward." + key +
                        "' (expected target_ms, kind, alpha, beta)");
    }
    (void)value;
  }
  if (j.contains("target_ms")) c.target_ms = number(j["target_ms"], "target_ms");
  if (j.contains("kind")) {
    if (!j["kind"].is_string()) throw ConfigError("reward.kind must be a string");
    c = with_preset(c, reward_kind_from_string(j["kind"].get<std::string>()));
  }
  const bool has_alpha = j.contains("alpha"), has_beta = j.contains("beta");
  if (c.kind == RewardKind::kCustom) {
    if (!has_alpha || !has_beta) {
      throw ConfigError("reward kind 'custom' needs both reward.alpha and reward.beta");
    }
    c.alpha = number(j["alpha"], "alpha");
    c.beta = number(j["beta"], "beta");
  } else if (has_alpha || has_beta) {
    // Accept the preset's own values (so to_json round-trips), reject others.
    if (has_alpha) c.alpha = number(j["alpha"], "alpha");
    if (has_beta) c.beta = number(j["beta"], "beta");
  }
  validate(c);
  return c;
}

double reward(double accuracy, double latency_ms, const RewardConfig& c) {
  if (!std::isfinite(accuracy) || !std::isfinite(latency_ms) || latency_ms <= 0 || accuracy <= 0) {
    return 0.0;
  }
  const double w = latency_ms <= c.target_ms ? c.alpha : c.beta;
  return accuracy * std::pow(latency_ms / c.target_ms, w);
}

double parse_latency_ms(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const char* expect = " (expected a positive number with a unit: 75ms, 0.075s or 75000us)";
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end == t.data()) {
    throw ConfigError("bad latency " + quoted + ": not a number" + expect);
  }
  std::string_view unit(end, static_cast<size_t>(t.data() + t.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  double scale = 0;
  if (unit == "ms") {
    scale = 1.0;
  } else if (unit == "s") {
    scale = 1000.0;
  } else if (unit == "us") {
    scale = 0.001;
  } else if (unit.empty()) {
    throw ConfigError("bad latency " + quoted + ": the unit is missing" + expect);
  } else {
    throw ConfigError("bad latency " + quoted + ": unknown unit '" + std::string(unit) + "'" +
                      expect);
  }
  const double ms = value * scale;
  if (!std::isfinite(ms) || ms <= 0) {
    throw ConfigError("bad latency " + quoted + ": must be > 0" + expect);
  }
  return ms;
}

}  // namespace mnas::search
