// Fitting a DeviceProfile (latency/device_profile.h) from published or
// measured latencies, and validating it leave-one-out.
//
// Two kinds of measurement feed the fit:
// - layer points: the in-context time of one layer or a few layers inside a
//   whole network (Single-Path NAS's per-layer Pixel-1 table is of this
//   kind), which pin the per-operation coefficients;
// - network points: end-to-end latency of a whole architecture at a given
//   resolution and width multiplier, which pin the fixed and per-resolution
//   costs and squeeze-excite.
//
// The fit is non-negative least squares (Lawson-Hanson) on RELATIVE errors,
// because accuracy is judged in percent: every row is divided by its
// measured time, and each kind of point gets a share of the total weight
// (FitOptions::layer_share). Non-negativity is physics, not a convenience: a
// negative cost per MAC or per byte would make a bigger network faster.
//
// Validation: each network point with role "fit" is predicted by a profile
// fitted without it (leave-one-out; the layer points always stay in), and
// points with role "check" are never fitted, only predicted.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "latency/device_profile.h"
#include "latency/latency_table.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency {

// One or a few layers timed inside a whole network.
struct LayerPoint {
  std::string name;
  std::string source;  // key of Measurements::sources
  std::vector<space::LayerSpec> layers;
  double ms = 0.0;
};

// One whole network timed end to end.
struct NetworkPoint {
  std::string name;
  std::string source;      // key of Measurements::sources
  std::string role = "fit";  // "fit" or "check" (predicted, never fitted)
  std::string note;        // assumptions, e.g. how an ambiguous model was read
  std::vector<space::LayerSpec> layers;  // expanded
  double ms = 0.0;
};

// A measurement file: format "mnas-latency-measurements", version 1.
//   {"format": "mnas-latency-measurements", "version": 1,
//    "device": "pixel1", "description": "...",
//    "sources": {"spnas": "Single-Path NAS ... commit 21c1f3e9", ...},
//    "layer_points": [
//      {"name": "slot 1 k3 e3", "source": "spnas", "ms": 4.4905,
//       "layers": [{"block": "r1_k3_s22_e3_i16_o24", "input_hw": 112}]}],
//    "network_points": [
//      {"name": "mnasnet-a1 224px x1.0", "source": "paper-table1", "ms": 78,
//       "model": "mnasnet-a1", "image_size": 224, "depth_multiplier": 1.0},
//      {"name": "...", "blocks": ["r1_k3_s11_e1_i32_o16_noskip", ...],
//       "head_size": 0, "role": "check", "note": "...", ...}]}
// Layer items: {"block": S, "input_hw": N} (S unrounded, its declared i is
// the arriving width; r > 1 expands to r layers as a stage does),
// {"stem": C, "image_size": N}, {"head": C, "in_channels": I, "input_hw": N},
// {"classifier": CLASSES, "in_channels": I, "input_hw": N}.
// Network points: "model" (a space::named_archs name) or "blocks"; optional
// "image_size" (224), "depth_multiplier" (unset: widths as written),
// "stem_size" (the model's, else 32), "head_size" (1280; 0 = no head conv, as
// in MobileNetV1), "role" ("fit"), "note".
// Strict like every mnas reader: unknown keys, wrong types, an unknown source
// or model, a bad block string throw ConfigError naming the point and key.
struct Measurements {
  std::string device;
  std::string description;
  std::map<std::string, std::string> sources;
  std::vector<LayerPoint> layer_points;
  std::vector<NetworkPoint> network_points;
};

Measurements measurements_from_json(const nlohmann::json& j, const std::string& what = "measurements");
Measurements read_measurements_file(const std::string& path);

// The inverse of space::layer_key, as far as latency needs: kind, op,
// kernel, strides, expansion, expanded and SE widths, the residual actually
// added, input size and channels, output channels (declared input filters
// are set to the input channels). Round trip: layer_key(layer_from_key(k))
// == k for every key layer_key makes. Throws ParseError naming the key and
// the bad field.
space::LayerSpec layer_from_key(const std::string& key);

// Measurements from a latency table in the existing import format
// (latency/latency_table.h, e.g. a phone's table brought in with
// `mnas_latency import`): one layer point per layer key (median time), one
// "fit" network point per calibration architecture, expanded under `params`
// with the table's image size. `source` names them all (added to sources
// with `citation`). Throws ParseError on a malformed key or architecture.
Measurements measurements_from_table(const LatencyTable& table, const space::GlobalParams& params,
                                     const std::string& source, const std::string& citation);

struct FitOptions {
  // Terms the fit may use; a disabled term's coefficient is 0.
  std::array<bool, kNumCostTerms> terms = {true, true, true, true, true, true, true, true, true};
  // Share of the total (relative, squared) weight that the layer points
  // carry together; the network points carry the rest. Either kind alone
  // gets everything.
  double layer_share = 0.5;
  // Recorded in the profile (FitSummary::data).
  std::string data_path;
};

// Non-negative least squares: argmin ||A x - b|| subject to x >= 0, A given
// by rows (all of equal length n). Lawson and Hanson's active-set method,
// with columns scaled to unit norm and each subproblem solved by Householder
// QR. An all-zero column gets 0. Throws ConfigError on ragged rows.
std::vector<double> nnls(const std::vector<std::vector<double>>& rows, const std::vector<double>& b);

// Coefficients only: the weighted relative NNLS of `data`'s "fit" points,
// skipping network point `skip_network` (-1: none). Throws ConfigError when
// nothing is left to fit.
CostFeatures fit_coefficients(const Measurements& data, const FitOptions& options,
                              int skip_network = -1);

// The profile: coefficients from all "fit" points, the leave-one-out and
// check predictions, and the summary figures (FitSummary). Name and
// description come from `data`.
DeviceProfile fit_profile(const Measurements& data, const FitOptions& options = {});

// A plain-text table of the profile's points (published, fitted, held-out,
// % error) and summary lines, for benches and tools.
std::string validation_table(const DeviceProfile& profile);

}  // namespace mnas::latency
