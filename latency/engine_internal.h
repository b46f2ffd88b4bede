// Compiled runners of models and layers on an engine, and the process
// tuning around them (LibTorch; for latency/*.cpp only, implemented in
// engine.cpp). The public side is latency/engine.h.
#pragma once

#include <sched.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <string>

#include "latency/deploy_config.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency::internal {

using Clock = std::chrono::steady_clock;
using Runner = std::function<torch::Tensor(const torch::Tensor&)>;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The CPU single-thread timing is pinned to: the last one the calling thread
// may use; -1 (no pinning) when `pin` is off, `threads` != 1 or the mask
// cannot be read. ThreadScope pins LibTorch's thread there, and the
// onnxruntime engine pins node's threads to the same CPU.
int timing_cpu(int threads, bool pin);

// Sets the thread count (and pins single-thread runs to timing_cpu()) for
// its lifetime; restores both afterwards. Also keeps freed
// activation buffers (common/malloc_tuning.h) and widens oneDNN's primitive
// cache (once per process).
class ThreadScope {
 public:
  ThreadScope(int threads, bool pin);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int old_threads_;
  cpu_set_t old_mask_{};
  bool pinned_ = false;
};

// The torch device of `d`. Throws ConfigError for remote devices and for
// cuda without CUDA.
torch::Device to_device(const DeployConfig& d);

// Throws ConfigError when the model geometry of `params` (image size,
// classes, input channels) differs from `d`'s.
void check_params(const space::GlobalParams& params, const DeployConfig& d);

// A runner for the whole network of `arch` under `engine` on `device`.
// `out_compile_ms`, when given, receives the build time.
Runner make_model_runner(const space::ArchSpec& arch, const space::GlobalParams& params,
                         const std::string& engine, torch::Device device, double* out_compile_ms);

// A runner for one layer. With `prologue`, the layer runs after the identity
// prologue (TorchScript engines only).
Runner make_layer_runner(const space::LayerSpec& l, const space::GlobalParams& params,
                         const std::string& engine, torch::Device device, bool prologue = false);

// The identity prologue alone, on an input of `channels` channels.
Runner make_prologue_runner(int channels, const std::string& engine, torch::Device device);

// Whether `l` is profiled in context (after the identity prologue) on
// `engine`: on oneDNN every layer but the stem (see engine.cpp).
bool profile_in_context(const space::LayerSpec& l, const std::string& engine);

// A random input (seed 0) of the given shape.
torch::Tensor random_input(int batch, int channels, int h, int w, torch::Device device);

// The input of timed runs: in the layout the engine computes in, so that a
// single layer's time does not include a layout copy that the whole network
// makes only once (the oneDNN runner's contiguous() is then a no-op).
torch::Tensor timed_input(int batch, int channels, int h, int w, torch::Device device,
                          const std::string& engine);

}  // namespace mnas::latency::internal
