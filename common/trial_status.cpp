#include "common/trial_status.h"

#include <string>

#include "common/error.h"

namespace mnas {

const char* to_string(TrialStatus status) {
  switch (status) {
    case TrialStatus::kOk: return "ok";
    case TrialStatus::kDiverged: return "diverged";
    case TrialStatus::kFailed: return "failed";
    case TrialStatus::kTimeout: return "timeout";
  }
  return "failed";
}

TrialStatus trial_status_from_string(std::string_view s) {
  if (s == "ok") return TrialStatus::kOk;
  if (s == "diverged") return TrialStatus::kDiverged;
  if (s == "failed") return TrialStatus::kFailed;
  if (s == "timeout") return TrialStatus::kTimeout;
  throw ParseError("unknown trial status '" + std::string(s) +
                   "' (expected ok, diverged, failed or timeout)");
}

}  // namespace mnas
