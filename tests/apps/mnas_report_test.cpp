// mnas_report is a read-only viewer: it must start on any machine that can
// read the database, without the training stack.
#include <gtest/gtest.h>

#include <string>

#include "tests/common/subprocess.h"

namespace {

TEST(MnasReport, LinksNoLibTorchOpenCvOrOnnx) {
  const auto ldd = mnas::testing::run_command("ldd " + mnas::testing::app_path("mnas_report"));
  const std::string& out = ldd.out;
  ASSERT_EQ(ldd.exit_code, 0) << out << ldd.err;
  ASSERT_NE(out.find("libsqlite3"), std::string::npos) << out;  // ldd did list the libraries
  for (const char* lib : {"libtorch", "libc10", "libopencv", "libonnx"}) {
    EXPECT_EQ(out.find(lib), std::string::npos) << lib << " linked into mnas_report:\n" << out;
  }
}

}  // namespace
