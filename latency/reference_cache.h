// Where a measurement without a latency db keeps the reference constant it is
// normalised by (latency/timing.h), so that figures of separate runs on one
// host share it. Torch-free.
#pragma once

#include <string>

namespace mnas::latency {

// The host's reference cache db: reference.db in $MNAS_CACHE_DIR, else in
// $XDG_CACHE_HOME/mnas, else in $HOME/.cache/mnas (the first that is set and
// non-empty); the directory is created. "" when none is set or the directory
// cannot be created: the constant is then measured in every process.
std::string reference_cache_db();

}  // namespace mnas::latency
