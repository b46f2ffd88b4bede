// End-to-end latency measurement of models on a fast inference path
// (LibTorch), behind a Torch-free header so that apps and the search include
// it cheaply.
//
// The pieces, one concern per file:
//   latency/engine.h       engines, exactness, resolve_engine (process tuning)
//   latency/timing.h       MeasureOptions, Measurement, reference normalisation
//   latency/statistics.h   medians and percentiles, repeat agreement (Torch-free)
//   latency/progress.h     progress callbacks and the apps' display
//   latency/profile.h      per-layer profiling into the db table
//   latency/calibrate.h    calibration, ensure_predictor
//   latency/validation.h   predictors against measurements (mnas_latency validate)
// This header includes the first six, so that callers of the one-header API
// compile unchanged.
#pragma once

#include <string>
#include <vector>

#include "db/database.h"
#include "latency/calibrate.h"
#include "latency/deploy_config.h"
#include "latency/engine.h"
#include "latency/latency_table.h"
#include "latency/predictor.h"
#include "latency/profile.h"
#include "latency/progress.h"
#include "latency/statistics.h"
#include "latency/timing.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"
#include "space/search_space.h"

namespace mnas::latency {

// Measures `arch` expanded under `params` (whose image size, classes and
// input channels should equal deploy's) end to end. Throws ConfigError on bad
// input.
Measurement measure(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy);
Measurement measure(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const MeasureOptions& options);

// Measures several models interleaved: every model is compiled first, then
// timed in `rounds` round-robin rounds (each taking a 1/rounds share of the
// runs and time of `options`), and each model's median is over all its runs.
// Slow phases of a shared machine then hit every model alike instead of a
// few of them. Results in the order of `models`. `progress` hears the stages
// "compiling" (models compiled) and "measuring (N interleaved rounds)"
// (model rounds timed).
constexpr int kRounds = 3;
std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& options,
                                      int rounds, const ProgressFn& progress);
// The same with the progress display on stderr unless `quiet`.
std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& options,
                                      int rounds = kRounds, bool quiet = true);

// A model measured `repeat` times (`mnas_latency measure --repeat K`).
struct RepeatedMeasurement {
  std::vector<Measurement> runs;  // one per repeat, in order
  RepeatStats stats;              // how well their medians agree
  // The db file the reference constant came from; "" when it was measured in
  // this process, or when the times are raw.
  std::string reference_constant_from;
};

// Measures `arch` under `params` `repeat` (>= 1) times with `options`. With
// normalisation on the CPU, the reference constant is taken from the table
// of `constant_db` (--db) or, when that is "", from the host's reference
// cache (latency/reference_cache.h; measured and stored there on first use,
// measured in this process when there is no cache directory). Throws
// ConfigError on bad input.
RepeatedMeasurement measure_repeated(const space::ArchSpec& arch, const space::GlobalParams& params,
                                     const DeployConfig& deploy, MeasureOptions options, int repeat,
                                     const std::string& constant_db);

}  // namespace mnas::latency
