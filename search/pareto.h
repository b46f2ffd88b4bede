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

// The hypervolume of `points` against the reference point (accuracy 0,
// latency `ref_latency_ms`), divided by `ref_latency_ms`: the area of the
// (latency, accuracy) region that some point dominates, within latency
// [0, ref] and accuracy [0, max], per millisecond of the reference. It is the
// mean over latency budgets L in [0, ref] of the best accuracy reachable
// within L (0 where none is), so it is in [0, 1], grows with every point that
// extends the front, and compares searches of one task with one reference.
// Points at or beyond the reference latency, or with a non-finite value,
// add nothing. REQUIRES ref_latency_ms > 0 (else 0).
// Example: {acc 0.5 @ 10 ms, acc 0.8 @ 30 ms}, ref 50 ms:
// (0.5 * 20 + 0.8 * 20) / 50 = 0.52.
double hypervolume(const std::vector<ParetoPoint>& points, double ref_latency_ms);

}  // namespace mnas::search
