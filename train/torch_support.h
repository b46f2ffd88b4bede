// Small helpers shared by the Torch translation units of train/ (not part of
// the public API): the device of a config, failure texts, timing.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <string>

#include "common/error.h"

namespace mnas::train {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// "cpu" or "cuda[:N]"; throws ConfigError when CUDA is named but unavailable.
inline torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available()) {
      throw ConfigError("device '" + name + "': CUDA is not available in this LibTorch build/machine");
    }
    return d;
  } catch (const c10::Error&) {
    throw ConfigError("device '" + name + "': expected cpu or cuda[:N]");
  }
}

// The first line of a LibTorch message (c10::Error texts can run to many
// lines of context).
inline std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

inline bool is_oom(const std::string& what) {
  return what.find("out of memory") != std::string::npos ||
         what.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
}

}  // namespace mnas::train
