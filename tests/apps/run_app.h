// Runs an mnas app as a user would (tests/apps): exit code, stdout, stderr.
#pragma once

#include <string>

#include "tests/common/subprocess.h"

using RunResult = mnas::testing::CommandResult;

// Runs apps/`app` with `args` (already shell-quoted) and captures both
// streams; `env`, when given, holds VAR=value assignments for the app.
inline RunResult run_app(const std::string& app, const std::string& args,
                         const std::string& env = "") {
  return mnas::testing::run_command((env.empty() ? "" : "env " + env + " ") +
                                    mnas::testing::app_path(app) + " " + args);
}
