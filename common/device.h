// Device names as the tools accept them, without LibTorch: "cpu", "cuda",
// "cuda:N". One spelling for every flag and config field that names a local
// device (mnas_search --device, the deploy and trainer configurations).
#pragma once

#include <algorithm>
#include <string>

#include "common/error.h"

namespace mnas {

// True for "cpu", "cuda" and "cuda:N" (N of one or two digits).
inline bool is_local_device(const std::string& d) {
  if (d == "cpu" || d == "cuda") return true;
  if (d.rfind("cuda:", 0) != 0 || d.size() == 5 || d.size() > 7) return false;
  return std::all_of(d.begin() + 5, d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Throws ConfigError naming `what` ("--device") unless is_local_device(d).
// Whether the device exists is LibTorch's to say when it is used.
inline void check_local_device(const std::string& d, const std::string& what) {
  if (is_local_device(d)) return;
  std::string shown = d.substr(0, 40);
  for (auto& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  throw ConfigError(what + ": unknown device '" + shown + (d.size() > 40 ? "..." : "") +
                    "'; expected cpu | cuda | cuda:N");
}

}  // namespace mnas
