// mnas_report is a read-only viewer: it must start on any machine that can
// read the database, without the training stack.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

TEST(MnasReport, LinksNoLibTorchOpenCvOrOnnx) {
  const std::string cmd = "ldd " + std::string(MNAS_BINARY_DIR) + "/apps/mnas_report";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0) << out;
  ASSERT_NE(out.find("libsqlite3"), std::string::npos) << out;  // ldd did list the libraries
  for (const char* lib : {"libtorch", "libc10", "libopencv", "libonnx"}) {
    EXPECT_EQ(out.find(lib), std::string::npos) << lib << " linked into mnas_report:\n" << out;
  }
}

}  // namespace
