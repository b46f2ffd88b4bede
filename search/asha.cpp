#include "search/asha.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "common/error.h"

namespace mnas::search {

void validate(const RungConfig& c) {
  if (c.eta < 2) throw ConfigError("rungs.eta must be an integer >= 2, got " + std::to_string(c.eta));
  if (c.levels < 2 || c.levels > 10) {
    throw ConfigError("rungs.levels must be an integer in 2..10, got " + std::to_string(c.levels));
  }
  if (c.min_fraction != 0) {
    if (!(c.min_fraction > 0 && c.min_fraction < 1)) {
      throw ConfigError("rungs.min_fraction must be 0 (= eta^-(levels-1)) or in (0, 1), got " +
                        std::to_string(c.min_fraction));
    }
    const double below_top = c.min_fraction * std::pow(c.eta, c.levels - 2);
    if (!(below_top < 1)) {
      throw ConfigError("rungs.min_fraction x eta^(levels-2) must be < 1 (every rung below the top "
                        "one trains less than the full proxy), got " + std::to_string(below_top));
    }
  }
}

nlohmann::json to_json(const RungConfig& c) {
  return {{"eta", c.eta}, {"levels", c.levels}, {"min_fraction", c.min_fraction}};
}

RungConfig rung_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("rungs must be a JSON object, got " + j.dump());
  RungConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "eta" || key == "levels") {
      if (!value.is_number_integer()) {
        throw ConfigError("rungs." + key + " must be an integer, got " + value.dump());
      }
      (key == "eta" ? c.eta : c.levels) = value.get<int>();
    } else if (key == "min_fraction") {
      if (!value.is_number()) throw ConfigError("rungs.min_fraction must be a number, got " + value.dump());
      c.min_fraction = value.get<double>();
    } else {
      throw ConfigError("unknown key 'rungs." + key + "' (expected eta, levels, min_fraction)");
    }
  }
  validate(c);
  return c;
}

double rung_fraction(const RungConfig& c, int rung) {
  if (rung < 0 || rung >= c.levels) {
    throw Error("rung " + std::to_string(rung) + " outside 0.." + std::to_string(c.levels - 1));
  }
  if (rung == c.levels - 1) return 1.0;
  const double min = c.min_fraction > 0 ? c.min_fraction : std::pow(c.eta, -(c.levels - 1));
  return min * std::pow(c.eta, rung);
}

std::vector<int64_t> rung_steps(const RungConfig& c, int64_t total_steps) {
  std::vector<int64_t> steps;
  for (int r = 0; r < c.levels; ++r) {
    const int64_t s = r == c.levels - 1
                          ? total_steps
                          : std::max<int64_t>(1, std::llround(rung_fraction(c, r) * total_steps));
    if (!steps.empty() && s <= steps.back()) {
      throw ConfigError("rungs: rung " + std::to_string(r) + " would train " + std::to_string(s) +
                        " steps, no more than rung " + std::to_string(r - 1) + " (" +
                        std::to_string(steps.back()) + " steps of a " + std::to_string(total_steps) +
                        "-step proxy schedule); expected fewer levels, a smaller eta or a longer proxy");
    }
    steps.push_back(s);
  }
  return steps;
}

std::optional<Promotion> next_promotion(const std::vector<RungEntry>& entries, int eta, int levels) {
  for (int k = levels - 2; k >= 0; --k) {
    std::vector<std::pair<double, int64_t>> done;  // (score, trial)
    std::set<int64_t> above;                       // trials with an entry at rung k + 1
    for (const auto& e : entries) {
      if (e.rung == k && e.state == RungEntry::State::kDone) done.emplace_back(e.score, e.trial);
      if (e.rung == k + 1) above.insert(e.trial);
    }
    std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const size_t promotable = done.size() / static_cast<size_t>(eta);
    for (size_t i = 0; i < promotable; ++i) {
      if (!above.count(done[i].second)) return Promotion{done[i].second, k + 1};
    }
  }
  return std::nullopt;
}

}  // namespace mnas::search
