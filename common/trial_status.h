// How the evaluation of one child ended: one enum for the child trainer
// (train/), the evaluators and strategies (search/) and the experiment
// database, which stores it by name.
#pragma once

#include <string_view>

namespace mnas {

enum class TrialStatus { kOk, kDiverged, kFailed, kTimeout };

// "ok", "diverged", "failed", "timeout".
const char* to_string(TrialStatus status);
// Inverse of to_string; throws ParseError naming the bad word.
TrialStatus trial_status_from_string(std::string_view s);

}  // namespace mnas
