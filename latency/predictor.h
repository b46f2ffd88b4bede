// Latency predictors, Torch-free (cheap enough to run inside the search loop:
// a prediction is a few hash lookups, microseconds).
//
// Predictor: the lookup-table sum (ProxylessNAS / Once-for-All style) with a
// correction fitted on end-to-end measurements of calibration architectures:
//   predicted = sum_g scale_g * (LUT sum of the layers of group g)
//             + per_layer_ms * n_layers + per_mact_ms * (activations, millions)
//             + offset_ms
// where a layer's group is its input resolution and op (lut_group(): "56px
// mbconv", "7px head", ...) and activations = sum over layers of input +
// output elements. The group scales absorb that a lone layer's time and its
// share of a whole network's time differ by feature-map size and op
// (presumably through how much of the data stays in cache). Held-out share
// within 10 % on this host, 200 architectures: 91 % with one scale per
// resolution, 96.5 % per resolution and op (docs/latency.md). A ridge term
// pulls each scale towards 1, so a group that few calibration
// architectures use keeps its table time instead of a wild fit.
// The per-layer and per-activation terms absorb per-call overhead and the
// layout conversions that a lone layer pays at its input and output but a
// network pays once. The fit minimises the squared RELATIVE error, because
// accuracy is judged in percent.
//
// FlopsPredictor: the baseline, linear in multiply-adds, fitted the same way.
#pragma once

#include <map>
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

// The correction group of a layer: input height and op, e.g. "112px mbconv",
// "7px head", "224px stem".
std::string lut_group(const space::LayerSpec& layer);

struct Correction {
  // LUT multiplier of the groups without their own scale (groups whose LUT
  // sum the calibration architectures do not vary, such as the stem's, which
  // the offset then absorbs).
  double scale = 1.0;
  std::map<std::string, double> group_scales;  // lut_group -> LUT multiplier
  double per_layer_ms = 0.0;
  double per_mact_ms = 0.0;  // per million activation elements
  double offset_ms = 0.0;
  int num_points = 0;  // calibration architectures it was fitted on (0: identity)
  double scale_for(const std::string& group) const;
};

// One calibration architecture, as fit_correction sees it.
struct FitPoint {
  std::map<std::string, double> lut_ms;  // LUT sum of its layers by group
  int num_layers = 0;
  double activations_m = 0.0;
  double measured_ms = 0.0;
};

// The ridge weight that fit_correction pulls group scales towards 1 with (in
// units of the relative-error normal equations, where a group that carries
// a share s of every architecture's time weighs about points * s^2).
constexpr double kCorrectionRidge = 0.1;

// Weighted least squares (weights 1/measured^2) of
//   measured ~ sum_g scale_g * lut_g + per_layer * n + per_mact * act + offset
// plus ridge * sum_g (scale_g - 1)^2. Groups whose LUT sum is the same for
// every point get no scale of their own (their LUT counts once, `scale` = 1;
// the offset absorbs the rest). Falls back, in order, when there are fewer
// than 2 points per coefficient, the system is singular or a scale comes out
// <= 0: to one global scale (measured ~ scale*lut + per_layer*n +
// per_mact*act + offset, at least 8 points, no ridge), then to the scale
// alone (measured ~ scale*lut); with no points returns the identity. Throws
// ConfigError unless measured > 0 and ridge >= 0.
Correction fit_correction(const std::vector<FitPoint>& points, double ridge = kCorrectionRidge);

// Sum over `layers` of input + output elements, in millions.
double activations_m(const std::vector<space::LayerSpec>& layers);

class Predictor {
 public:
  // `params`: the GlobalParams under which predict_ms(ArchSpec) expands.
  Predictor(LatencyTable table, space::GlobalParams params, Correction correction);

  // Plain LUT sum over `layers`. Throws MissingLayerError for the first layer
  // whose signature the table lacks.
  double lut_sum_ms(const std::vector<space::LayerSpec>& layers) const;
  // The same split by lut_group (FitPoint::lut_ms).
  std::map<std::string, double> lut_by_group_ms(const std::vector<space::LayerSpec>& layers) const;
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
