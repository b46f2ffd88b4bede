// Validation of the latency predictors: held-out architectures measured end
// to end and compared with the LUT predictor and the FLOPs baseline (what
// `mnas_latency validate` prints). Torch-free header and source; measurement
// happens through latency/measure.h.
#pragma once

#include <string>
#include <vector>

#include "db/database.h"
#include "latency/arch_list.h"
#include "latency/deploy_config.h"
#include "latency/latency_table.h"
#include "latency/predictor.h"
#include "latency/progress.h"
#include "latency/timing.h"
#include "space/search_space.h"

namespace mnas::latency {

// One architecture: measured and predicted.
struct ValidationRow {
  std::string label;  // ArchEntry::label
  double measured_ms = 0.0;
  double lut_ms = 0.0;    // the LUT predictor (with its correction)
  double flops_ms = 0.0;  // the FLOPs baseline
};

struct Validation {
  TableId table;               // the predictor's table
  int calibration_archs = 0;   // calibration rows of that table
  std::vector<ValidationRow> rows;  // in the order of the entries
  Accuracy lut;                // of lut_ms against measured_ms
  Accuracy flops;              // of flops_ms against measured_ms
};

// Brings the predictor of `space` on `deploy` up to date in `db`
// (ensure_predictor), checks that its table holds every layer of `entries`
// (MissingLayerError before anything is measured), then measures the entries
// interleaved in `rounds` rounds (measure_many; normalised by the table's
// reference constant unless options.normalize is false) and compares.
// `progress` hears ensure_predictor's and measure_many's stages.
Validation validate_predictors(db::Database& db, const space::SearchSpace& space,
                               const std::vector<ArchEntry>& entries, const DeployConfig& deploy,
                               MeasureOptions options, int rounds, const ProgressFn& progress);

}  // namespace mnas::latency
