// Latency measurement on a fast inference path (LibTorch), behind a
// Torch-free header so that apps and the search include it cheaply.
//
// A model is run the way it would be deployed: batch deploy.batch, input
// deploy.image_size, deploy.threads intra-op threads, on deploy.device, with
// one of three engines (latency/deploy_config.h): eager LibTorch, TorchScript
// generated from the layers then frozen and optimised for oneDNN
// (torch::jit::freeze + optimize_for_inference), or the same through XNNPACK
// (torch::jit::optimizeForMobile). The TorchScript source is emitted from
// the LayerSpecs by model/script_emitter.h (conv2d/batch_norm/relu/... calls
// on registered weights copied from the eager model) along the same walk
// (model/network_walk.h) that the eager modules run, so all engines compute
// the same function.
//
// Measurement hygiene (why the figures repeat within a few percent on a
// shared 2-core host): glibc malloc is told to keep large activation buffers
// (common/malloc_tuning.h: without it every run mmaps and page-faults fresh
// buffers, up to 13x slower); single-thread runs are pinned
// to one CPU (sched_setaffinity) for their duration; warm-up runs, then timed
// runs until both a minimum count and a minimum time are reached; median and
// 10th/90th percentiles are reported. The thread count and CPU affinity of
// the calling process are restored afterwards. oneDNN's primitive cache is
// raised to 65536 kernels (unless ONEDNN_PRIMITIVE_CACHE_CAPACITY is set), so
// that interleaved rounds over many models do not evict and re-create each
// other's kernels.
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

#include <cstdint>
#include <string>
#include <vector>

#include "db/database.h"
#include "latency/deploy_config.h"
#include "latency/latency_table.h"
#include "latency/predictor.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"
#include "space/search_space.h"

namespace mnas::latency {

// Outputs must match eager within this (absolute, relative to max(1, |eager|)).
constexpr double kExactTolerance = 1e-4;

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

// The concrete engine for `deploy`: itself when not "auto" (checked to be
// available on the device), otherwise the fastest exact engine on this host
// (onednn, then xnnpack, then eager on CPU; eager on CUDA), each checked for
// exactness against eager on a small test network once per process. Throws
// ConfigError for remote devices, an unavailable device (cuda without CUDA)
// or an engine that is not exact here.
std::string resolve_engine(const DeployConfig& deploy);

// Max |engine - eager| / max(1, max |eager|) of the logits of `arch` under
// `params` on a random input (deploy geometry, batch 1).
double engine_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine);
// The same for a single layer (make_layer's module vs its TorchScript). With
// `in_context`, the TorchScript runs the layer after the identity 1x1
// convolution that in-context profiling puts in front of it.
double engine_error(const space::LayerSpec& layer, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine, bool in_context = false);

// oneDNN's primitive cache capacity in this process (-1 when LibTorch does not
// expose oneDNN's C API).
int onednn_primitive_cache_capacity();

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
// few of them. Results in the order of `models`.
constexpr int kRounds = 3;
std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& options,
                                      int rounds = kRounds, bool quiet = true);

// Per-layer profiling for the lookup table. The run and time budgets are per
// layer, over all rounds.
struct ProfileOptions {
  int warmup = 3;
  int min_runs = 9;
  int max_runs = 60;
  double min_time_ms = 25;  // per layer
  int rounds = 3;           // interleaved passes over each chunk
  int chunk = 300;          // layers per chunk (one committed transaction)
  bool quiet = false;       // no progress display on stderr
  bool normalize = true;    // reference normalisation with the table's constant
};

// Times every layer of `layers` whose key is missing from the db table of
// `deploy` (engine resolved) and stores it. The missing layers are taken in
// a fixed pseudo-random order, `chunk` at a time: a chunk's layers are
// compiled, then timed in `rounds` round-robin passes (as measure_many does
// for models), and the chunk is committed in one transaction, so an
// interrupted run resumes at the chunk where it stopped. Each layer's median
// is over the runs of all its rounds, which lie seconds apart: a slow phase
// of a shared host then shifts one round of many layers a little instead of
// all runs of a few layers a lot. On oneDNN every layer but the stem is timed
// in context: after an exact identity 1x1 convolution, so that its input
// arrives in oneDNN's blocked layout as from the previous layer of a network,
// and that prologue's median (timed in the same rounds, once per input shape
// of the chunk) is subtracted. With normalisation, each round of a layer's
// runs is scaled by one run of the reference network right after it.
// Returns how many layers it measured.
// `params` are the GlobalParams the layers were expanded under.
int profile_layers(db::Database& db, const std::vector<space::LayerSpec>& layers,
                   const space::GlobalParams& params, const DeployConfig& deploy,
                   const ProfileOptions& options = {});

// Measures the architectures (end to end, interleaved with measure_many)
// whose calibration row is missing and stores them in one transaction.
// Returns how many it measured.
int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy, bool quiet,
              const MeasureOptions& options = {});

// Number of calibration architectures ensure_predictor measures, and the seed
// it samples them with (validation files should use another seed).
constexpr int kCalibrationArchs = 60;
constexpr uint64_t kCalibrationSeed = 1;

// A predictor for `deploy` whose table covers every layer of `space` under
// the deploy geometry (profiling the missing ones into the db, with a progress
// display on stderr unless quiet; resumable) and whose correction is fitted on
// kCalibrationArchs architectures sampled from the space (measured when the
// db lacks them). Everything is cached in the db: a second call only reads.
// Remote devices are never measured: their table must be complete (imported).
Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, bool quiet);

// The same with every knob exposed (tests use tiny settings).
struct PredictorOptions {
  ProfileOptions profile;
  MeasureOptions measure;
  int calibration_archs = kCalibrationArchs;
  uint64_t calibration_seed = kCalibrationSeed;
  bool quiet = false;
};
Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, const PredictorOptions& options);

}  // namespace mnas::latency
