#include <gtest/gtest.h>

#include <cmath>

#include "search/pareto.h"

namespace mnas::search {
namespace {

std::vector<int64_t> ids(const std::vector<ParetoPoint>& v) {
  std::vector<int64_t> out;
  for (const auto& p : v) out.push_back(p.id);
  return out;
}

TEST(ParetoTest, KeepsOnlyNonDominatedPoints) {
  // Hand-made: 3 is beaten by 2 (more accurate and faster), 6 by 5 (same
  // latency, more accurate), 4 duplicates 2 (the smaller id stays).
  const std::vector<ParetoPoint> pts = {{1, 0.70, 50},  {2, 0.80, 60},  {3, 0.75, 70},
                                        {4, 0.80, 60},  {5, 0.90, 100}, {6, 0.85, 100},
                                        {7, 0.60, 40},  {8, std::nan(""), 10}};
  EXPECT_EQ(ids(pareto_front(pts)), (std::vector<int64_t>{7, 1, 2, 5}));
}

TEST(ParetoTest, EdgeCases) {
  EXPECT_TRUE(pareto_front({}).empty());
  EXPECT_EQ(ids(pareto_front({{3, 0.5, 10}})), (std::vector<int64_t>{3}));
  // Faster but equally accurate dominates.
  EXPECT_EQ(ids(pareto_front({{1, 0.5, 20}, {2, 0.5, 10}})), (std::vector<int64_t>{2}));
}

TEST(ParetoTest, HypervolumeIsTheMeanBestAccuracyOverLatencyBudgets) {
  // Budgets [10, 30) reach 0.5, [30, 50) reach 0.8: (0.5 * 20 + 0.8 * 20) / 50.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 0.5, 10}, {2, 0.8, 30}}, 50), 0.52);
  // A dominated point adds nothing; one past the reference adds nothing.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 0.5, 10}, {2, 0.8, 30}, {3, 0.4, 20}, {4, 0.99, 60}}, 50), 0.52);
  // A faster point that beats the slowest extends the front: [5, 10) at 0.6,
  // [10, 30) still 0.6 (0.5 @ 10 is dominated), [30, 50) 0.8.
  EXPECT_DOUBLE_EQ(hypervolume({{1, 0.5, 10}, {2, 0.8, 30}, {5, 0.6, 5}}, 50), (0.6 * 25 + 0.8 * 20) / 50);
  EXPECT_DOUBLE_EQ(hypervolume({}, 50), 0.0);
  EXPECT_DOUBLE_EQ(hypervolume({{1, 0.5, 10}}, 0), 0.0);
}

}  // namespace
}  // namespace mnas::search
