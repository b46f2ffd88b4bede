// Runs an mnas app as a user would (tests/apps): exit code, stdout, stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs apps/`app` with `args` (already shell-quoted) and captures both
// streams; `env`, when given, holds VAR=value assignments for the app.
inline RunResult run_app(const std::string& app, const std::string& args,
                         const std::string& env = "") {
  // A file of its own per call: ctest runs tests of this binary in parallel.
  std::string err_file = ::testing::TempDir() + app + "_stderr_XXXXXX";
  const int fd = mkstemp(err_file.data());
  if (fd >= 0) close(fd);
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(MNAS_BINARY_DIR) +
                          "/apps/" + app + " " + args + " 2>" + err_file;
  RunResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  std::stringstream ss;
  ss << err.rdbuf();
  r.err = ss.str();
  std::remove(err_file.c_str());
  return r;
}

