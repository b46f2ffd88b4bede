#include "latency/device_profile.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "latency/json_fields.h"
#include "space/counters.h"

namespace mnas::latency {
namespace {

constexpr const char* kFormat = "mnas-device-profile";
constexpr int kVersion = 1;
constexpr double kBytesPerElement = 4.0;  // float32 activations and weights
constexpr double kMega = 1e6;

// TFLite operators of a squeeze-excite: MEAN, CONV_2D (ReLU fused), CONV_2D,
// LOGISTIC, MUL.
constexpr double kSeOperators = 5.0;

void add(CostFeatures& f, CostTerm t, double v) { f[static_cast<int>(t)] += v; }

// Megabytes of float32 data in `elements` values.
double mb(double elements) { return elements * kBytesPerElement / kMega; }

}  // namespace

const std::array<CostTermInfo, kNumCostTerms>& cost_terms() {
  static const std::array<CostTermInfo, kNumCostTerms> kTerms = {{
      {CostTerm::kConvMac, "conv_ms_per_mmac",
       "regular-conv multiply-adds (expansion, projection, pointwise, k x k conv, head), millions"},
      {CostTerm::kDepthwiseMac, "dw_ms_per_mmac", "depthwise multiply-adds (any kernel size), millions"},
      {CostTerm::kStemMac, "stem_ms_per_mmac", "stem conv multiply-adds, millions"},
      {CostTerm::kActivationTraffic, "activation_ms_per_mb",
       "activation traffic: float32 input + output of every operator and im2col buffers, MB"},
      {CostTerm::kWeightTraffic, "weight_ms_per_mb",
       "conv and depthwise weights read (float32; packed for the GEMM), MB"},
      {CostTerm::kClassifierWeights, "fc_ms_per_mb",
       "classifier weights (float32; streamed once by a matrix-vector product), MB"},
      {CostTerm::kSeTraffic, "se_ms_per_mb",
       "squeeze-excite: the gated tensor (pooled, then multiplied), float32 MB, on top of the traffic"},
      {CostTerm::kOperator, "ms_per_operator", "interpreter operators"},
      {CostTerm::kInference, "ms_per_inference", "whole networks (one per stem)"},
  }};
  return kTerms;
}

CostFeatures layer_features(const space::LayerSpec& l) {
  using space::ConvOp;
  using space::LayerKind;
  if (l.in_h < 1 || l.in_w < 1 || l.out_h < 1 || l.out_w < 1 || l.in_channels < 1 ||
      l.out_channels < 1 || l.kernel_size < 1 || l.expanded_channels < 1) {
    throw ConfigError("layer '" + space::layer_key(l) + "': sizes and channels should be >= 1");
  }
  const space::LayerCost cost = space::layer_cost(l);
  const double in_hw = static_cast<double>(l.in_h) * l.in_w;
  const double out_hw = static_cast<double>(l.out_h) * l.out_w;
  const double k2 = static_cast<double>(l.kernel_size) * l.kernel_size;
  const double cin = l.in_channels, cout = l.out_channels, f = l.expanded_channels;
  CostFeatures x{};
  double elements = 0.0;  // activation elements read + written
  double weights = 0.0;
  double ops = 0.0;
  // A k x k regular conv (k > 1) goes through an im2col buffer of
  // out_hw * k^2 * cin elements, written then read.
  auto conv = [&](double k_sq, double c_in, double c_out, double hw_in, double hw_out) {
    elements += hw_in * c_in + hw_out * c_out + (k_sq > 1.0 ? 2.0 * hw_out * k_sq * c_in : 0.0);
    weights += k_sq * c_in * c_out;
    ops += 1.0;
  };
  auto depthwise = [&](double c, double hw_in, double hw_out) {
    elements += hw_in * c + hw_out * c;
    weights += k2 * c;
    ops += 1.0;
  };
  auto squeeze_excite = [&](double c) {
    if (l.se_channels <= 0) return;
    // MEAN reads the tensor, MUL reads it and writes it; the 1x1 convs and
    // the sigmoid work on c-element vectors.
    elements += 3.0 * out_hw * c + 4.0 * c + 2.0 * l.se_channels;
    weights += 2.0 * c * l.se_channels;
    ops += kSeOperators;
    add(x, CostTerm::kSeTraffic, mb(out_hw * c));
  };

  switch (l.kind) {
    case LayerKind::kStem:
      conv(k2, cin, cout, in_hw, out_hw);
      add(x, CostTerm::kStemMac, cost.conv_macs / kMega);
      add(x, CostTerm::kInference, 1.0);
      break;
    case LayerKind::kHead:
      conv(k2, cin, cout, in_hw, out_hw);
      add(x, CostTerm::kConvMac, cost.conv_macs / kMega);
      break;
    case LayerKind::kClassifier:
      // Global average pool, then the fully connected layer: a matrix-vector
      // product bound by streaming its weights, so no MAC term, and a cost
      // per byte of its own (no GEMM packing, prefetch-friendly).
      elements += in_hw * cin + cin;
      elements += cin + cout;
      add(x, CostTerm::kClassifierWeights, mb(cin * cout));
      ops += 2.0;
      break;
    case LayerKind::kBlock:
      switch (l.op) {
        case ConvOp::kMBConv:
          if (l.expand_ratio != 1) conv(1.0, cin, f, in_hw, in_hw);
          depthwise(f, in_hw, out_hw);
          squeeze_excite(f);
          conv(1.0, f, cout, out_hw, out_hw);
          break;
        case ConvOp::kSepConv:
          depthwise(f, in_hw, out_hw);
          squeeze_excite(f);
          conv(1.0, f, cout, out_hw, out_hw);
          break;
        case ConvOp::kConv:
          conv(k2, cin, cout, in_hw, out_hw);
          squeeze_excite(f);
          break;
      }
      if (l.residual) {
        if (l.skip == space::SkipOp::kPool) {
          // 3x3 average pool of the input (a depthwise-like pass), then ADD.
          elements += in_hw * cin + out_hw * cout;
          add(x, CostTerm::kDepthwiseMac, 9.0 * out_hw * cout / kMega);
          ops += 1.0;
        }
        elements += 3.0 * out_hw * cout;  // ADD reads two tensors, writes one
        ops += 1.0;
      }
      add(x, CostTerm::kConvMac, cost.conv_macs / kMega);
      add(x, CostTerm::kDepthwiseMac, cost.depthwise_macs / kMega);
      break;
  }
  add(x, CostTerm::kActivationTraffic, mb(elements));
  add(x, CostTerm::kWeightTraffic, mb(weights));
  add(x, CostTerm::kOperator, ops);
  return x;
}

CostFeatures features(const std::vector<space::LayerSpec>& layers) {
  CostFeatures sum{};
  for (const auto& l : layers) {
    const CostFeatures x = layer_features(l);
    for (int t = 0; t < kNumCostTerms; ++t) sum[t] += x[t];
  }
  return sum;
}

CostFeatures DeviceProfile::predict_terms_ms(const std::vector<space::LayerSpec>& layers) const {
  CostFeatures ms = features(layers);
  for (int t = 0; t < kNumCostTerms; ++t) ms[t] *= coefficients[t];
  return ms;
}

double DeviceProfile::predict_ms(const std::vector<space::LayerSpec>& layers) const {
  double sum = 0.0;
  for (double v : predict_terms_ms(layers)) sum += v;
  return sum;
}

void validate(const DeviceProfile& p) {
  const std::string where = "profile '" + p.name + "'";
  if (p.name.empty() || p.name.size() > 64 ||
      p.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
    throw ConfigError("profile name should match [a-z0-9_-]{1,64}, got '" + p.name + "'");
  }
  for (const auto& info : cost_terms()) {
    const double c = p.coefficient(info.term);
    if (!std::isfinite(c) || c < 0.0) {
      throw ConfigError(where + ": coefficients." + info.key + " should be a number >= 0, got " +
                        std::to_string(c));
    }
  }
  for (double fr : {p.fit.loo_within10, p.fit.check_within10}) {
    if (!(fr >= 0.0 && fr <= 1.0)) {
      throw ConfigError(where + ": within-10 % fractions should be in [0, 1], got " + std::to_string(fr));
    }
  }
}

nlohmann::ordered_json profile_to_json(const DeviceProfile& p) {
  nlohmann::ordered_json coefficients = nlohmann::ordered_json::object();
  for (const auto& info : cost_terms()) coefficients[info.key] = p.coefficient(info.term);
  nlohmann::ordered_json terms = nlohmann::ordered_json::object();
  for (const auto& info : cost_terms()) terms[info.key] = info.feature;
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const auto& pt : p.fit.points) {
    points.push_back(nlohmann::ordered_json{{"name", pt.name},
                                            {"source", pt.source},
                                            {"role", pt.role},
                                            {"published_ms", pt.published_ms},
                                            {"predicted_ms", pt.predicted_ms},
                                            {"held_out_ms", pt.held_out_ms}});
  }
  nlohmann::ordered_json layer_fit = nlohmann::ordered_json::array();
  for (const auto& pt : p.fit.layer_fit) {
    layer_fit.push_back(nlohmann::ordered_json{{"name", pt.name},
                                               {"source", pt.source},
                                               {"published_ms", pt.published_ms},
                                               {"predicted_ms", pt.predicted_ms}});
  }
  nlohmann::ordered_json fit = {{"method", p.fit.method},
                                {"data", p.fit.data},
                                {"layer_points", p.fit.layer_points},
                                {"network_points", p.fit.network_points},
                                {"layer_fit_mape_percent", p.fit.layer_fit_mape_percent},
                                {"fit_mape_percent", p.fit.fit_mape_percent},
                                {"loo_mape_percent", p.fit.loo_mape_percent},
                                {"loo_within10", p.fit.loo_within10},
                                {"check_points", p.fit.check_points},
                                {"check_mape_percent", p.fit.check_mape_percent},
                                {"check_within10", p.fit.check_within10},
                                {"points", points},
                                {"layer_fit", layer_fit}};
  return nlohmann::ordered_json{{"format", kFormat},
                                {"version", kVersion},
                                {"name", p.name},
                                {"description", p.description},
                                {"coefficients", coefficients},
                                {"terms", terms},
                                {"fit", fit}};
}

namespace {

FitSummary fit_from_json(const nlohmann::json& j, const std::string& what) {
  JsonFields o(j, what, "fit");
  FitSummary s;
  s.method = o.string("method");
  s.data = o.string("data");
  s.layer_points = o.integer("layer_points", 0);
  s.network_points = o.integer("network_points", 0);
  s.layer_fit_mape_percent = o.non_negative("layer_fit_mape_percent");
  s.fit_mape_percent = o.non_negative("fit_mape_percent");
  s.loo_mape_percent = o.non_negative("loo_mape_percent");
  s.loo_within10 = o.non_negative("loo_within10");
  s.check_points = o.integer("check_points", 0);
  s.check_mape_percent = o.non_negative("check_mape_percent");
  s.check_within10 = o.non_negative("check_within10");
  const auto& pts = o.value("points", "an array of points");
  if (!pts.is_array()) o.fail("points", "an array of points");
  for (size_t i = 0; i < pts.size(); ++i) {
    JsonFields q(pts[i], what, "fit.points[" + std::to_string(i) + "]");
    ProfilePoint pt;
    pt.name = q.string("name");
    pt.source = q.string("source");
    pt.role = q.string("role");
    if (pt.role != "fit" && pt.role != "check") q.fail("role", "\"fit\" or \"check\"");
    pt.published_ms = q.positive("published_ms");
    pt.predicted_ms = q.positive("predicted_ms");
    pt.held_out_ms = q.positive("held_out_ms");
    q.finish("name, source, role, published_ms, predicted_ms, held_out_ms");
    s.points.push_back(pt);
  }
  if (o.has("layer_fit")) {
    const auto& lf = o.value("layer_fit", "an array of layer points");
    if (!lf.is_array()) o.fail("layer_fit", "an array of layer points");
    for (size_t i = 0; i < lf.size(); ++i) {
      JsonFields q(lf[i], what, "fit.layer_fit[" + std::to_string(i) + "]");
      ProfilePoint pt;
      pt.name = q.string("name");
      pt.source = q.string("source");
      pt.role = "layer";
      pt.published_ms = q.positive("published_ms");
      pt.predicted_ms = pt.held_out_ms = q.positive("predicted_ms");
      q.finish("name, source, published_ms, predicted_ms");
      s.layer_fit.push_back(pt);
    }
  }
  o.finish("method, data, layer_points, network_points, layer_fit_mape_percent, fit_mape_percent, "
           "loo_mape_percent, loo_within10, check_points, check_mape_percent, check_within10, points, "
           "layer_fit");
  return s;
}

}  // namespace

DeviceProfile profile_from_json(const nlohmann::json& j, const std::string& what) {
  JsonFields o(j, what, "");
  if (o.string("format") != kFormat) o.fail("format", std::string("\"") + kFormat + "\"");
  if (o.integer("version", 0) != kVersion) o.fail("version", std::to_string(kVersion));
  DeviceProfile p;
  p.name = o.string("name");
  p.description = o.string("description");

  std::string keys;
  for (const auto& info : cost_terms()) keys += std::string(keys.empty() ? "" : ", ") + info.key;
  JsonFields c(o.value("coefficients", "an object of coefficients"), what, "coefficients");
  for (const auto& info : cost_terms()) {
    p.coefficients[static_cast<int>(info.term)] = c.non_negative(info.key);
  }
  c.finish(keys.c_str());
  // "terms" documents the units; it is written, and checked to be the
  // writer's, so that a file cannot claim other units than the code uses.
  if (o.has("terms")) {
    JsonFields t(o.value("terms", "an object"), what, "terms");
    for (const auto& info : cost_terms()) {
      if (t.string(info.key) != info.feature) t.fail(info.key, std::string("\"") + info.feature + "\"");
    }
    t.finish(keys.c_str());
  }
  p.fit = fit_from_json(o.value("fit", "an object with the fit's provenance"), what);
  o.finish("format, version, name, description, coefficients, terms, fit");
  try {
    validate(p);
  } catch (const ConfigError& e) {
    throw ConfigError(what + ": " + e.what());
  }
  return p;
}

DeviceProfile read_profile_file(const std::string& path) {
  const std::string what = "profile '" + path + "'";
  return profile_from_json(load_json_file(path, what), what);
}

void write_profile_file(const DeviceProfile& profile, const std::string& path) {
  validate(profile);
  write_file_atomically(path, profile_to_json(profile).dump(1) + "\n");
}

std::string accuracy_text(const FitSummary& fit) {
  char text[160];
  std::snprintf(text, sizeof text,
                "held-out mean error %.1f %%, %.0f %% of held-out published points within 10 %%",
                fit.loo_mape_percent, 100 * fit.loo_within10);
  return text;
}

nlohmann::json accuracy_json(const FitSummary& fit) {
  return {{"estimate", true},
          {"loo_mape_percent", fit.loo_mape_percent},
          {"loo_within10", fit.loo_within10}};
}

}  // namespace mnas::latency
