// Small helpers shared by test suites: a fresh database path, the message of
// a call that throws.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <exception>
#include <string>

namespace mnas::testing {

// A path in the test temp folder with no database (nor its -wal/-shm files).
inline std::string fresh_db(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

// What `f` throws (its what()), or "" when it does not throw.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace mnas::testing
