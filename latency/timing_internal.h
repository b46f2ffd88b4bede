// Timed runs of compiled runners, normalised by the reference network
// (LibTorch; for latency/*.cpp only, implemented in timing.cpp). The public
// side is latency/timing.h.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <string>
#include <vector>

#include "latency/deploy_config.h"
#include "latency/engine_internal.h"
#include "latency/latency_table.h"

namespace mnas::latency::internal {

// The reference network, compiled, with its input and nominal latency.
struct Reference {
  std::vector<Runner> copies;  // run in turn
  std::vector<torch::Tensor> inputs;
  double ms = 0.0;
  mutable size_t next = 0;
  torch::Tensor run() const {
    const size_t i = next++ % copies.size();
    return copies[i](inputs[i]);
  }
  // One run, timed (CPU only: normalisation is off on CUDA).
  double timed_ms() const {
    const auto t0 = Clock::now();
    auto y = run();
    return ms_since(t0);
  }
};

// The reference network of `deploy` compiled for `engine` (kReferenceCopies
// copies, see timing.cpp), with nominal latency `ms`.
Reference make_reference(const DeployConfig& deploy, const std::string& engine, torch::Device device,
                         double ms);

// Appends the times of timed runs of `run` on `x` to `times` (after `warmup`
// untimed runs) until min_runs and min_time_ms are both reached, or max_runs.
// With a reference, each run is followed by one of the reference and its time
// is scaled by ref->ms / (the reference run's time); the reference runs do not
// count towards min_time_ms. `raw`, when given, receives the unscaled times.
void sample_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, std::vector<double>& times,
                   const Reference* ref = nullptr, std::vector<double>* raw = nullptr);

// sample_runner's times, summarised.
Timing time_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, const Reference* ref = nullptr);

}  // namespace mnas::latency::internal
