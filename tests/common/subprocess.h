// Runs a shell command from a test and captures what it printed: the one
// place tests start subprocesses (apps, mpirun, ldd) and read their output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace mnas::testing {

struct CommandResult {
  int exit_code = -1;  // the command's exit status; -1 if it did not exit normally
  std::string out;     // stdout (and stderr too when merged)
  std::string err;     // stderr, unless merged into `out`
};

enum class Stderr { kSeparate, kMerged };

// Runs `command` with /bin/sh. stdout is read through a pipe; stderr goes to
// a file of its own (ctest runs the tests of one binary in parallel), or into
// `out` with Stderr::kMerged. The command must not redirect stderr itself.
inline CommandResult run_command(const std::string& command, Stderr stderr_to = Stderr::kSeparate) {
  std::string err_file;
  std::string cmd = command;
  if (stderr_to == Stderr::kMerged) {
    cmd += " 2>&1";
  } else {
    err_file = ::testing::TempDir() + "mnas_stderr_XXXXXX";
    const int fd = mkstemp(err_file.data());
    if (fd >= 0) close(fd);
    cmd += " 2>" + err_file;
  }
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!err_file.empty()) {
    std::ifstream err(err_file);
    std::stringstream ss;
    ss << err.rdbuf();
    r.err = ss.str();
    std::remove(err_file.c_str());
  }
  return r;
}

// The path of the built app `name` (apps/ under the build tree).
inline std::string app_path(const std::string& name) {
  return std::string(MNAS_BINARY_DIR) + "/apps/" + name;
}

}  // namespace mnas::testing
