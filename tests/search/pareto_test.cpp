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

}  // namespace
}  // namespace mnas::search
