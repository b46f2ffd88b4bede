// mnas_train end to end (issue #14): the resolution --eval uses, undecodable
// images, a resumed checkpoint past max_steps, flag and config validation,
// a child too large to build, and the allocator settings of every LibTorch
// app of the build.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "run_app.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kTinyArch = "'r1_k3_s22_e1_i16_o8_noskip r1_k3_s22_e3_i8_o16_se0.25'";

std::string temp_dir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "mnas_train_app_" + name + "_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << dir;
  return dir;
}

// A short synthetic run (16 px, 4096 images, batch 256: 16 steps an epoch).
std::string synthetic_run(const std::string& extra) {
  return std::string("--dataset synthetic --arch ") + kTinyArch +
         " --image-size 16 --batch-size 256 --threads 1 -q " + extra;
}

bool contains_bytes(const fs::path& file, const std::string& needle) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  return bytes.find(needle) != std::string::npos;
}

// Every executable of the build that links LibTorch (its dynamic section
// names libtorch) applies the allocator settings before main(): run with
// MNAS_CHECK_MALLOC_TUNING=1 it reports them and exits. A new app or bench
// linked without them fails here without being listed anywhere.
TEST(MallocTuning, EveryLibTorchExecutableAppliesItAtStartup) {
  int checked = 0;
  bool saw_train = false, saw_export = false;
  for (const char* sub : {"apps", "bench"}) {
    const fs::path dir = fs::path(MNAS_BINARY_DIR) / sub;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file() || (fs::status(e).permissions() & fs::perms::owner_exec) == fs::perms::none) continue;
      if (!contains_bytes(e.path(), "libtorch")) continue;
      const std::string out_file = ::testing::TempDir() + "malloc_tuning_check";
      const std::string cmd = "env MNAS_CHECK_MALLOC_TUNING=1 '" + e.path().string() + "' --help >/dev/null 2>'" +
                              out_file + "'";
      const int status = std::system(cmd.c_str());
      std::ifstream err(out_file);
      const std::string text((std::istreambuf_iterator<char>(err)), {});
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  text.find("mnas malloc tuning: active") != std::string::npos)
          << e.path() << " links LibTorch but does not apply common/malloc_tuning.h at start-up: " << text;
      ++checked;
      saw_train |= e.path().filename() == "mnas_train";
      saw_export |= e.path().filename() == "mnas_export";
    }
  }
  EXPECT_TRUE(saw_train);
  EXPECT_TRUE(saw_export);
  EXPECT_GE(checked, 2);
}

// Progressive resizing: the first epoch at 8 px. A checkpoint from that
// phase is evaluated at 8 px (said in the JSON and on stderr), or at
// --image-size when given.
TEST(MnasTrainApp, EvalUsesTheResolutionTheCheckpointWasTrainedAt) {
  const std::string dir = temp_dir("eval");
  const std::string ckpt = dir + "/c.ckpt";
  const auto t = run_app("mnas_train", synthetic_run("--epochs 2 --set low_res_size=8 --set low_res_epochs=1 "
                                                     "--set ema_decay=0 --max-steps 3 --checkpoint " + ckpt));
  ASSERT_EQ(t.exit_code, 0) << t.err << t.out;
  const auto e = run_app("mnas_train", "--eval " + ckpt + " --dataset synthetic --threads 1");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto j = json::parse(e.out);
  EXPECT_EQ(j.at("test").at("image_size"), 8);
  EXPECT_EQ(j.at("test").at("image_size_from"), "checkpoint");
  EXPECT_NE(e.err.find("8 px"), std::string::npos) << e.err;
  const auto f = run_app("mnas_train", "--eval " + ckpt + " --dataset synthetic --threads 1 --image-size 16");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(json::parse(f.out).at("test").at("image_size"), 16);
  EXPECT_EQ(json::parse(f.out).at("test").at("image_size_from"), "--image-size");
  fs::remove_all(dir);
}

// An ImageNet-style folder with one unreadable file among valid JPEGs.
TEST(MnasTrainApp, AnUndecodableImageIsSkippedNamedOnceAndCounted) {
  const std::string dir = temp_dir("folder");
  for (const char* split : {"train", "val"}) {
    for (const char* cls : {"cat", "dog"}) {
      fs::create_directories(fs::path(dir) / split / cls);
      const int n = std::string(split) == "train" && std::string(cls) == "cat" ? 7 : 8;
      for (int i = 0; i < n; ++i) {
        cv::Mat img(40, 40, CV_8UC3, cv::Scalar(cls[0] == 'c' ? 200 : 20, 25 * i, 90));
        cv::imwrite(dir + "/" + split + "/" + cls + "/" + std::to_string(i) + ".jpg", img);
      }
    }
  }
  std::ofstream(dir + "/train/cat/corrupt.jpg") << "not a jpeg image\n";  // 17 bytes of text
  const std::string args = std::string("--config ") + MNAS_SOURCE_DIR + "/experiments/a1.json --arch " + kTinyArch +
                           " --data " + dir + " --max-steps 8 --batch-size 4 --micro-batch 2 --image-size 32 " +
                           "--threads 1 -q --checkpoint " + dir + "/a1.ckpt";
  const auto r = run_app("mnas_train", args);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_EQ(j.at("bad_images"), 1);
  const auto first = r.err.find("corrupt.jpg");
  ASSERT_NE(first, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("corrupt.jpg", first + 1), std::string::npos) << "named more than once: " << r.err;
  // Above the allowed share: a clear error, exit 2.
  const auto strict = run_app("mnas_train", args + " --set max_bad_image_fraction=0");
  EXPECT_EQ(strict.exit_code, 2) << strict.out;
  EXPECT_NE(strict.err.find("max_bad_image_fraction"), std::string::npos) << strict.err;
  fs::remove_all(dir);
}

TEST(MnasTrainApp, ResumePastMaxStepsRunsNoStepAndSaysSo) {
  const std::string dir = temp_dir("resume");
  const std::string ckpt = dir + "/c.ckpt";
  const auto a = run_app("mnas_train", synthetic_run("--epochs 1 --max-steps 4 --checkpoint " + ckpt));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const double loss = json::parse(a.out).at("train_loss").get<double>();
  const auto b = run_app("mnas_train", synthetic_run("--epochs 1 --max-steps 2 --resume --checkpoint " + ckpt));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto j = json::parse(b.out);
  EXPECT_EQ(j.at("status"), "ok");
  EXPECT_EQ(j.at("steps"), 4);
  EXPECT_EQ(j.at("steps_run"), 0);
  EXPECT_NE(j.at("message").get<std::string>().find("no step was run"), std::string::npos) << j.dump();
  ASSERT_TRUE(j.at("train_loss").is_number()) << j.dump();
  EXPECT_DOUBLE_EQ(j.at("train_loss").get<double>(), loss);
  fs::remove_all(dir);
}

// Bad flags and configs: exit 2 with a message naming the input, never a
// wrapped value, thousands of threads, a step count that overflows or an
// internal stream error.
TEST(MnasTrainApp, RejectsBadFlagsAndConfigs) {
  const std::string dir = temp_dir("flags");
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {synthetic_run("--threads 100000"), "threads"},
      {synthetic_run("--seed -1"), "seed"},
      {synthetic_run("--device bogus"), "cpu | cuda | cuda:N"},
      {synthetic_run("--epochs 1e19"), "epochs"},
      {synthetic_run("--epochs inf"), "epochs"},
      {"--config " + dir, "directory"},
      {"--proxy --proxy-config " + dir, "directory"},
      {"--proxy --dataset synthetic --seed -1", "seed"},
      {"--proxy --dataset synthetic --threads 100000", "threads"},
      {"--proxy --dataset synthetic --device bogus", "cpu | cuda | cuda:N"},
  };
  for (const auto& c : cases) {
    const auto r = run_app("mnas_train", c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("basic_filebuf"), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
  // The strict JSON reader: duplicate keys are refused too.
  std::ofstream(dir + "/dup.json") << R"({"epochs": 1, "epochs": 2})";
  const auto dup = run_app("mnas_train", "--config " + dir + "/dup.json");
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("epochs"), std::string::npos) << dup.err;
  fs::remove_all(dir);
}

// A network whose first block needs 17 GB cannot be built under a 6 GB
// address space: the documented "failed" status with LibTorch's first line,
// exit 1, not a 27-line backtrace and exit 2; in a full run and in a proxy
// child alike.
TEST(MnasTrainApp, ANetworkTooLargeToBuildIsAFailedRun) {
  const std::string dir = temp_dir("too_large");
  const std::string err_file = dir + "/err", out_file = dir + "/out", proxy = dir + "/proxy.json";
  std::ofstream(proxy) << R"({"dataset": "synthetic", "image_size": 16, "num_classes": 4,
                              "train_subset": 256, "val_subset": 64, "threads": 1})";
  const std::string app = "'" + std::string(MNAS_BINARY_DIR) + "/apps/mnas_train'";
  const std::vector<std::string> runs = {"--dataset synthetic --image-size 16 --threads 1 -q",
                                         "--proxy --proxy-config " + proxy};
  for (const auto& args : runs) {
    const std::string cmd = "ulimit -v 6000000; exec " + app + " " + args +
                            " --arch r1_k3_s11_e16_i16384_o16384 >'" + out_file + "' 2>'" + err_file + "'";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << "killed: " << cmd;
    std::ifstream out(out_file), err(err_file);
    const std::string out_text((std::istreambuf_iterator<char>(out)), {}),
        err_text((std::istreambuf_iterator<char>(err)), {});
    EXPECT_EQ(WEXITSTATUS(status), 1) << args << "\n" << out_text << err_text;
    EXPECT_EQ(err_text.find("frame #"), std::string::npos) << args << "\n" << err_text;
    const auto j = json::parse(out_text.empty() ? "{}" : out_text);
    EXPECT_EQ(j.value("status", ""), "failed") << args;
    const std::string message = j.value("message", "");
    EXPECT_NE(message.find("can't allocate memory"), std::string::npos) << args << "\n" << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  fs::remove_all(dir);
}

}  // namespace
