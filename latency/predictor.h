// Latency predictors, Torch-free (cheap enough to run inside the search loop:
// a prediction is a few hash lookups, microseconds).
//
// Predictor: the lookup-table sum (ProxylessNAS / Once-for-All style) with a
// correction fitted on end-to-end measurements of calibration architectures:
//   predicted = scale * sum_l LUT[layer_key(l)] + per_layer_ms * n_layers
//             + per_mact_ms * (activations, millions) + offset_ms
// where activations = sum over layers of input + output elements. The
// per-layer and per-activation terms absorb what single-layer timing gets
// wrong in a whole network: per-call overhead, and the layout conversions
// (to and from the engine's blocked format) that a lone layer pays at its
// input and output but a network pays once. On this host the activation term
// took the held-out share within 10% from 83% to 89% (docs/latency.md). The
// fit minimises the squared RELATIVE error, because accuracy is judged in
// percent.
//
// FlopsPredictor: the baseline, linear in multiply-adds, fitted the same way.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "latency/latency_table.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency {

// A layer's signature is not in the table. key() is the signature.
class MissingLayerError : public Error {
 public:
  MissingLayerError(const std::string& key, const TableId& id);
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct Correction {
  double scale = 1.0;
  double per_layer_ms = 0.0;
  double per_mact_ms = 0.0;  // per million activation elements
  double offset_ms = 0.0;
  int num_points = 0;  // calibration architectures it was fitted on (0: identity)
};

// Weighted least squares of measured ~ scale*lut + per_layer*n +
// per_mact*activations_m + offset with weights 1/measured^2. With fewer than
// 8 points (4 coefficients need a margin), a singular system or a
// non-positive scale, falls back to the scale alone (measured ~ scale*lut);
// with no points returns the identity. REQUIRES: equal lengths, measured > 0.
Correction fit_correction(const std::vector<double>& lut_sum_ms,
                          const std::vector<int>& num_layers,
                          const std::vector<double>& activations_m,
                          const std::vector<double>& measured_ms);

// Sum over `layers` of input + output elements, in millions.
double activations_m(const std::vector<space::LayerSpec>& layers);

class Predictor {
 public:
  // `params`: the GlobalParams under which predict_ms(ArchSpec) expands.
  Predictor(LatencyTable table, space::GlobalParams params, Correction correction);

  // Plain LUT sum over `layers`. Throws MissingLayerError for the first layer
  // whose signature the table lacks.
  double lut_sum_ms(const std::vector<space::LayerSpec>& layers) const;
  // Corrected prediction. Throws MissingLayerError like lut_sum_ms.
  double predict_ms(const std::vector<space::LayerSpec>& layers) const;
  // Expands `arch` under params() first.
  double predict_ms(const space::ArchSpec& arch) const;

  const LatencyTable& table() const { return table_; }
  const space::GlobalParams& params() const { return params_; }
  const Correction& correction() const { return correction_; }

 private:
  LatencyTable table_;
  space::GlobalParams params_;
  Correction correction_;
};

// Fits the correction on table.calibration (each architecture expanded under
// `params`). Throws MissingLayerError when a calibration architecture has a
// layer the table lacks.
Predictor make_predictor(LatencyTable table, const space::GlobalParams& params);

class FlopsPredictor {
 public:
  // Fits ms ~ ms_per_gmac * GMACs + offset on the calibration points of
  // `table` (relative least squares, like fit_correction).
  static FlopsPredictor fit(const LatencyTable& table, const space::GlobalParams& params);
  double predict_ms(const std::vector<space::LayerSpec>& layers) const;
  double ms_per_gmac() const { return ms_per_gmac_; }
  double offset_ms() const { return offset_ms_; }

 private:
  double ms_per_gmac_ = 0.0;
  double offset_ms_ = 0.0;
};

// Accuracy of predictions against measurements.
struct Accuracy {
  int n = 0;
  double rmse_ms = 0.0;
  double mape_percent = 0.0;      // mean |pred - meas| / meas * 100
  double within10_percent = 0.0;  // share of |pred - meas| / meas <= 10 %
  double within5_percent = 0.0;
};

// REQUIRES: equal lengths, measured > 0.
Accuracy accuracy(const std::vector<double>& predicted_ms, const std::vector<double>& measured_ms);

}  // namespace mnas::latency
