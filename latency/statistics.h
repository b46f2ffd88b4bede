// Timing statistics (Torch-free): the median and spread of a set of runs,
// the share of a layer timed after a prologue, and the agreement of repeated
// measurements. Pure functions of their inputs, tested by hand-computed
// values (tests/latency/statistics_test.cpp).
#pragma once

#include <vector>

#include "latency/latency_table.h"

namespace mnas::latency {

// The median, 10th and 90th percentiles of `times` (linear interpolation
// between order statistics, numpy's default) and their count. REQUIRES a
// non-empty `times`.
// Example: {4, 1, 3, 2, 5} -> median 3, p10 1.4, p90 4.6, runs 5.
Timing summarize(std::vector<double> times);

// The timing of a layer measured after a prologue whose median is
// `prologue_ms`: each figure less the prologue's median, floored at 2% of the
// layer's median so that a layer that costs next to nothing (noise could make
// it negative) stays positive. `runs` is kept.
Timing subtract_prologue(const Timing& with_prologue, double prologue_ms);

// How well repeated measurements of one model agree.
struct RepeatStats {
  double median_ms = 0.0;              // the median of the medians (the upper
                                       // one for an even count)
  double max_deviation_percent = 0.0;  // max |m - median| / median * 100
};

// REQUIRES a non-empty `medians`.
// Example: {10, 12, 11} -> median 11, max deviation 9.09...%.
RepeatStats repeat_stats(std::vector<double> medians);

}  // namespace mnas::latency
