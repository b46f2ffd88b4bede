// Tests that run a model in ONNX Runtime need the npm package that
// scripts/setup.sh installs; where npm cannot be reached setup warns and goes
// on, and these tests skip with that reason instead of failing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace mnas::testing {

// The package folder as train/onnxruntime_runner.h finds it.
inline std::string onnxruntime_dir() {
  const char* env = std::getenv("MNAS_ONNXRUNTIME_DIR");
  if (env && *env) return env;
  return std::string(MNAS_SOURCE_DIR) + "/tools/onnxruntime";
}

inline bool onnxruntime_installed() {
  return std::filesystem::is_regular_file(onnxruntime_dir() +
                                          "/node_modules/onnxruntime-node/package.json");
}

}  // namespace mnas::testing

#define MNAS_SKIP_WITHOUT_ONNXRUNTIME()                                                     \
  do {                                                                                      \
    if (!mnas::testing::onnxruntime_installed()) {                                          \
      GTEST_SKIP() << "ONNX Runtime (npm onnxruntime-node) is not installed in "           \
                   << mnas::testing::onnxruntime_dir()                                      \
                   << "/node_modules: scripts/setup.sh could not reach npm";                \
    }                                                                                       \
  } while (0)
