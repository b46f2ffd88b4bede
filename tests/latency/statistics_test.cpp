// Timing statistics against hand-computed values.
#include "latency/statistics.h"

#include <gtest/gtest.h>

namespace mnas::latency {
namespace {

TEST(Summarize, InterpolatesBetweenOrderStatistics) {
  // Sorted 1..5: positions 0.4, 2 and 3.6 of 0..4.
  const Timing t = summarize({4, 1, 3, 2, 5});
  EXPECT_DOUBLE_EQ(t.median_ms, 3.0);
  EXPECT_DOUBLE_EQ(t.p10_ms, 1.4);  // 1 + 0.4 * (2 - 1)
  EXPECT_DOUBLE_EQ(t.p90_ms, 4.6);  // 4 + 0.6 * (5 - 4)
  EXPECT_EQ(t.runs, 5);
}

TEST(Summarize, EvenCountsAndSingleRuns) {
  // {10, 20, 30, 40}: median at position 1.5 -> 25; p10 at 0.3 -> 13; p90 at 2.7 -> 37.
  const Timing t = summarize({40, 10, 30, 20});
  EXPECT_DOUBLE_EQ(t.median_ms, 25.0);
  EXPECT_DOUBLE_EQ(t.p10_ms, 13.0);
  EXPECT_DOUBLE_EQ(t.p90_ms, 37.0);
  EXPECT_EQ(t.runs, 4);
  const Timing one = summarize({7.5});
  EXPECT_DOUBLE_EQ(one.median_ms, 7.5);
  EXPECT_DOUBLE_EQ(one.p10_ms, 7.5);
  EXPECT_DOUBLE_EQ(one.p90_ms, 7.5);
  EXPECT_EQ(one.runs, 1);
}

TEST(SubtractPrologue, LeavesTheLayersShareFlooredAtTwoPercent) {
  const Timing t = subtract_prologue({1.0, 0.8, 1.5, 9}, 0.3);
  EXPECT_DOUBLE_EQ(t.median_ms, 0.7);
  EXPECT_DOUBLE_EQ(t.p10_ms, 0.5);
  EXPECT_DOUBLE_EQ(t.p90_ms, 1.2);
  EXPECT_EQ(t.runs, 9);
  // A prologue slower than the layer's p10 and median: floor 0.02 x 1.0.
  const Timing f = subtract_prologue({1.0, 0.8, 1.5, 9}, 1.2);
  EXPECT_DOUBLE_EQ(f.median_ms, 0.02);
  EXPECT_DOUBLE_EQ(f.p10_ms, 0.02);
  EXPECT_DOUBLE_EQ(f.p90_ms, 1.5 - 1.2);
}

TEST(RepeatStats, MedianOfMediansAndMaxDeviation) {
  const RepeatStats s = repeat_stats({10, 12, 11});
  EXPECT_DOUBLE_EQ(s.median_ms, 11.0);
  EXPECT_DOUBLE_EQ(s.max_deviation_percent, 1.0 / 11.0 * 100.0);  // 10 and 12 both 1 off
  // Even count: the upper median (sorted {2, 4, 5, 9} -> 5); 9 is 80% off.
  const RepeatStats e = repeat_stats({9, 2, 5, 4});
  EXPECT_DOUBLE_EQ(e.median_ms, 5.0);
  EXPECT_DOUBLE_EQ(e.max_deviation_percent, 80.0);
  const RepeatStats one = repeat_stats({3.25});
  EXPECT_DOUBLE_EQ(one.median_ms, 3.25);
  EXPECT_DOUBLE_EQ(one.max_deviation_percent, 0.0);
}

}  // namespace
}  // namespace mnas::latency
