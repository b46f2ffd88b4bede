#include "latency/predictor.h"

#include <algorithm>
#include <cmath>

#include "space/block_codec.h"
#include "space/counters.h"

namespace mnas::latency {
namespace {

using Matrix = std::vector<std::vector<double>>;

// Solves the k x k system a * x = b (small k) by Gaussian elimination with
// partial pivoting; false when (numerically) singular.
bool solve(Matrix a, std::vector<double> b, std::vector<double>& x) {
  const size_t k = b.size();
  double norm = 0.0;
  for (const auto& row : a) for (double v : row) norm = std::max(norm, std::abs(v));
  for (size_t c = 0; c < k; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < k; ++r) if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    if (std::abs(a[p][c]) <= 1e-12 * norm) return false;
    std::swap(a[p], a[c]);
    std::swap(b[p], b[c]);
    for (size_t r = c + 1; r < k; ++r) {
      const double f = a[r][c] / a[c][c];
      for (size_t q = c; q < k; ++q) a[r][q] -= f * a[c][q];
      b[r] -= f * b[c];
    }
  }
  x.assign(k, 0.0);
  for (size_t c = k; c-- > 0;) {
    double s = b[c];
    for (size_t q = c + 1; q < k; ++q) s -= a[c][q] * x[q];
    x[c] = s / a[c][c];
  }
  return true;
}

// Least squares of target ~ sum_j x_j * features_j, each row weighted by
// 1/scale^2 (scale = the measured time: relative error).
// With `ridge` > 0, the first `ridged` coefficients are also pulled towards 1
// (ridge * (x_j - 1)^2 added to the objective).
bool relative_lsq(const Matrix& features, const std::vector<double>& target,
                  const std::vector<double>& scale, std::vector<double>& coef, double ridge = 0.0,
                  size_t ridged = 0) {
  if (features.empty()) return false;
  const size_t k = features[0].size();
  Matrix ata(k, std::vector<double>(k, 0.0));
  std::vector<double> aty(k, 0.0);
  for (size_t i = 0; i < target.size(); ++i) {
    const double w = 1.0 / (scale[i] * scale[i]);
    for (size_t r = 0; r < k; ++r) {
      aty[r] += w * features[i][r] * target[i];
      for (size_t c = 0; c < k; ++c) ata[r][c] += w * features[i][r] * features[i][c];
    }
  }
  for (size_t j = 0; j < std::min(ridged, k); ++j) ata[j][j] += ridge, aty[j] += ridge;
  return solve(ata, aty, coef);
}

double total(const std::map<std::string, double>& by_group) {
  double s = 0.0;
  for (const auto& [g, ms] : by_group) s += ms;
  return s;
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

std::string lut_group(const space::LayerSpec& l) {
  return std::to_string(l.in_h) + "px " +
         (l.kind == space::LayerKind::kBlock ? space::to_string(l.op) : space::to_string(l.kind));
}

double Correction::scale_for(const std::string& group) const {
  const auto it = group_scales.find(group);
  return it == group_scales.end() ? scale : it->second;
}

Correction fit_correction(const std::vector<FitPoint>& points, double ridge) {
  for (const auto& p : points) {
    if (!(p.measured_ms > 0.0)) throw ConfigError("fit_correction: measured times should be > 0");
  }
  if (!(ridge >= 0.0)) throw ConfigError("fit_correction: ridge should be >= 0");
  Correction c;
  c.num_points = static_cast<int>(points.size());
  if (points.empty()) return c;
  std::vector<double> y, lut;
  for (const auto& p : points) y.push_back(p.measured_ms), lut.push_back(total(p.lut_ms));

  // Groups whose LUT sum varies across the points get their own scale. A
  // group missing from some point counts as 0 there.
  struct Span {
    double lo, hi;
    size_t seen;
  };
  std::map<std::string, Span> spans;
  for (const auto& p : points) {
    for (const auto& [g, ms] : p.lut_ms) {
      Span& s = spans.try_emplace(g, Span{ms, ms, 0}).first->second;
      s.lo = std::min(s.lo, ms), s.hi = std::max(s.hi, ms), ++s.seen;
    }
  }
  std::vector<std::string> varying;
  for (const auto& [g, s] : spans) {
    const double lo = s.seen == points.size() ? s.lo : 0.0;
    if (s.hi - lo > 1e-9 * std::max(1.0, s.hi)) varying.push_back(g);
  }
  const size_t k = varying.size() + 3;
  if (!varying.empty() && points.size() >= 2 * k) {
    Matrix f;
    std::vector<double> target;
    for (size_t i = 0; i < points.size(); ++i) {
      const auto& p = points[i];
      std::vector<double> row;
      double fixed = lut[i];
      for (const auto& g : varying) {
        const auto it = p.lut_ms.find(g);
        const double ms = it == p.lut_ms.end() ? 0.0 : it->second;
        row.push_back(ms);
        fixed -= ms;
      }
      row.push_back(static_cast<double>(p.num_layers));
      row.push_back(p.activations_m);
      row.push_back(1.0);
      f.push_back(std::move(row));
      target.push_back(y[i] - fixed);  // constant groups count at scale 1
    }
    std::vector<double> x;
    if (relative_lsq(f, target, y, x, ridge, varying.size()) &&
        std::all_of(x.begin(), x.begin() + varying.size(), [](double v) { return v > 0.0; })) {
      for (size_t j = 0; j < varying.size(); ++j) c.group_scales[varying[j]] = x[j];
      c.per_layer_ms = x[k - 3];
      c.per_mact_ms = x[k - 2];
      c.offset_ms = x[k - 1];
      return c;
    }
  }
  if (points.size() >= 8) {
    Matrix f;
    for (size_t i = 0; i < points.size(); ++i) {
      f.push_back({lut[i], static_cast<double>(points[i].num_layers), points[i].activations_m, 1.0});
    }
    std::vector<double> x;
    if (relative_lsq(f, y, y, x) && x[0] > 0.0) {
      c.scale = x[0];
      c.per_layer_ms = x[1];
      c.per_mact_ms = x[2];
      c.offset_ms = x[3];
      return c;
    }
  }
  Matrix f;
  for (double v : lut) f.push_back({v});
  std::vector<double> x;
  if (relative_lsq(f, y, y, x)) c.scale = x[0];
  return c;
}

Predictor::Predictor(LatencyTable table, space::GlobalParams params, Correction correction)
    : table_(std::move(table)), params_(std::move(params)), correction_(correction) {}

std::map<std::string, double> Predictor::lut_by_group_ms(
    const std::vector<space::LayerSpec>& layers) const {
  std::map<std::string, double> by;
  for (const auto& l : layers) {
    const std::string key = space::layer_key(l);
    const auto it = table_.layers.find(key);
    if (it == table_.layers.end()) throw MissingLayerError(key, table_.id);
    by[lut_group(l)] += it->second.median_ms;
  }
  return by;
}

double Predictor::lut_sum_ms(const std::vector<space::LayerSpec>& layers) const {
  return total(lut_by_group_ms(layers));
}

double Predictor::predict_ms(const std::vector<space::LayerSpec>& layers) const {
  double ms = 0.0;
  for (const auto& [g, lut] : lut_by_group_ms(layers)) ms += correction_.scale_for(g) * lut;
  return ms + correction_.per_layer_ms * static_cast<double>(layers.size()) +
         correction_.per_mact_ms * activations_m(layers) + correction_.offset_ms;
}

double Predictor::predict_ms(const space::ArchSpec& arch) const {
  return predict_ms(space::expand_layers(arch, params_));
}

Predictor make_predictor(LatencyTable table, const space::GlobalParams& params) {
  Predictor plain(table, params, Correction{});
  std::vector<FitPoint> points;
  for (const auto& c : table.calibration) {
    const auto layers = expand_calibration(c.arch, params);
    points.push_back({plain.lut_by_group_ms(layers), static_cast<int>(layers.size()),
                      activations_m(layers), c.timing.median_ms});
  }
  const Correction corr = fit_correction(points);
  return Predictor(std::move(table), params, corr);
}

FlopsPredictor FlopsPredictor::fit(const LatencyTable& table, const space::GlobalParams& params) {
  Matrix f;
  std::vector<double> y;
  for (const auto& c : table.calibration) {
    const auto cost = space::model_cost(expand_calibration(c.arch, params));
    f.push_back({static_cast<double>(cost.total.macs) * 1e-9, 1.0});
    y.push_back(c.timing.median_ms);
  }
  FlopsPredictor p;
  std::vector<double> x;
  if (y.size() >= 2 && relative_lsq(f, y, y, x)) {
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
