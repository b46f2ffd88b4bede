// Inference engines (Torch-free header; LibTorch behind it in engine.cpp).
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
// Process tuning for measurement (engine.cpp): glibc malloc is told to keep
// large activation buffers (common/malloc_tuning.h: without it every run
// mmaps and page-faults fresh buffers, up to 13x slower); single-thread runs
// are pinned to one CPU (sched_setaffinity) for their duration, and the
// thread count and CPU affinity of the calling process are restored
// afterwards. oneDNN's primitive cache is raised to 65536 kernels (unless
// ONEDNN_PRIMITIVE_CACHE_CAPACITY is set), so that interleaved rounds over
// many models do not evict and re-create each other's kernels.
#pragma once

#include <string>

#include "latency/deploy_config.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency {

// Outputs must match eager within this (absolute, relative to max(1, |eager|)).
constexpr double kExactTolerance = 1e-4;

// The concrete engine for `deploy`: itself when not "auto" (checked to be
// available on the device), otherwise the fastest exact engine on this host
// (onnxruntime when installed, then onednn, xnnpack, eager on CPU; eager on
// CUDA), each checked for
// exactness against eager on a small test network once per process. Throws
// ConfigError for remote devices, an unavailable device (cuda without CUDA)
// or an engine that is not exact here.
std::string resolve_engine(const DeployConfig& deploy);

// resolve_engine's choice and, in one line, why: "auto picked onnxruntime
// (the fastest exact engine on cpu; ...)", including the engines that auto
// skipped and why (onnxruntime not installed: naming scripts/setup.sh). An
// explicit onnxruntime that is not installed throws ConfigError naming
// scripts/setup.sh. Auto's order on the CPU is onnxruntime, onednn,
// xnnpack, eager (fastest first on this host, issue #20).
struct EngineChoice {
  std::string engine;
  std::string why;
};
EngineChoice choose_engine(const DeployConfig& deploy);

// Max |engine - eager| / max(1, max |eager|) of the logits of `arch` under
// `params` on a random input (deploy geometry, batch 1).
double engine_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine);
// The same for a single layer (make_layer's module vs its TorchScript). With
// `in_context`, the TorchScript runs the layer after the identity 1x1
// convolution that in-context profiling puts in front of it.
double engine_error(const space::LayerSpec& layer, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine, bool in_context = false);

// Whether `deploy` runs on the CPU (where reference normalisation applies).
// Throws ConfigError for remote devices and an unavailable device.
bool measures_on_cpu(const DeployConfig& deploy);

// oneDNN's primitive cache capacity in this process (-1 when LibTorch does not
// expose oneDNN's C API).
int onednn_primitive_cache_capacity();

}  // namespace mnas::latency
