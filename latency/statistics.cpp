#include "latency/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace mnas::latency {

Timing summarize(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  auto q = [&](double p) {
    const double pos = p * static_cast<double>(times.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double f = pos - static_cast<double>(i);
    return i + 1 < times.size() ? times[i] * (1 - f) + times[i + 1] * f : times[i];
  };
  return {q(0.5), q(0.1), q(0.9), static_cast<int>(times.size())};
}

Timing subtract_prologue(const Timing& with_prologue, double prologue_ms) {
  Timing t = with_prologue;
  const double floor = 0.02 * t.median_ms;
  t.median_ms = std::max(t.median_ms - prologue_ms, floor);
  t.p10_ms = std::max(t.p10_ms - prologue_ms, floor);
  t.p90_ms = std::max(t.p90_ms - prologue_ms, floor);
  return t;
}

RepeatStats repeat_stats(std::vector<double> medians) {
  std::sort(medians.begin(), medians.end());
  RepeatStats s;
  s.median_ms = medians[medians.size() / 2];
  for (double v : medians) {
    s.max_deviation_percent = std::max(s.max_deviation_percent, std::abs(v - s.median_ms) / s.median_ms * 100.0);
  }
  return s;
}

}  // namespace mnas::latency
