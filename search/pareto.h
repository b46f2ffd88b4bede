// Pareto front of (accuracy, latency) points: the trials no other trial beats
// on both objectives (higher accuracy AND lower latency). The paper rejects the
// hard "max ACC s.t. LAT <= T" objective because it yields a single solution;
// the soft reward and this front expose the trade-off. No LibTorch.
#pragma once

#include <cstdint>
#include <vector>

namespace mnas::search {

struct ParetoPoint {
  int64_t id = 0;         // caller's key (trial index)
  double accuracy = 0;    // maximised
  double latency_ms = 0;  // minimised
};

// The non-dominated points, sorted by latency (ascending, so accuracy is
// ascending too). A point is dominated when another has accuracy >= and
// latency <= with at least one strict; of exact duplicates the one with the
// smallest id is kept. Points with a non-finite value are ignored.
std::vector<ParetoPoint> pareto_front(std::vector<ParetoPoint> points);

}  // namespace mnas::search
