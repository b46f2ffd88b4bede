// The device profiles shipped with mnas (latency/profiles/<name>.json),
// compiled into the library so that a device name such as "pixel1" works
// from any directory with no file at run time. The JSON files stay the
// source of truth: the build embeds them (latency/embed_profiles.cmake), and
// bench/fit_pixel1_profile regenerates them from their measurement files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "latency/device_profile.h"

namespace mnas::latency {

// Names of the shipped profiles, sorted ("pixel1").
std::vector<std::string> builtin_profile_names();

bool is_builtin_profile(std::string_view name);

// The shipped profile `name`, parsed and validated (once; later calls
// return the same object). Throws ConfigError listing the known names when
// `name` is not one.
const DeviceProfile& builtin_profile(std::string_view name);

// A shipped profile by name, or else a profile file by path (anything that
// ends in ".json"). Throws ConfigError otherwise, naming the known profiles.
DeviceProfile load_profile(const std::string& name_or_path);

}  // namespace mnas::latency
