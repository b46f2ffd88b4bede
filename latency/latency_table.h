// Per-layer latency lookup tables (LUT) and their file formats.
//
// A table holds, for one TableId (device, engine, threads, image size,
// batch), the measured latency of single layers keyed by space::layer_key,
// e.g. "block:mbconv:k3:s22:e6:f96:se0:none:112x112x16:o24", plus end-to-end
// calibration measurements of whole architectures (for the predictor's
// correction). Formats (docs/latency.md):
//
// JSON:
//   {"format": "mnas-latency-table", "version": 1,
//    "table": {"device": "cpu", "engine": "onednn", "threads": 1,
//              "image_size": 224, "batch": 1},
//    "layers": [{"key": "...", "median_ms": 0.41, "p10_ms": 0.40,
//                "p90_ms": 0.43, "runs": 20}, ...],
//    "calibration": [{"arch": "r1_k3_s11_e1_i32_o16_noskip ...",
//                     "median_ms": 6.1, "p10_ms": 6.0, "p90_ms": 6.3,
//                     "runs": 30}, ...]}
//   p10_ms, p90_ms and runs are optional (default: median, median, 1);
//   "calibration" is optional.
// CSV (one table per file, comma separated, no quoting):
//   kind,device,engine,threads,image_size,batch,key,median_ms,p10_ms,p90_ms,runs
//   layer,cpu,onednn,1,224,1,block:mbconv:...,0.41,0.40,0.43,20
//   calibration,cpu,onednn,1,224,1,r1_k3_s11_e1_i32_o16_noskip ...,6.1,6.0,6.3,30
//   Lines starting with '#' and blank lines are ignored; p10_ms, p90_ms and
//   runs may be empty.
// Readers are strict: unknown keys or columns, a bad number, a non-positive
// or non-finite time, a malformed layer key or architecture, duplicate keys
// and rows of different tables throw ParseError naming the line or entry.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "latency/deploy_config.h"
#include "space/layer_spec.h"

namespace mnas::latency {

// Median and spread of repeated timings of one thing, in milliseconds.
struct Timing {
  double median_ms = 0.0;
  double p10_ms = 0.0;
  double p90_ms = 0.0;
  int runs = 0;
};

// One end-to-end measurement of an architecture: its canonical block strings
// joined by single spaces (space::arch_to_string), expanded under the
// predictor's GlobalParams.
struct CalibrationPoint {
  std::string arch;
  Timing timing;
};

struct LatencyTable {
  TableId id;
  std::map<std::string, Timing> layers;  // by space::layer_key
  std::vector<CalibrationPoint> calibration;
};

// Keys of `layers` that the table lacks, deduplicated, in first-use order.
std::vector<std::string> missing_layers(const LatencyTable& table,
                                        const std::vector<space::LayerSpec>& layers);

// Whether `key` has the shape of a space::layer_key (kind prefix, no blanks
// or commas). Used to reject corrupt imports.
bool is_layer_key(const std::string& key);

nlohmann::json table_to_json(const LatencyTable& table);
LatencyTable table_from_json(const nlohmann::json& j);
std::string table_to_csv(const LatencyTable& table);
LatencyTable table_from_csv(std::istream& in);

// Reads a .json or .csv file (by extension). Throws ParseError naming the
// file and the problem.
LatencyTable read_table_file(const std::string& path);
// Writes .json or .csv through a temporary file and a rename, so a crash
// never leaves a half-written table. Throws Error on I/O failure.
void write_table_file(const LatencyTable& table, const std::string& path);

}  // namespace mnas::latency
