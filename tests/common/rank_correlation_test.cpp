// Golden values computed by hand from the definitions (derivations inline).
#include "common/rank_correlation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace mnas {
namespace {

TEST(RankCorrelation, KendallCountsConcordantAndDiscordantPairs) {
  // Pairs of {1,2,3,4,5} vs {3,4,1,2,5}: concordant (1,2) (1,5) (2,5) (3,4)
  // (3,5) (4,5), discordant (1,3) (1,4) (2,3) (2,4): (6 - 4) / 10.
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}), 0.2);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3}, {10, 20, 30}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3}, {3, 2, 1}), -1.0);
}

TEST(RankCorrelation, KendallTauBCorrectsForTies) {
  // x {1,2,2,3}, y {1,3,2,4}: 6 pairs, 1 tied in x, none in y, 5 concordant:
  // 5 / sqrt(5 * 6).
  EXPECT_NEAR(kendall_tau({1, 2, 2, 3}, {1, 3, 2, 4}), 5.0 / std::sqrt(30.0), 1e-12);
}

TEST(RankCorrelation, SpearmanUsesAverageRanksForTies) {
  // Without ties: 1 - 6 * sum(d^2) / (n (n^2 - 1)), d = {-2,-2,2,2,0}: 1 - 96/120.
  EXPECT_NEAR(spearman_rho({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}), 0.2, 1e-12);
  // Ranks {1,2.5,2.5,4} and {1,3,2,4}, mean 2.5: cov 4.5, var 4.5 and 5.
  EXPECT_NEAR(spearman_rho({1, 2, 2, 3}, {1, 3, 2, 4}), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
  // Monotone but not linear is still perfect agreement.
  EXPECT_NEAR(spearman_rho({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-12);
}

TEST(RankCorrelation, AverageRanks) {
  EXPECT_EQ(average_ranks({10, 30, 20, 20}), (std::vector<double>{1, 4, 2.5, 2.5}));
  EXPECT_EQ(average_ranks({}), std::vector<double>{});
}

TEST(RankCorrelation, DiscordantFractionIgnoresTiedPairs) {
  EXPECT_DOUBLE_EQ(discordant_fraction({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}), 0.4);
  // The pair tied in x is left out: 0 of 5 untied pairs swapped.
  EXPECT_DOUBLE_EQ(discordant_fraction({1, 2, 2, 3}, {1, 3, 2, 4}), 0.0);
}

TEST(RankCorrelation, UndefinedCasesAreNaNAndMismatchesThrow) {
  EXPECT_TRUE(std::isnan(kendall_tau({1}, {2})));
  EXPECT_TRUE(std::isnan(kendall_tau({1, 1, 1}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman_rho({1, 2, 3}, {5, 5, 5})));
  EXPECT_TRUE(std::isnan(discordant_fraction({1, 1}, {1, 2})));
  EXPECT_THROW(kendall_tau({1, 2}, {1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(spearman_rho({1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW(discordant_fraction({1}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace mnas
