// Device profiles: a per-operation latency model of a device that nobody here
// can measure (a phone), fitted on figures others published, and shipped as
// a data file (latency/profiles/<name>.json). Torch-free and cheap: a
// prediction is one pass over the layer list.
//
// The model is linear in a few physical quantities ("terms"), each summed over
// the layers, each with one non-negative coefficient:
//
//   ms = conv  * (regular-conv multiply-adds, millions: expansion, projection,
//                 pointwise, k x k conv, head)
//      + dw    * (depthwise multiply-adds, millions, any kernel size)
//      + stem  * (stem conv multiply-adds, millions: a 3-channel input makes a
//                 GEMM with K = 27, far below the 1x1 convs' efficiency)
//      + act   * (activation traffic, MB of float32: input + output tensors of
//                 every operator, plus the im2col buffer of k x k convs)
//      + weight* (conv weights read, MB of float32: a GEMM packs them)
//      + fc    * (classifier weights, MB of float32: a matrix-vector product
//                 streams them once, with no packing)
//      + se    * (MB of the tensor squeeze-excite pools and gates, on top of
//                 the traffic term: TFLite 2018 ran MEAN slowly)
//      + op    * (interpreter operators: conv, depthwise, add, SE's five, ...)
//      + inference * (1 per whole network, i.e. per stem: invoke and input)
//
// The kernel size enters through the depthwise multiply-adds (k^2 per output)
// and the im2col traffic, so kernel 7 is covered although no published table
// measures it. See docs/pixel1-profile.md for the pixel1 fit and its limits.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/layer_spec.h"

namespace mnas::latency {

enum class CostTerm {
  kConvMac,
  kDepthwiseMac,
  kStemMac,
  kActivationTraffic,
  kWeightTraffic,
  kClassifierWeights,
  kSeTraffic,
  kOperator,
  kInference,
};
inline constexpr int kNumCostTerms = 9;

struct CostTermInfo {
  CostTerm term;
  const char* key;      // coefficient key in profile files, e.g. "conv_ms_per_mmac"
  const char* feature;  // what the coefficient multiplies, with its unit
};

// The terms, in CostTerm order.
const std::array<CostTermInfo, kNumCostTerms>& cost_terms();

// The quantities of a layer list that the coefficients multiply, indexed by
// CostTerm. Linear: the features of a list are the sum over its layers.
using CostFeatures = std::array<double, kNumCostTerms>;

// Features of one layer. Every layer kind and op of the search space is
// covered (MBConv of any kernel, expansion and SE width, SepConv, Conv,
// identity and pool residuals, stem, head, classifier). Throws ConfigError
// when the layer has non-positive sizes.
CostFeatures layer_features(const space::LayerSpec& layer);

// Sum of layer_features over `layers`.
CostFeatures features(const std::vector<space::LayerSpec>& layers);

// Where the coefficients came from: the points of the fit, with the
// published and predicted figures, and the summary figures.
struct ProfilePoint {
  std::string name;      // e.g. "mnasnet-a1 224px x1.0"
  std::string source;    // key of the data file's "sources"
  std::string role;      // "fit" (in the fit, validated leave-one-out) or "check" (never fitted)
  double published_ms = 0.0;
  double predicted_ms = 0.0;  // by the shipped coefficients
  // Predicted by a fit without this point ("fit" points); for "check" points
  // equal to predicted_ms.
  double held_out_ms = 0.0;
};

struct FitSummary {
  std::string method;  // one line: solver, weighting, validation scheme
  std::string data;    // the measurement file, relative to the repository
  int layer_points = 0;    // per-layer (in-context) points in the fit
  int network_points = 0;  // end-to-end points in the fit
  // Mean absolute % error of the full fit over the layer points.
  double layer_fit_mape_percent = 0.0;
  // Over the "fit" network points: mean absolute % error of the full fit, of
  // leave-one-out, and the share of leave-one-out predictions within +-10 %.
  double fit_mape_percent = 0.0;
  double loo_mape_percent = 0.0;
  double loo_within10 = 0.0;  // fraction in [0, 1]
  // The same over the "check" points (0 points: all zero).
  int check_points = 0;
  double check_mape_percent = 0.0;
  double check_within10 = 0.0;
  std::vector<ProfilePoint> points;  // network points, in data-file order
  // The layer points with the full fit's prediction (role "layer";
  // held_out_ms = predicted_ms: layer points are never left out).
  std::vector<ProfilePoint> layer_fit;
};

struct DeviceProfile {
  std::string name;         // device name, [a-z0-9_-]+, e.g. "pixel1"
  std::string description;  // one paragraph: device, runtime, threads, batch
  CostFeatures coefficients{};  // ms per feature unit, indexed by CostTerm, >= 0
  FitSummary fit;

  double coefficient(CostTerm t) const { return coefficients[static_cast<int>(t)]; }

  // Predicted latency of a whole network (expand_layers output) or of any
  // list of layers, in ms. Throws ConfigError like layer_features.
  double predict_ms(const std::vector<space::LayerSpec>& layers) const;
  // The same split by term (sums to predict_ms), for reports.
  CostFeatures predict_terms_ms(const std::vector<space::LayerSpec>& layers) const;
};

// How accurate a profile's estimates are, for messages: "held-out mean error
// 3.6 %, 97 % of held-out published points within 10 %".
std::string accuracy_text(const FitSummary& fit);
// The same for JSON outputs: {"estimate": true, "loo_mape_percent",
// "loo_within10"}.
nlohmann::json accuracy_json(const FitSummary& fit);

// Throws ConfigError naming the field: bad name, a coefficient negative or
// not finite, fractions outside [0, 1].
void validate(const DeviceProfile& profile);

// File format "mnas-device-profile", version 1:
//   {"format": "mnas-device-profile", "version": 1, "name": "pixel1",
//    "description": "...",
//    "coefficients": {"conv_ms_per_mmac": 0.2, ...every key of cost_terms()},
//    "terms": {"conv_ms_per_mmac": "what it multiplies", ...},  (optional)
//    "fit": {"method": "...", "data": "...", "layer_points": 83,
//            "network_points": 32, "layer_fit_mape_percent": 4.7,
//            "fit_mape_percent": 3.1, ...,
//            "points": [{"name": "...", "source": "...", "role": "fit",
//                        "published_ms": 78, "predicted_ms": 77.1,
//                        "held_out_ms": 76.9}, ...],
//            "layer_fit": [{"name": "...", "source": "...",
//                           "published_ms": 4.49, "predicted_ms": 4.30}, ...]}}
// Readers are strict: an unknown key, a missing key or coefficient, or a
// wrong type throws ConfigError naming the key and what was expected, e.g.
//   "profile 'pixel1.json': coefficients.dw_ms_per_mmac should be a number >= 0, got \"x\"".
// Keys in the order above (ordered_json), so that the file reads top-down.
nlohmann::ordered_json profile_to_json(const DeviceProfile& profile);
// `what` names the input in errors ("profile 'a.json'").
DeviceProfile profile_from_json(const nlohmann::json& j, const std::string& what = "profile");

// load_json_file + profile_from_json; errors name the path.
DeviceProfile read_profile_file(const std::string& path);
// Writes atomically (a temporary file, then rename).
void write_profile_file(const DeviceProfile& profile, const std::string& path);

}  // namespace mnas::latency
