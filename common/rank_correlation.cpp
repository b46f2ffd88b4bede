#include "common/rank_correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace mnas {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_lengths(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(std::string(what) + ": the two lists differ in length (" +
                                std::to_string(x.size()) + " and " + std::to_string(y.size()) +
                                "); expected one score per item in each");
  }
}

int sign(double v) { return (v > 0) - (v < 0); }

// Counts over all pairs i < j.
struct PairCounts {
  long long concordant = 0, discordant = 0, tied_x = 0, tied_y = 0, pairs = 0;
};

PairCounts count_pairs(const std::vector<double>& x, const std::vector<double>& y) {
  PairCounts c;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      ++c.pairs;
      const int sx = sign(x[j] - x[i]), sy = sign(y[j] - y[i]);
      if (sx == 0) ++c.tied_x;
      if (sy == 0) ++c.tied_y;
      if (sx == 0 || sy == 0) continue;
      (sx == sy ? c.concordant : c.discordant) += 1;
    }
  }
  return c;
}

}  // namespace

double kendall_tau(const std::vector<double>& x, const std::vector<double>& y) {
  check_lengths(x, y, "kendall_tau");
  const PairCounts c = count_pairs(x, y);
  const double denom = std::sqrt(static_cast<double>(c.pairs - c.tied_x)) *
                       std::sqrt(static_cast<double>(c.pairs - c.tied_y));
  if (denom == 0) return kNaN;
  return static_cast<double>(c.concordant - c.discordant) / denom;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  check_lengths(x, y, "spearman_rho");
  if (x.size() < 2) return kNaN;
  const auto rx = average_ranks(x), ry = average_ranks(y);
  const double mean = (static_cast<double>(x.size()) + 1.0) / 2.0;  // of ranks 1..n
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    const double dx = rx[i] - mean, dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return sxy / std::sqrt(sxx * syy);
}

double discordant_fraction(const std::vector<double>& x, const std::vector<double>& y) {
  check_lengths(x, y, "discordant_fraction");
  const PairCounts c = count_pairs(x, y);
  const long long untied = c.concordant + c.discordant;
  if (untied == 0) return kNaN;
  return static_cast<double>(c.discordant) / static_cast<double>(untied);
}

}  // namespace mnas
