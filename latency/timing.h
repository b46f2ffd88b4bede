// Timing on a shared host: the options and results of a measurement, and
// reference normalisation (Torch-free header; LibTorch behind it in
// timing.cpp).
//
// Measurement hygiene (why the figures repeat within a few percent on a
// shared 2-core host): the process tuning of latency/engine.h; warm-up runs,
// then timed runs until both a minimum count and a minimum time are reached;
// median and 10th/90th percentiles are reported (latency/statistics.h).
//
// Reference normalisation (CPU, on by default). On a shared virtual machine
// the same code runs in phases that last seconds and differ by 10-30% (other
// tenants on the host's cores, caches and memory): a median then depends on
// when it was taken, by far more than the 3% that a latency table needs. So
// timed runs are followed at once by a run of a fixed reference network,
// mnasnet-b1 at the deploy geometry (reference_network()), and count as
//   t / t_reference x reference_ms,
// where reference_ms is the network's nominal latency, a constant: stored
// with the latency table in the db (measured once, when the table is
// created), or measured once per process when there is no table. A model is
// normalised run by run (the host's noise is correlated over milliseconds);
// a layer, far shorter, by one reference run after each round of its runs.
// Phases slow networks alike and cancel. NOTE: until 2026-12-02 the
// reference was one MBConv layer; a small layer is slowed 1.4-1.6x as much as
// a network (log-log slope 0.63-0.82 over 1 s bins, against 0.9-1.16 between
// two networks), so it over-corrected: per-measurement std 2.8-4.6% against
// 0.8-1.7% with the network (5 random architectures, 150 s trace).
// Measurements and table rows of one db share the constant, so the predictor
// and validation compare like with like. MeasureOptions::normalize = false
// gives raw wall-clock times.
#pragma once

#include <string>

#include "db/database.h"
#include "latency/deploy_config.h"
#include "space/block_args.h"
#include "space/global_params.h"

namespace mnas::latency {

struct MeasureOptions {
  int warmup = 10;           // untimed runs first
  int min_runs = 30;         // at least this many timed runs
  int max_runs = 400;        // at most this many
  double min_time_ms = 400;  // and until the model's runs took this long (its
                             // reference runs not counted)
  bool pin = true;           // pin single-thread runs to one CPU
  bool normalize = true;     // reference normalisation (CPU only; see above)
  // The reference network's nominal latency; 0 = reference_ms(deploy)
  // (measured once per process).
  double reference_ms = 0.0;
};

// End-to-end measurement of one model.
struct Measurement {
  double median_ms = 0.0;      // normalised (reference_ms > 0) or raw
  double p10_ms = 0.0;
  double p90_ms = 0.0;
  double raw_median_ms = 0.0;  // wall clock, never normalised
  int runs = 0;
  std::string engine;   // the concrete engine used (never "auto")
  std::string device;
  int threads = 1;
  int batch = 1;
  int image_size = 224;
  double compile_ms = 0.0;  // building + optimising the engine's module
  double reference_ms = 0.0;  // the constant used (0 = raw, not normalised)
};

// A model and the GlobalParams to expand it under.
struct ModelToMeasure {
  space::ArchSpec arch;
  space::GlobalParams params;
};

// The reference network: mnasnet-b1 with the geometry (image size, classes,
// input channels) of `deploy`, and its description as stored with a table
// ("network:mnasnet-b1:224x224x3:o1000").
ModelToMeasure reference_network(const DeployConfig& deploy);
std::string reference_workload(const DeployConfig& deploy);

// The reference's nominal latency on `deploy` (engine resolved): the 10th
// percentile of its runs over `seconds`, i.e. its speed when the host is
// quiet. Measured on first use and cached for the process.
double reference_ms(const DeployConfig& deploy, double seconds = 1.5);

// The reference latency of the db table of `deploy` (engine resolved): the
// stored one, or measured (3 s) and stored when the table has none yet.
// Throws ConfigError when the stored one was measured for another geometry
// (classes, input channels) than `deploy`'s.
double table_reference_ms(db::Database& db, const DeployConfig& deploy);

// The nominal reference latency a measurement with `options` uses: 0 (raw)
// on CUDA or when normalisation is off, else options.reference_ms when set,
// else reference_ms(deploy).
double nominal_reference_ms(const DeployConfig& deploy, const MeasureOptions& options);

}  // namespace mnas::latency
