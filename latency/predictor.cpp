#include "latency/predictor.h"

#include <array>
#include <cmath>

#include "space/block_codec.h"
#include "space/counters.h"

namespace mnas::latency {
namespace {

// Solves the k x k system a * x = b (small k) by Gaussian elimination with
// partial pivoting; false when (numerically) singular.
template <size_t K>
bool solve(std::array<std::array<double, K>, K> a, std::array<double, K> b,
           std::array<double, K>& x) {
  double norm = 0.0;
  for (const auto& row : a) for (double v : row) norm = std::max(norm, std::abs(v));
  for (size_t c = 0; c < K; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < K; ++r) if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    if (std::abs(a[p][c]) <= 1e-12 * norm) return false;
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (size_t r = c + 1; r < K; ++r) {
      const double f = a[r][c] / a[c][c];
      for (size_t k = c; k < K; ++k) a[r][k] -= f * a[c][k];
      b[r] -= f * b[c];
    }
  }
  for (size_t c = K; c-- > 0;) {
    double s = b[c];
    for (size_t k = c + 1; k < K; ++k) s -= a[c][k] * x[k];
    x[c] = s / a[c][c];
  }
  return true;
}

// Weighted least squares of y ~ sum_j x_j * features_j with weights 1/y^2.
template <size_t K>
bool relative_lsq(const std::vector<std::array<double, K>>& features, const std::vector<double>& y,
                  std::array<double, K>& coef) {
  std::array<std::array<double, K>, K> ata{};
  std::array<double, K> aty{};
  for (size_t i = 0; i < y.size(); ++i) {
    const double w = 1.0 / (y[i] * y[i]);
    for (size_t r = 0; r < K; ++r) {
      aty[r] += w * features[i][r] * y[i];
      for (size_t c = 0; c < K; ++c) ata[r][c] += w * features[i][r] * features[i][c];
    }
  }
  return solve(ata, aty, coef);
}

std::vector<space::LayerSpec> expand_calibration(const std::string& arch,
                                                 const space::GlobalParams& params) {
  return space::expand_layers(space::decode_arch(space::split_block_strings(arch)), params);
}

}  // namespace

MissingLayerError::MissingLayerError(const std::string& key, const TableId& id)
    : Error("layer '" + key + "' is not in the latency table " + to_string(id) +
            "; profile it with: mnas_latency profile (--space FILE | --archs FILE)"),
      key_(key) {}

double activations_m(const std::vector<space::LayerSpec>& layers) {
  double sum = 0.0;
  for (const auto& l : layers) {
    sum += static_cast<double>(l.in_h) * l.in_w * l.in_channels +
           static_cast<double>(l.out_h) * l.out_w * l.out_channels;
  }
  return sum / 1e6;
}

Correction fit_correction(const std::vector<double>& lut, const std::vector<int>& n,
                          const std::vector<double>& act, const std::vector<double>& y) {
  if (lut.size() != y.size() || n.size() != y.size() || act.size() != y.size()) {
    throw ConfigError("fit_correction: inputs of different lengths");
  }
  for (double v : y) {
    if (!(v > 0.0)) throw ConfigError("fit_correction: measured times should be > 0");
  }
  Correction c;
  c.num_points = static_cast<int>(y.size());
  if (y.empty()) return c;
  if (y.size() >= 8) {
    std::vector<std::array<double, 4>> f;
    for (size_t i = 0; i < y.size(); ++i) {
      f.push_back({lut[i], static_cast<double>(n[i]), act[i], 1.0});
    }
    std::array<double, 4> x{};
    if (relative_lsq(f, y, x) && x[0] > 0.0) {
      c.scale = x[0];
      c.per_layer_ms = x[1];
      c.per_mact_ms = x[2];
      c.offset_ms = x[3];
      return c;
    }
  }
  std::vector<std::array<double, 1>> f;
  for (double v : lut) f.push_back({v});
  std::array<double, 1> x{};
  if (relative_lsq(f, y, x)) c.scale = x[0];
  return c;
}

Predictor::Predictor(LatencyTable table, space::GlobalParams params, Correction correction)
    : table_(std::move(table)), params_(std::move(params)), correction_(correction) {}

double Predictor::lut_sum_ms(const std::vector<space::LayerSpec>& layers) const {
  double sum = 0.0;
  for (const auto& l : layers) {
    const std::string key = space::layer_key(l);
    const auto it = table_.layers.find(key);
    if (it == table_.layers.end()) throw MissingLayerError(key, table_.id);
    sum += it->second.median_ms;
  }
  return sum;
}

double Predictor::predict_ms(const std::vector<space::LayerSpec>& layers) const {
  return correction_.scale * lut_sum_ms(layers) +
         correction_.per_layer_ms * static_cast<double>(layers.size()) +
         correction_.per_mact_ms * activations_m(layers) + correction_.offset_ms;
}

double Predictor::predict_ms(const space::ArchSpec& arch) const {
  return predict_ms(space::expand_layers(arch, params_));
}

Predictor make_predictor(LatencyTable table, const space::GlobalParams& params) {
  Predictor plain(table, params, Correction{});
  std::vector<double> lut, act, y;
  std::vector<int> n;
  for (const auto& c : table.calibration) {
    const auto layers = expand_calibration(c.arch, params);
    lut.push_back(plain.lut_sum_ms(layers));
    n.push_back(static_cast<int>(layers.size()));
    act.push_back(activations_m(layers));
    y.push_back(c.timing.median_ms);
  }
  const Correction corr = fit_correction(lut, n, act, y);
  return Predictor(std::move(table), params, corr);
}

FlopsPredictor FlopsPredictor::fit(const LatencyTable& table, const space::GlobalParams& params) {
  std::vector<std::array<double, 2>> f;
  std::vector<double> y;
  for (const auto& c : table.calibration) {
    const auto cost = space::model_cost(expand_calibration(c.arch, params));
    f.push_back({static_cast<double>(cost.total.macs) * 1e-9, 1.0});
    y.push_back(c.timing.median_ms);
  }
  FlopsPredictor p;
  std::array<double, 2> x{};
  if (y.size() >= 2 && relative_lsq(f, y, x)) {
    p.ms_per_gmac_ = x[0];
    p.offset_ms_ = x[1];
  }
  return p;
}

double FlopsPredictor::predict_ms(const std::vector<space::LayerSpec>& layers) const {
  return ms_per_gmac_ * static_cast<double>(space::model_cost(layers).total.macs) * 1e-9 +
         offset_ms_;
}

Accuracy accuracy(const std::vector<double>& pred, const std::vector<double>& meas) {
  if (pred.size() != meas.size()) throw ConfigError("accuracy: inputs of different lengths");
  Accuracy a;
  a.n = static_cast<int>(meas.size());
  if (a.n == 0) return a;
  double se = 0.0, ape = 0.0;
  int w10 = 0, w5 = 0;
  for (size_t i = 0; i < meas.size(); ++i) {
    const double err = pred[i] - meas[i];
    const double rel = std::abs(err) / meas[i];
    se += err * err;
    ape += rel;
    // A hair of tolerance so that exactly 10 % counts as within 10 %.
    w10 += rel <= 0.10 + 1e-12;
    w5 += rel <= 0.05 + 1e-12;
  }
  a.rmse_ms = std::sqrt(se / a.n);
  a.mape_percent = 100.0 * ape / a.n;
  a.within10_percent = 100.0 * w10 / a.n;
  a.within5_percent = 100.0 * w5 / a.n;
  return a;
}

}  // namespace mnas::latency
