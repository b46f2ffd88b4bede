// ONNX Runtime (npm onnxruntime-node through tools/onnxruntime/run.js,
// train/onnxruntime_runner.h): a hand-built graph with known outputs, mnas's
// exported models against LibTorch, and clear errors for corrupt or truncated
// ONNX files and checkpoints and for a missing node or package.
#include "tests/common/affine_onnx_model.h"
#include "tests/common/onnxruntime_available.h"
#include "train/onnxruntime_runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tests/train/tiny_run.h"
#include "train/checkpoint_io.h"
#include "train/export.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;
using test_util::temp_path;
using test_util::tiny_run;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

using mnas::testing::write_affine_model;

TEST(OnnxRuntimeTest, RunsAHandBuiltGraphBatchByBatchWithTimings) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string model = write_affine_model(temp_path("affine.onnx"));
  onnxruntime::Tensor in;
  in.shape = {2, 3};
  // Two batches of [2, 3]: the outputs come back concatenated, [4, 3].
  in.data = {0, 1, 2, -1, -2, -3, 10, 20, 30, 0.25f, 0.5f, 0.75f};
  const auto r = onnxruntime::run(model, in, {}, /*repeat=*/3, /*warmup=*/1);
  EXPECT_EQ(r.version, "1.30.0");  // tools/onnxruntime/package-lock.json
  EXPECT_EQ(r.input_name, "x");
  EXPECT_EQ(r.output_name, "y");
  ASSERT_EQ(r.output.shape, (std::vector<int64_t>{4, 3}));
  const std::vector<float> want = {0.5f, 2.5f, 6.5f, -0.5f, -3.5f, -8.5f, 10.5f, 40.5f, 90.5f, 0.75f, 1.5f, 2.75f};
  EXPECT_EQ(r.output.data, want);
  ASSERT_EQ(r.run_ms.size(), 3u);
  for (double ms : r.run_ms) EXPECT_GT(ms, 0.0);
  EXPECT_EQ(onnxruntime::version(), "1.30.0");
  onnxruntime::Settings bad;
  bad.opt_level = "max";
  EXPECT_THROW(onnxruntime::run(model, in, bad), ConfigError);
  in.data.pop_back();
  EXPECT_THROW(onnxruntime::run(model, in), ConfigError);
  fs::remove(model);
}

// Every op kind of the exporter, exported (verified in OpenCV DNN and ONNX
// Runtime), then run again in ONNX Runtime on an input of the test's own
// against the eager LibTorch model.
TEST(OnnxRuntimeTest, ExportedModelAgreesWithLibTorch) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string ckpt = temp_path("ort_export.ckpt"), onnx = temp_path("ort_export.onnx");
  TrainConfig c = tiny_run(ckpt);
  c.arch = "r1_k3_s22_e1_i16_o8_noskip r2_k5_s22_e3_i8_o16_se0.25_poolskip ds_r1_k3_s11_i16_o16 "
           "cn_r1_k3_s22_i16_o16_se0.25_poolskip r1_k3_s11_e6_i16_o16";
  c.max_steps = 2;
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = onnx;
  o.batch = 2;
  const ExportReport r = export_checkpoint(o);
  EXPECT_EQ(r.onnxruntime_version, "1.30.0");
  EXPECT_GE(r.onnxruntime_max_abs_diff, 0.0);
  EXPECT_LE(r.onnxruntime_max_abs_diff, 1e-4);
  EXPECT_DOUBLE_EQ(r.onnxruntime_top1_agreement, 1.0);
  const auto j = export_report_json(r, o);
  ASSERT_EQ(j.at("onnx").at("verified_in").size(), 2u);
  EXPECT_EQ(j["onnx"]["verified_in"][1]["runtime"], "ONNX Runtime 1.30.0");

  torch::NoGradGuard no_grad;
  const auto x = torch::linspace(-2, 2, 2 * 16 * 16).reshape({2, 1, 16, 16}).contiguous();
  model::MnasNet eager = load_checkpoint_model(ckpt, /*use_ema=*/true);
  eager->eval();
  const auto want = eager->forward(x);
  onnxruntime::Tensor in{{2, 1, 16, 16}, std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel())};
  auto got = onnxruntime::run(onnx, in);
  ASSERT_EQ(got.output.shape, (std::vector<int64_t>{2, 4}));
  const auto logits = torch::from_blob(got.output.data.data(), {2, 4}, torch::kFloat32);
  EXPECT_LE((logits - want).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(logits.argmax(1).equal(want.argmax(1)));
  fs::remove(ckpt);
  fs::remove(onnx);
}

TEST(OnnxRuntimeTest, CorruptOrTruncatedFilesGiveClearErrors) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string model = write_affine_model(temp_path("ort_corrupt.onnx"));
  const std::string bytes = read_bytes(model);
  onnxruntime::Tensor in{{2, 3}, std::vector<float>(6, 1.f)};
  for (const std::string& damaged : {bytes.substr(0, bytes.size() / 2), std::string("not an onnx file at all")}) {
    write_bytes(model, damaged);
    try {
      onnxruntime::run(model, in);
      ADD_FAILURE() << "ran a damaged model";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("ONNX Runtime cannot load '" + model + "'"), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(onnxruntime::run(temp_path("no_such.onnx"), in), Error);

  // A truncated checkpoint: export names the file and writes nothing.
  const std::string ckpt = test_util::tiny_checkpoint("ort_truncated.ckpt");
  const std::string whole = read_bytes(ckpt);
  write_bytes(ckpt, whole.substr(0, whole.size() / 2));
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = temp_path("ort_truncated.onnx");
  try {
    export_checkpoint(o);
    ADD_FAILURE() << "exported a truncated checkpoint";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(ckpt), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.onnx_path));
  fs::remove(ckpt);
  fs::remove(model);
}

// No package under MNAS_ONNXRUNTIME_DIR, or no node: the error says to run
// scripts/setup.sh.
TEST(OnnxRuntimeTest, MissingNodeOrPackageNamesSetup) {
  const std::string model = write_affine_model(temp_path("ort_missing.onnx"));
  onnxruntime::Tensor in{{2, 3}, std::vector<float>(6, 1.f)};
  const std::string empty = temp_path("ort_empty_dir");
  fs::create_directories(empty);
  fs::copy_file(onnxruntime::package_dir() + "/run.js", empty + "/run.js");
  setenv("MNAS_ONNXRUNTIME_DIR", empty.c_str(), 1);
  try {
    onnxruntime::run(model, in);
    ADD_FAILURE() << "ran without the package";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
  }
  unsetenv("MNAS_ONNXRUNTIME_DIR");
  setenv("MNAS_NODE", "/nonexistent/node", 1);
  try {
    onnxruntime::run(model, in);
    ADD_FAILURE() << "ran without node";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
  }
  unsetenv("MNAS_NODE");
  fs::remove_all(empty);
  fs::remove(model);
}

}  // namespace
}  // namespace mnas::train
