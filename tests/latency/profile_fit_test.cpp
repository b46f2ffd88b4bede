// The profile fitter: the NNLS solver against hand-solvable problems, the
// recovery of known coefficients from synthetic measurements, the strict
// measurement reader, and that the shipped data file regenerates the
// shipped profile.
#include "latency/profile_fit.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/expect_throw_msg.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

const std::string kProfiles = std::string(MNAS_SOURCE_DIR) + "/latency/profiles/";

TEST(Nnls, ExactNonNegativeSolution) {
  // x = (1, 2, 3) solves it exactly and is feasible.
  const std::vector<std::vector<double>> a = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}, {2, 0, 1}};
  const auto x = nnls(a, {1, 2, 3, 6, 5});
  ASSERT_EQ(x.size(), 3u);
  EXPECT_NEAR(x[0], 1.0, 1e-12);
  EXPECT_NEAR(x[1], 2.0, 1e-12);
  EXPECT_NEAR(x[2], 3.0, 1e-12);
}

TEST(Nnls, ClampsWhereUnconstrainedIsNegative) {
  // The exact solution (2, -1) is infeasible. With x2 = 0, x1 minimises
  // (x1 - 1)^2 + x1^2 -> 0.5 (residual 0.5); with x1 = 0, x2 = 0.2 leaves 0.8.
  const std::vector<std::vector<double>> a = {{1, 1}, {1, 2}};
  const auto unc = nnls(a, {1, 0});
  EXPECT_GE(unc[0], 0.0);
  EXPECT_EQ(unc[1], 0.0);
  EXPECT_NEAR(unc[0], (1.0 + 0.0) / 2.0, 1e-12);
  const auto x = nnls({{1, 0}, {1, 0}}, {1, 4});
  EXPECT_NEAR(x[0], 2.5, 1e-12);
  EXPECT_EQ(x[1], 0.0);  // all-zero column
}

TEST(Nnls, RaggedRowsThrow) {
  EXPECT_THROW_MSG(nnls({{1, 2}, {1}}, {1, 2}), ConfigError, "same length");
}

// Synthetic device: known coefficients; measurements are its exact
// predictions. The fit must give them back.
TEST(ProfileFit, RecoversKnownCoefficients) {
  DeviceProfile truth;
  truth.name = "synthetic";
  truth.coefficients = {0.2, 0.4, 0.5, 0.3, 0.25, 0.15, 0.6, 0.02, 1.5};
  Measurements m;
  m.device = "synthetic";
  m.description = "test";
  m.sources["t"] = "generated";
  int n = 0;
  for (const auto& name : space::named_arch_names()) {
    for (int size : {96, 160, 224}) {
      for (double mult : {0.5, 1.0, 1.4}) {
        space::GlobalParams p = space::named_arch(name).params;
        p.image_size = size;
        p.depth_multiplier = mult;
        NetworkPoint pt;
        pt.name = "net " + std::to_string(n++);
        pt.source = "t";
        pt.layers = space::expand_layers(space::named_arch_spec(name), p);
        pt.ms = truth.predict_ms(pt.layers);
        m.network_points.push_back(pt);
        // Every layer of the first configuration as a layer point.
        if (size == 224 && mult == 1.0) {
          for (const auto& l : pt.layers) {
            LayerPoint lp{"layer " + std::to_string(n++), "t", {l}, truth.predict_ms({l})};
            m.layer_points.push_back(lp);
          }
        }
      }
    }
  }
  const DeviceProfile fitted = fit_profile(m);
  for (const auto& info : cost_terms()) {
    const double want = truth.coefficient(info.term);
    EXPECT_NEAR(fitted.coefficient(info.term), want, 1e-6 * want) << info.key;
  }
  EXPECT_LT(fitted.fit.loo_mape_percent, 1e-6);
  EXPECT_DOUBLE_EQ(fitted.fit.loo_within10, 1.0);
  EXPECT_LT(fitted.fit.layer_fit_mape_percent, 1e-6);

  // A disabled term stays 0.
  FitOptions without_se;
  without_se.terms[static_cast<int>(CostTerm::kSeTraffic)] = false;
  EXPECT_EQ(fit_coefficients(m, without_se)[static_cast<int>(CostTerm::kSeTraffic)], 0.0);
}

TEST(ProfileFit, ShippedDataRegeneratesShippedProfile) {
  const Measurements data = read_measurements_file(kProfiles + "pixel1-data.json");
  EXPECT_EQ(data.device, "pixel1");
  EXPECT_EQ(data.layer_points.size(), 83u);  // 80 cells, slots 0 and 21, the rest lump
  const DeviceProfile shipped = read_profile_file(kProfiles + "pixel1.json");
  FitOptions options;
  options.data_path = shipped.fit.data;
  const DeviceProfile refit = fit_profile(data, options);
  for (const auto& info : cost_terms()) {
    EXPECT_NEAR(refit.coefficient(info.term), shipped.coefficient(info.term),
                1e-9 + 1e-9 * shipped.coefficient(info.term))
        << info.key << ": rerun bench/fit_pixel1_profile after changing the data or the model";
  }
  ASSERT_EQ(refit.fit.points.size(), shipped.fit.points.size());
  EXPECT_NEAR(refit.fit.loo_mape_percent, shipped.fit.loo_mape_percent, 1e-6);
  EXPECT_FALSE(validation_table(refit).empty());
}

nlohmann::json minimal_data() {
  return nlohmann::json::parse(R"({
    "format": "mnas-latency-measurements", "version": 1, "device": "d", "description": "x",
    "sources": {"s": "somewhere"},
    "layer_points": [{"name": "l", "source": "s", "ms": 1.5,
                      "layers": [{"block": "r2_k5_s22_e6_i16_o24", "input_hw": 56},
                                 {"stem": 32, "image_size": 224},
                                 {"head": 1280, "in_channels": 320, "input_hw": 7},
                                 {"classifier": 1000, "in_channels": 1280, "input_hw": 7}]}],
    "network_points": [{"name": "n", "source": "s", "ms": 78, "model": "mnasnet-a1",
                        "image_size": 192, "depth_multiplier": 0.75},
                       {"name": "v1", "source": "s", "ms": 113, "role": "check", "head_size": 0,
                        "blocks": ["ds_r1_k3_s11_i32_o64_noskip"]}]})");
}

TEST(ProfileFit, ReadsMeasurements) {
  const Measurements m = measurements_from_json(minimal_data(), "m");
  ASSERT_EQ(m.layer_points.size(), 1u);
  // r2 expands to two layers; then stem, head, classifier.
  ASSERT_EQ(m.layer_points[0].layers.size(), 5u);
  EXPECT_EQ(m.layer_points[0].layers[1].in_channels, 24);
  EXPECT_EQ(m.layer_points[0].layers[1].in_h, 28);
  ASSERT_EQ(m.network_points.size(), 2u);
  EXPECT_EQ(m.network_points[0].layers.front().in_h, 192);
  EXPECT_EQ(m.network_points[1].role, "check");
  // No head conv: stem, one block, classifier on 64 channels.
  ASSERT_EQ(m.network_points[1].layers.size(), 3u);
  EXPECT_EQ(m.network_points[1].layers.back().in_channels, 64);
}

TEST(ProfileFit, BadMeasurementsNameTheKey) {
  auto with = [](auto&& edit) {
    nlohmann::json j = minimal_data();
    edit(j);
    return j;
  };
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][0]["sorce"] = 1; }), "m"),
                   ConfigError, "unknown key 'network_points[0].sorce'");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][0]["source"] = "paper"; }), "m"),
                   ConfigError, "network_points[0].source should be a key of \"sources\" (s)");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][0]["model"] = "resnet"; }), "m"),
                   ConfigError, "network_points[0].model should be a model name", "mnasnet-a1");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][0]["blocks"] = {"r1"}; }), "m"),
                   ConfigError, "exactly one of 'model' and 'blocks'");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][0]["ms"] = 0; }), "m"),
                   ConfigError, "network_points[0].ms should be a number > 0");
  EXPECT_THROW_MSG(
      measurements_from_json(with([](auto& j) { j["layer_points"][0]["layers"][0]["block"] = "r1_k4"; }), "m"),
      ConfigError, "layer_points[0].layers[0].block");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["layer_points"][0]["layers"][0] = {{"x", 1}}; }), "m"),
                   ConfigError, "one of the keys block, stem, head, classifier");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["network_points"][1]["name"] = "n"; }), "m"),
                   ConfigError, "duplicate point name 'n'");
  EXPECT_THROW_MSG(measurements_from_json(with([](auto& j) { j["version"] = 2; }), "m"), ConfigError,
                   "version should be 1");
}

TEST(ProfileFit, LayerKeysRoundTrip) {
  // Every layer of every named model, plus ds/cn ops, pool skips and SE.
  std::vector<space::LayerSpec> all;
  for (const auto& name : space::named_arch_names()) {
    const auto layers = space::expand_layers(space::named_arch_spec(name), space::named_arch(name).params);
    all.insert(all.end(), layers.begin(), layers.end());
  }
  const auto extra = space::expand_layers(
      space::decode_arch({"ds_r1_k3_s11_i32_o16_se0.25", "cn_r2_k5_s22_i16_o24", "r2_k7_s12_e3_i24_o24_poolskip"}),
      space::GlobalParams{});
  all.insert(all.end(), extra.begin(), extra.end());
  for (const auto& l : all) {
    const std::string key = space::layer_key(l);
    const space::LayerSpec back = layer_from_key(key);
    EXPECT_EQ(space::layer_key(back), key);
    // Same features, so the same prediction, as the layer it came from.
    EXPECT_EQ(layer_features(back), layer_features(l)) << key;
  }
  EXPECT_THROW_MSG(layer_from_key("block:mbconv:k3:s22:e6:f96:se0:none:112x112x16"), ParseError,
                   "expected 10 ':'-separated fields");
  EXPECT_THROW_MSG(layer_from_key("block:mbconv:k3:s2:e6:f96:se0:none:112x112x16:o24"), ParseError,
                   "bad strides field 's2'");
  EXPECT_THROW_MSG(layer_from_key("head:k1:s11:7x7:o1280"), ParseError, "bad input shape '7x7'");
  EXPECT_THROW_MSG(layer_from_key("tail:7x7x1:o1"), ParseError, "unknown kind 'tail'");
}

// A phone's table in the existing import format fits like the JSON data.
TEST(ProfileFit, FitsFromALatencyTable) {
  DeviceProfile truth;
  truth.coefficients = {0.2, 0.4, 0.5, 0.3, 0.25, 0.15, 0.6, 0.02, 1.5};
  LatencyTable table;
  table.id = {"remote:phone", "tflite", 1, 160, 1};
  space::GlobalParams p;
  p.image_size = 160;
  for (const auto& name : space::named_arch_names()) {
    const auto arch = space::named_arch_spec(name);
    for (double m : {0.5, 1.0}) {
      space::GlobalParams q = space::named_arch(name).params;
      q.image_size = 160;
      q.depth_multiplier = m;
      for (const auto& l : space::expand_layers(arch, q)) {
        const double ms = truth.predict_ms({l});
        table.layers[space::layer_key(l)] = {ms, ms, ms, 1};
      }
    }
    const auto layers = space::expand_layers(arch, p);
    const double ms = truth.predict_ms(layers);
    table.calibration.push_back({space::arch_to_string(arch), {ms, ms, ms, 1}});
  }
  const Measurements m = measurements_from_table(table, p, "phone", "measured on my phone");
  EXPECT_EQ(m.device, "phone");
  EXPECT_EQ(m.network_points.size(), space::named_arch_names().size());
  const DeviceProfile fitted = fit_profile(m);
  EXPECT_LT(fitted.fit.loo_mape_percent, 1e-6);
  EXPECT_LT(fitted.fit.layer_fit_mape_percent, 1e-6);
}

}  // namespace
}  // namespace mnas::latency
