// Rank agreement between two scorings of the same items (Torch-free): how
// well a cheap proxy orders architectures the way longer training does, how
// often two seeds of one proxy disagree, how two latency engines rank the same
// models. Pure functions, tested by hand-computed values
// (tests/common/rank_correlation_test.cpp).
#pragma once

#include <vector>

namespace mnas {

// Kendall's tau-b of the paired scores (x[i], y[i]): (concordant - discordant)
// / sqrt((pairs - ties in x) * (pairs - ties in y)), so ties in either list
// are accounted for (as scipy.stats.kendalltau's default). NaN when either
// list is constant or has fewer than 2 items. Throws std::invalid_argument
// when the lists differ in length.
// Example: x {1,2,3,4,5}, y {3,4,1,2,5}: 6 concordant, 4 discordant -> 0.2.
double kendall_tau(const std::vector<double>& x, const std::vector<double>& y);

// Spearman's rho: the Pearson correlation of the ranks, tied items sharing
// their average rank. NaN when either list is constant or has fewer than 2
// items. Throws std::invalid_argument when the lists differ in length.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

// The fraction of pairs that the two lists order differently, among the pairs
// that neither list ties: discordant / (concordant + discordant). For two
// seeds of one proxy, how often re-running the child would swap a pair. NaN
// when no pair is untied. Throws std::invalid_argument on a length mismatch.
double discordant_fraction(const std::vector<double>& x, const std::vector<double>& y);

// The ranks of `x` (1 = smallest), tied values sharing their average rank.
// Example: {10, 30, 20, 20} -> {1, 4, 2.5, 2.5}.
std::vector<double> average_ranks(const std::vector<double>& x);

}  // namespace mnas
