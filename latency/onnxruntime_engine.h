// The onnxruntime engine (for latency/*.cpp only; Torch-free header,
// LibTorch and libonnx behind it in onnxruntime_engine.cpp).
//
// A network or a single layer is built as the eager engine builds it
// (model::MnasNet / model::make_layer, seed 0), exported with mnas's ONNX
// emitter (train/onnx_emitter.h: BN folded, opset 13) into a private
// temporary folder, loaded into the process's one ONNX Runtime server (a
// long-lived node, train/onnxruntime_server.h, started on first use) with
// the deploy's threads, graph optimisation level and execution mode, and
// timed there: interleaved rounds, warm-up, min/max runs and time as the
// LibTorch engines (latency/timing.h), each run or round followed by a run
// of the reference network (mnasnet-b1, also in ONNX Runtime) whose time the
// caller normalises by. Single-thread timing pins every thread of node to
// the CPU the LibTorch engines pin their timing thread to (the last one the
// calling thread may use) for the duration of each timing request
// (onnxruntime::TimingRequest::cpu), unless MeasureOptions::pin is off.
#pragma once

#include <string>
#include <vector>

#include "latency/deploy_config.h"
#include "latency/latency_table.h"
#include "latency/progress.h"
#include "latency/timing.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency::internal {

// Throws ConfigError naming scripts/setup.sh (and the package folder) when
// ONNX Runtime is not installed; says nothing otherwise.
void require_onnxruntime();

// Writes the ONNX file that the engine times for `arch` (model::MnasNet's
// weights after manual_seed(0); input "input" [batch, C, H, W]) to `path`:
// for comparisons with a bare ONNX Runtime loop (bench/ort_bench.cpp).
void export_onnx_network(const space::ArchSpec& arch, const space::GlobalParams& params, int batch,
                         const std::string& path);

// Max |onnxruntime - eager| / max(1, max |eager|) of the outputs of a
// network or one layer on a random input (deploy batch 1).
double onnxruntime_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                         const DeployConfig& deploy);
// With `in_context`, the layer runs after the identity 1x1 prologue.
double onnxruntime_error(const space::LayerSpec& layer, const space::GlobalParams& params,
                         const DeployConfig& deploy, bool in_context = false);

// Whether `l` is profiled in context: every layer but the stem. NOTE: a
// single-layer graph pays ONNX Runtime's layout reorders (NCHW <-> NCHWc on
// this CPU) at its input and output, which a network pays once; the layer
// is timed after an exact identity 1x1 convolution and that prologue's own
// graph (same reorders) is timed in the same rounds and subtracted, as on
// oneDNN (latency/engine_internal.h profile_in_context).
bool onnxruntime_in_context(const space::LayerSpec& l);

// The timed runs of one model: normalised (`times`; raw when ref_ms is 0),
// raw, and its export + load time.
struct OrtSamples {
  std::vector<double> times, raw;
  double compile_ms = 0.0;
};

// Models timed in `rounds` interleaved rounds (measure/measure_many's
// budget split), each run normalised by the adjacent reference run when
// ref_ms > 0. `progress` hears "compiling" per model exported and loaded.
std::vector<OrtSamples> onnxruntime_sample_models(const std::vector<ModelToMeasure>& models,
                                                  const DeployConfig& deploy, const MeasureOptions& options,
                                                  int rounds, double ref_ms, const ProgressFn& progress);

// The 10th percentile of the reference network's runs over `seconds`, alone.
double onnxruntime_reference_p10(const DeployConfig& deploy, double seconds);

// Layers timed for profiling: `rounds` interleaved passes with the given
// per-layer budget; each round's window of a layer's runs is scaled by one
// reference run after it when ref_ms > 0; in-context layers (above) less
// their prologue's median.
struct OrtLayerBudget {
  int warmup = 3, min_runs = 9, max_runs = 60, rounds = 3;
  double min_time_ms = 25;
};
std::vector<Timing> onnxruntime_time_layers(const std::vector<const space::LayerSpec*>& layers,
                                            const space::GlobalParams& params, const DeployConfig& deploy,
                                            const OrtLayerBudget& budget, double ref_ms);

}  // namespace mnas::latency::internal
