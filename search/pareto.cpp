#include "search/pareto.h"

#include <algorithm>
#include <cmath>

namespace mnas::search {

std::vector<ParetoPoint> pareto_front(std::vector<ParetoPoint> points) {
  points.erase(std::remove_if(points.begin(), points.end(),
                              [](const ParetoPoint& p) {
                                return !std::isfinite(p.accuracy) || !std::isfinite(p.latency_ms);
                              }),
               points.end());
  // Sweep by latency ascending, accuracy descending, id ascending: a point is
  // on the front iff its accuracy beats every faster (or equally fast) point.
  std::sort(points.begin(), points.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    if (a.latency_ms != b.latency_ms) return a.latency_ms < b.latency_ms;
    if (a.accuracy != b.accuracy) return a.accuracy > b.accuracy;
    return a.id < b.id;
  });
  std::vector<ParetoPoint> front;
  for (const auto& p : points) {
    if (front.empty() || p.accuracy > front.back().accuracy) front.push_back(p);
  }
  return front;
}

double hypervolume(const std::vector<ParetoPoint>& points, double ref_latency_ms) {
  if (!(ref_latency_ms > 0)) return 0;
  const auto front = pareto_front(points);
  double area = 0;
  for (size_t i = 0; i < front.size(); ++i) {
    const double lo = std::max(front[i].latency_ms, 0.0);
    if (lo >= ref_latency_ms) break;
    const double hi = i + 1 < front.size() ? std::min(front[i + 1].latency_ms, ref_latency_ms)
                                           : ref_latency_ms;
    area += std::max(front[i].accuracy, 0.0) * (hi - lo);
  }
  return area / ref_latency_ms;
}

}  // namespace mnas::search
