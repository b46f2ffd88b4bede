// Export of trained checkpoints (train/export.h): ONNX in OpenCV DNN and
// TorchScript against LibTorch, atomic writes, refused outputs, and the
// checks of edited checkpoints.
#include "train/export.h"

#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/train/tiny_run.h"
#include "train/checkpoint_io.h"
#include "train/trainer.h"

namespace mnas::train {
namespace {

namespace fs = std::filesystem;
using test_util::temp_path;
using test_util::tiny_checkpoint;
using test_util::tiny_run;

// Every op kind of the exporter (MBConv with and without expansion, SE,
// identity and pooling residuals at stride 1 and 2, SepConv, Conv), run in
// OpenCV DNN (ONNX) and LibTorch (TorchScript) against the eager model.
TEST(ExportTest, OnnxInOpenCvAndTorchScriptMatchLibTorch) {
  const std::string ckpt = temp_path("export.pt"), onnx = temp_path("export.onnx"), ts = temp_path("export.ts");
  TrainConfig c = tiny_run(ckpt);
  c.arch = "r1_k3_s22_e1_i16_o8_noskip r2_k5_s22_e3_i8_o16_se0.25_poolskip ds_r1_k3_s11_i16_o16 "
           "cn_r1_k3_s22_i16_o16_se0.25_poolskip r1_k3_s11_e6_i16_o16";
  c.max_steps = 2;
  ASSERT_EQ(train(c).status, TrialStatus::kOk);
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = onnx;
  o.torchscript_path = ts;
  o.batch = 2;
  const ExportReport r = export_checkpoint(o);  // throws when above 1e-4
  EXPECT_GE(r.onnx_max_abs_diff, 0.0);
  EXPECT_LE(r.onnx_max_abs_diff, 1e-4);
  EXPECT_GE(r.torchscript_max_abs_diff, 0.0);
  EXPECT_LE(r.torchscript_max_abs_diff, 1e-4);
  EXPECT_GT(r.onnx_nodes, 20);
  EXPECT_DOUBLE_EQ(r.onnx_top1_agreement, 1.0);
  EXPECT_DOUBLE_EQ(r.torchscript_top1_agreement, 1.0);
  // The written TorchScript file loads in LibTorch's own torch::jit::load (no
  // Python: tests use only what scripts/setup.sh installs) and computes the
  // eager network's logits on an input of its own.
  torch::jit::Module loaded = torch::jit::load(ts);
  loaded.eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::linspace(-2, 2, 2 * 16 * 16).reshape({2, 1, 16, 16});
  const auto got = loaded.forward({x}).toTensor();
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, 4}));
  model::MnasNet eager = load_checkpoint_model(ckpt, /*use_ema=*/true);
  eager->eval();
  const auto want = eager->forward(x);
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-4 + 1e-3 * want.abs().max().item<double>());
  fs::remove(ckpt);
  fs::remove(onnx);
  fs::remove(ts);
}

// Rewrites the stored meta JSON of a checkpoint (an "edited" checkpoint).
void edit_meta(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  auto dict = torch::pickle_load(bytes).toGenericDict();
  auto meta = nlohmann::json::parse(dict.at("meta").toStringRef());
  edit(meta);
  dict.insert_or_assign("meta", meta.dump());
  const auto out = torch::pickle_save(dict);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(out.data(), static_cast<std::streamsize>(out.size()));
}

size_t files_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

// A tolerance that nothing meets: verification fails, and neither requested
// name nor a temporary is left behind (nothing unverified under the name).
TEST(ExportTest, FailedVerificationWritesNothing) {
  const fs::path dir = temp_path("export_atomic");
  fs::create_directories(dir);
  const std::string ckpt = tiny_checkpoint("export_atomic.ckpt");
  ExportOptions o;
  o.checkpoint = ckpt;
  o.onnx_path = (dir / "m.onnx").string();
  o.torchscript_path = (dir / "m.pt").string();
  o.tolerance = 0;
  o.rtol = 0;
  o.batch = 4;
  try {
    export_checkpoint(o);
    // Bit-exact agreement of OpenCV DNN with LibTorch would be a surprise.
    ADD_FAILURE() << "verification with tolerance 0 passed";
  } catch (const ConfigError&) {
    ADD_FAILURE() << "a verification failure is not a ConfigError";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("top-1 agreement"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in(dir), 0u);
  // The default (1e-4 + 1e-3 x max |logit|) passes and writes both.
  o.tolerance = 1e-4;
  o.rtol = 1e-3;
  const ExportReport r = export_checkpoint(o);
  EXPECT_LE(r.onnx_max_abs_diff, r.allowed_diff);
  EXPECT_TRUE(fs::exists(o.onnx_path));
  EXPECT_TRUE(fs::exists(o.torchscript_path));
  EXPECT_EQ(files_in(dir), 2u);
  for (double bad : {std::nan(""), -1.0, HUGE_VAL}) {
    o.tolerance = bad;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << bad;
    o.tolerance = 1e-4;
    o.rtol = bad;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << bad;
    o.rtol = 1e-3;
  }
  fs::remove_all(dir);
  fs::remove(ckpt);
}

TEST(ExportTest, RefusesOutputsThatAreInputsOrEachOther) {
  const std::string ckpt = tiny_checkpoint("export_same.ckpt");
  const auto size = fs::file_size(ckpt);
  const std::string link = temp_path("export_same_link.ckpt");
  fs::create_symlink(ckpt, link);
  ExportOptions o;
  o.checkpoint = ckpt;
  o.verify = false;
  for (const std::string& out : {ckpt, link}) {
    o.onnx_path = out;
    o.torchscript_path.clear();
    EXPECT_THROW(export_checkpoint(o), ConfigError) << out;
    o.onnx_path.clear();
    o.torchscript_path = out;
    EXPECT_THROW(export_checkpoint(o), ConfigError) << out;
  }
  o.onnx_path = o.torchscript_path = temp_path("export_same.out");
  EXPECT_THROW(export_checkpoint(o), ConfigError);
  EXPECT_FALSE(fs::exists(o.onnx_path));
  EXPECT_EQ(fs::file_size(ckpt), size);
  EXPECT_NO_THROW(read_checkpoint_info(ckpt));
  fs::remove(link);
  fs::remove(ckpt);
}

// A checkpoint whose stored architecture was edited: every tensor name and
// shape is checked (export and --eval alike) with a ConfigError naming the
// tensor, never a raw LibTorch error, a bare map::at or a broadcast copy.
TEST(ExportTest, ChecksTensorNamesAndShapesAgainstTheStoredArch) {
  const std::string ckpt = tiny_checkpoint("export_edited.ckpt");
  const std::string onnx = temp_path("export_edited.onnx");
  TrainConfig data;
  data.dataset = "synthetic";
  data.threads = 1;
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      {"input channels 1 -> 3", [](nlohmann::json& m) { m["global_params"]["input_channels"] = 3; }},
      {"expansion e1 -> e6",
       [](nlohmann::json& m) { m["block_strings"][0] = "r1_k3_s22_e6_i16_o8_noskip"; }},
      {"one block more",
       [](nlohmann::json& m) { m["block_strings"].push_back("r1_k3_s11_e1_i16_o16"); }},
      {"one block fewer", [](nlohmann::json& m) { m["block_strings"].erase(1); }},
  };
  for (const auto& [what, edit] : edits) {
    const std::string edited = temp_path("export_edited_copy.ckpt");
    fs::copy_file(ckpt, edited, fs::copy_options::overwrite_existing);
    edit_meta(edited, edit);
    ExportOptions o;
    o.checkpoint = edited;
    o.onnx_path = onnx;
    try {
      export_checkpoint(o);
      ADD_FAILURE() << what << ": exported";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("tensor '"), std::string::npos) << what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": not a ConfigError: " << e.what();
    }
    EXPECT_FALSE(fs::exists(onnx)) << what;
    EXPECT_THROW(evaluate_checkpoint(edited, data), ConfigError) << what;
    fs::remove(edited);
  }
  fs::remove(ckpt);
}

}  // namespace
}  // namespace mnas::train
