// mnas_export end to end (issue #14): outputs never over an input, verified
// exports written atomically with a tolerance that scales with the logits,
// bad tolerances refused, edited checkpoints refused with a clear error.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_app.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class MnasExportApp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "mnas_export_app_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    ckpt_ = dir_ + "/c.ckpt";
    const auto r = run_app("mnas_train",
                           "--dataset synthetic --arch 'r1_k3_s22_e1_i16_o8_noskip r1_k3_s22_e3_i8_o16_se0.25' "
                           "--image-size 16 --batch-size 64 --threads 1 -q --max-steps 3 --checkpoint " + ckpt_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ckpt_bytes_ = read(ckpt_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  size_t files() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}));
  }
  std::string dir_, ckpt_, ckpt_bytes_;
};

TEST_F(MnasExportApp, RefusesAnOutputThatIsAnInput) {
  fs::create_symlink(ckpt_, dir_ + "/link.ckpt");
  const std::string cases[] = {
      ckpt_ + " --onnx " + ckpt_ + " --no-verify",
      ckpt_ + " --torchscript " + ckpt_ + " --no-verify",
      ckpt_ + " --onnx " + dir_ + "/link.ckpt --no-verify",
      ckpt_ + " --onnx " + dir_ + "/same --torchscript " + dir_ + "/same --no-verify",
  };
  for (const auto& args : cases) {
    const auto r = run_app("mnas_export", args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("would destroy the"), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(read(ckpt_), ckpt_bytes_) << args;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/same"));
}

TEST_F(MnasExportApp, RejectsToleranceThatIsNotAFiniteNonNegativeNumber) {
  for (const char* t : {"nan", "-1", "inf"}) {
    const auto r = run_app("mnas_export", ckpt_ + " --onnx " + dir_ + "/m.onnx --tolerance " + t);
    EXPECT_EQ(r.exit_code, 2) << t << "\n" << r.out;
    EXPECT_NE(r.err.find("tolerance"), std::string::npos) << t << "\n" << r.err;
    const auto q = run_app("mnas_export", ckpt_ + " --onnx " + dir_ + "/m.onnx --rtol " + t);
    EXPECT_EQ(q.exit_code, 2) << t << "\n" << q.out;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/m.onnx"));
}

// A tolerance nothing meets: exit 2, nothing under either requested name, no
// temporary left; the default writes both and reports top-1 agreement.
TEST_F(MnasExportApp, WritesOnlyVerifiedExports) {
  const std::string outs = " --onnx " + dir_ + "/m.onnx --torchscript " + dir_ + "/m.pt --batch 4";
  const auto strict = run_app("mnas_export", ckpt_ + outs + " --tolerance 0 --rtol 0");
  EXPECT_EQ(strict.exit_code, 2) << strict.out;
  EXPECT_NE(strict.err.find("top-1 agreement"), std::string::npos) << strict.err;
  EXPECT_EQ(files(), 1u);  // the checkpoint alone
  const auto r = run_app("mnas_export", ckpt_ + outs);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_DOUBLE_EQ(j.at("onnx").at("top1_agreement").get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j.at("torchscript").at("top1_agreement").get<double>(), 1.0);
  EXPECT_LE(j.at("onnx").at("max_abs_diff").get<double>(), j.at("allowed_diff").get<double>());
  EXPECT_TRUE(fs::exists(dir_ + "/m.onnx"));
  EXPECT_TRUE(fs::exists(dir_ + "/m.pt"));
  EXPECT_EQ(files(), 3u);
}

// --tflite: a TFLite flatbuffer ("TFL3" at offset 4), written only when its
// logits in Arm NN match LibTorch's; never over the checkpoint.
TEST_F(MnasExportApp, WritesTfLiteVerifiedInArmNn) {
  const std::string out = dir_ + "/m.tflite";
  const auto strict = run_app("mnas_export", ckpt_ + " --tflite " + out + " --tolerance 0 --rtol 0 --batch 4");
  EXPECT_EQ(strict.exit_code, 2) << strict.out;
  EXPECT_NE(strict.err.find("Arm NN"), std::string::npos) << strict.err;
  EXPECT_EQ(files(), 1u);
  const auto same = run_app("mnas_export", ckpt_ + " --tflite " + ckpt_ + " --no-verify");
  EXPECT_EQ(same.exit_code, 2) << same.out;
  EXPECT_EQ(read(ckpt_), ckpt_bytes_);
  const auto r = run_app("mnas_export", ckpt_ + " --tflite " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_LE(j.at("tflite").at("max_abs_diff").get<double>(), 1e-4);
  EXPECT_DOUBLE_EQ(j.at("tflite").at("top1_agreement").get<double>(), 1.0);
  const std::string bytes = read(out);
  EXPECT_EQ(static_cast<long long>(bytes.size()), j.at("tflite").at("bytes").get<long long>());
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), "TFL3");
}

// --int8 names the int8 files after the float ones ("m.int8.tflite"), needs
// --onnx or --tflite to name them after, and refuses a calibration of 0
// images; the int8 verification itself is tested in tests/train (this
// fixture's 3-step model has logits too close together for a top-1 check).
TEST_F(MnasExportApp, Int8WritesFilesNamedAfterTheFloatOnes) {
  const auto none = run_app("mnas_export", ckpt_ + " --int8");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("--int8 needs --onnx and/or --tflite"), std::string::npos) << none.err;
  const auto zero = run_app("mnas_export", ckpt_ + " --tflite " + dir_ + "/m.tflite --int8 --calibration 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--calibration must be >= 1 image, got 0"), std::string::npos) << zero.err;
  EXPECT_EQ(files(), 1u);
  const auto r =
      run_app("mnas_export", ckpt_ + " --tflite " + dir_ + "/m.tflite --int8 --calibration 16 --no-verify");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j.at("tflite_int8").at("path"), dir_ + "/m.int8.tflite");
  EXPECT_EQ(j.at("tflite_int8").at("calibration_images"), 16);
  EXPECT_TRUE(j.at("tflite_int8").at("runtime").is_null());
  const std::string f32 = read(dir_ + "/m.tflite"), int8 = read(dir_ + "/m.int8.tflite");
  EXPECT_EQ(static_cast<long long>(int8.size()), j.at("tflite_int8").at("bytes").get<long long>());
  EXPECT_EQ(int8.substr(4, 4), "TFL3");
  EXPECT_LT(int8.size(), f32.size());
  EXPECT_EQ(files(), 3u);
}

}  // namespace
