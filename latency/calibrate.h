// Calibration of the predictor's correction and a predictor kept up to date
// in the db: what the search and `mnas_latency profile` call (Torch-free;
// measurement happens through latency/measure.h and latency/profile.h).
#pragma once

#include <cstdint>
#include <vector>

#include "db/database.h"
#include "latency/deploy_config.h"
#include "latency/predictor.h"
#include "latency/profile.h"
#include "latency/progress.h"
#include "latency/timing.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/search_space.h"

namespace mnas::latency {

// Measures the architectures (end to end, interleaved with measure_many)
// whose calibration row is missing and stores them in one transaction.
// `progress` hears "calibrating <table>" (total 0), then measure_many's
// stages. Returns how many it measured.
int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy,
              const MeasureOptions& options, const ProgressFn& progress);
// The same with the progress display on stderr unless `quiet`.
int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy, bool quiet,
              const MeasureOptions& options = {});

// Number of calibration architectures ensure_predictor measures, and the seed
// it samples them with (validation files should use another seed).
constexpr int kCalibrationArchs = 60;
constexpr uint64_t kCalibrationSeed = 1;

// Every knob of ensure_predictor (tests use tiny settings).
struct PredictorOptions {
  ProfileOptions profile;
  MeasureOptions measure;
  int calibration_archs = kCalibrationArchs;
  uint64_t calibration_seed = kCalibrationSeed;
};

// A predictor for `deploy` whose table covers every layer of `space` under
// the deploy geometry (profiling the missing ones into the db; resumable)
// and whose correction is fitted on options.calibration_archs architectures
// sampled from the space (measured when the db lacks them). Everything is
// cached in the db: a second call only reads. Remote devices are never
// measured: their table must be complete (imported). `progress` hears
// profile_layers' and calibrate's stages.
Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, const PredictorOptions& options,
                           const ProgressFn& progress = {});
// The same with default options and the progress display on stderr unless
// `quiet`.
Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, bool quiet);

}  // namespace mnas::latency
