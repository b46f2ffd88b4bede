// The MnasNet multi-objective reward (paper section 3, Eq. 2-3) and the
// latency-with-units parser used by flags and experiment files. No LibTorch.
//
//   reward(m) = ACC(m) * (LAT(m) / T)^w,   w = alpha if LAT(m) <= T else beta
//
// soft constraint (the paper's main results): alpha = beta = -0.07
//   (a model with 2x the latency needs 5% relative more accuracy: 1.05*2^b = 1);
// hard constraint: alpha = 0, beta = -1 (plain ACC under the target, sharply
//   penalised above it);
// custom: any alpha, beta <= 0.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mnas::search {

// The paper's soft-constraint exponent (-ln 1.05 / ln 2 = -0.0704, rounded).
constexpr double kSoftExponent = -0.07;

enum class RewardKind { kSoft, kHard, kCustom };

// "soft", "hard", "custom".
const char* to_string(RewardKind kind);
// Inverse of to_string; throws ConfigError naming the bad word.
RewardKind reward_kind_from_string(std::string_view s);

struct RewardConfig {
  double target_ms = 75.0;  // T, the target latency in milliseconds (> 0)
  RewardKind kind = RewardKind::kSoft;
  double alpha = kSoftExponent;  // exponent when LAT <= T
  double beta = kSoftExponent;   // exponent when LAT > T
};

// The preset exponents of `kind` (soft, hard) applied to `config`; custom
// keeps alpha and beta as they are.
RewardConfig with_preset(RewardConfig config, RewardKind kind);

// Throws ConfigError when target_ms <= 0 or not finite, an exponent is not
// finite or positive (a positive exponent would reward slowness), or a preset
// kind carries exponents other than its preset.
void validate(const RewardConfig& config);

// JSON form {"target_ms", "kind", "alpha", "beta"}. from_json is strict:
// unknown keys throw ConfigError naming the key; "alpha"/"beta" are only
// accepted with kind "custom" (which requires both); missing keys keep the
// defaults (kind soft, target 75 ms).
nlohmann::json to_json(const RewardConfig& config);
RewardConfig reward_config_from_json(const nlohmann::json& j);

// ACC * (LAT / T)^w. REQUIRES: validate(config) passed. accuracy is a
// fraction in [0, 1]; latency_ms > 0 (a non-positive or non-finite latency or
// accuracy gives reward 0, as a failed trial does).
double reward(double accuracy, double latency_ms, const RewardConfig& config);

// Parses a duration with its unit into milliseconds: "75ms", "0.075s",
// "75000us" (also "75 ms"). Throws ConfigError when the unit is missing or
// unknown, the number is malformed, or the value is <= 0 or not finite; the
// message quotes the input and lists the accepted units.
double parse_latency_ms(std::string_view text);

}  // namespace mnas::search
