// Read-only views of a search's final stage (db/final_store.h): the found
// models next to the baselines as the MnasNet paper shows them (Table 1,
// Figure 5): listings (table, CSV, JSON), the MobileNetV2 multiplier curve and
// each found model's margin over it, and the HTML section with the
// accuracy-vs-latency plots. Torch-free.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db/final_store.h"
#include "experiments/report.h"

namespace mnas::experiments {

// Which latency a comparison uses.
enum class LatencyAxis { kDevice, kHost };

// The MobileNetV2 curve: the done mobilenet-v2 baseline rows (seeds averaged
// per multiplier), as (latency, test top-1) points sorted by latency.
std::vector<std::pair<double, double>> mobilenet_v2_curve(const std::vector<db::FinalRecord>& rows,
                                                          LatencyAxis axis);

// Test top-1 of the curve at `latency_ms`, linear between its points; nullopt
// outside the curve's latency range or with fewer than two points.
std::optional<double> curve_top1_at(const std::vector<std::pair<double, double>>& curve,
                                    double latency_ms);

// `row`'s test top-1 minus the MobileNetV2 curve's at its latency (nullopt
// when the row or the curve has no figure there).
std::optional<double> margin_over_mobilenet_v2(const db::FinalRecord& row,
                                               const std::vector<db::FinalRecord>& rows,
                                               LatencyAxis axis);

// One object per row: id, name, kind ("found" | "baseline"), arch (found:
// the block strings as an array, as the trial listings write them; baseline:
// the model name),
// depth_multiplier, seed, status, test_top1, test_top5, test_loss,
// device_ms, device, host_ms, host_engine, params, macs, train_seconds,
// trial, proxy_accuracy, search_reward, recipe_key, files {checkpoint, onnx,
// torchscript, tflite, onnx_int8, tflite_int8 (the int8 files beside the
// float ones, "" when absent)}, file_bytes (the same keys: sizes, null when a
// file is missing), reused_from, message, and for found models
// margin_vs_mobilenet_v2 {device, host} (null outside the curve).
nlohmann::json final_to_json(const db::FinalRecord& row, const std::vector<db::FinalRecord>& rows);

// Table (found models, then baselines by device latency; a line per seed
// spread when an architecture has several seeds), CSV (one row per model:
// the JSON's fields, files as three columns) or JSON (an array of
// final_to_json).
std::string format_final(const std::vector<db::FinalRecord>& rows, Format format);

// The HTML section: accuracy vs deploy-device latency and vs host latency
// (found models, the MobileNetV2 curve, the MnasNet models), and the table
// with the exported files. "" when there are no rows.
std::string final_html_section(const std::vector<db::FinalRecord>& rows);

}  // namespace mnas::experiments
