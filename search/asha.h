// Multi-fidelity children: asynchronous successive halving (ASHA, Li et al.,
// "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020).
//
// Every sampled child first trains to the smallest budget (rung 0). Rung r
// stops at fraction min_fraction x eta^r of the proxy's schedule, the top rung
// (levels - 1) at all of it. Whenever an evaluator slot is free, the ASHA rule
// (next_promotion) looks for a child in the top 1/eta of a rung's finished
// results that has not been promoted yet, highest rung first; if there is one,
// the slot resumes it from its checkpoint to the next rung's budget, otherwise
// the slot trains a new architecture.
//
// Budgets are in steps of the proxy's schedule (deterministic), never
// wall-clock. A promotion continues the same schedule (the learning rate of a
// rung-0 child is the one of the full run at those steps), so a child promoted
// to the top rung has trained exactly as a child trained to the full proxy.
// Pure functions of rung results; no LibTorch, no database.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace mnas::search {

// The experiment key "rungs" (absent = one rung, today's single fidelity):
//   {"eta": 3, "levels": 3, "min_fraction": 0.111}
struct RungConfig {
  int eta = 3;     // promotion rate: the top 1/eta of a rung go on, eta x the budget
  int levels = 3;  // rungs, >= 2; the top rung is the full proxy
  // Rung 0's budget as a fraction of the proxy's schedule; 0 = eta^-(levels-1)
  // (each rung eta x the one below, the top rung the full proxy).
  double min_fraction = 0;
};

// Throws ConfigError naming the field ("rungs.eta" ...) and what is expected:
// eta >= 2, levels in 2..10, min_fraction 0 or in (0, 1) with
// min_fraction x eta^(levels-2) < 1 (every rung below the top one).
void validate(const RungConfig& c);
nlohmann::json to_json(const RungConfig& c);
// Strict: unknown keys and wrong types throw ConfigError naming the key;
// missing keys keep the defaults above; validates.
RungConfig rung_config_from_json(const nlohmann::json& j);

// Fraction of the proxy's schedule at which rung `rung` stops (1 at the top).
double rung_fraction(const RungConfig& c, int rung);

// Step budget of every rung for a schedule of `total_steps` steps:
// max(1, round(fraction x total_steps)), the top rung total_steps. Throws
// ConfigError when two rungs get the same step count (the schedule is too
// short for that many rungs), naming the steps.
std::vector<int64_t> rung_steps(const RungConfig& c, int64_t total_steps);

// One child at one rung, as the promotion rule sees it.
struct RungEntry {
  int64_t trial = 0;
  int rung = 0;
  enum class State { kPending, kDone, kFailed } state = State::kPending;
  double score = 0;  // kDone: higher is better (the reward at that rung)
};

struct Promotion {
  int64_t trial = 0;
  int rung = 0;  // the rung it is promoted TO (>= 1)
};

// The ASHA rule: for rung k from levels - 2 down to 0, the children of rung k
// with kDone ranked by score (ties: lower trial index first); the first
// floor(n / eta) of them (n = the kDone count) are promotable, and the best
// promotable child without any entry at rung k + 1 is returned. nullopt when
// no rung has one. A failed (or pending) child is never promoted.
std::optional<Promotion> next_promotion(const std::vector<RungEntry>& entries, int eta, int levels);

}  // namespace mnas::search
