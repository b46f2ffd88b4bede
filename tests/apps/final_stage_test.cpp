// Issue #17 end to end, as a user runs it: search -> final stage (train,
// test, export, latency) -> report; kill -9 in the final stage and rerun;
// baselines reused from a shared database.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "db/final_store.h"
#include "run_app.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class FinalStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "mnas_final_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    // A tiny space, a training-free search objective and a small deploy
    // geometry keep the test short; the final recipe trains for real on
    // Fashion-MNIST.
    std::ofstream(path("exp.json")) << R"({
      "objective": "synthetic", "budget": 6, "seed": 3, "strategy": {"name": "random"},
      "space": {"stem_size": 16, "depth_divisor": 8,
                "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                             {"filters": 24, "repeats": 1, "stride": 2}],
                "choices": {"conv_op": ["mbconv3", "mbconv6"], "kernel_size": [3, 5],
                            "se_ratio": [0, 0.25], "skip": ["identity"],
                            "filter_multiplier": [1.0], "repeat_delta": [0]}},
      "deploy": {"device": "pixel1", "image_size": 32, "num_classes": 10},
      "reward": {"target_ms": 2}})";
    std::ofstream(path("recipe.json")) << R"({
      "dataset": "fashion-mnist", "image_size": 16, "epochs": 1, "batch_size": 32,
      "train_subset": 128, "optimizer": "sgd", "base_lr": 0.05, "lr_batch_base": 32,
      "schedule": "cosine", "warmup_epochs": 0, "augment": "none", "ema_decay": 0,
      "classifier_init": "zero", "dropout": 0, "log_every": 2})";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  RunResult search(const std::string& db) {
    return run_app("mnas_search", "--config " + path("exp.json") + " --quiet --threads 1 --db " + db);
  }
  RunResult final_stage(const std::string& db, const std::string& extra) {
    return run_app("mnas_search", "--resume --quiet --threads 1 --db " + db + " --final 1 --final-recipe " +
                                      path("recipe.json") + " " + extra);
  }
  json final_json(const std::string& db) {
    const auto r = run_app("mnas_report", "--db " + db + " --final --format json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }

  std::string dir_;
};

const char* kTwoBaselines = "--baselines mobilenet-v2@0.35,mobilenet-v2@0.5";

TEST_F(FinalStageTest, SearchFinalExportReport) {
  const std::string db = path("a.db");
  ASSERT_EQ(search(db).exit_code, 0);
  const auto first = final_stage(db, kTwoBaselines);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The best trial by reward is the found model.
  const auto best = json::parse(run_app("mnas_report", "--db " + db + " --best 1 --format json").out);
  ASSERT_EQ(best.size(), 1u);

  const json rows = final_json(db);
  ASSERT_EQ(rows.size(), 3u) << rows.dump(2);
  int found = 0, baselines = 0;
  for (const auto& r : rows) {
    EXPECT_EQ(r.at("status"), "done") << r.dump(2);
    const double top1 = r.at("test_top1").get<double>();
    EXPECT_GE(top1, 0.0);
    EXPECT_LE(top1, 1.0);
    EXPECT_GT(r.at("device_ms").get<double>(), 0.0);
    EXPECT_GT(r.at("host_ms").get<double>(), 0.0);
    EXPECT_GT(r.at("params").get<int64_t>(), 0);
    for (const char* f : {"checkpoint", "onnx", "torchscript", "tflite"}) {
      const std::string file = r.at("files").at(f).get<std::string>();
      ASSERT_TRUE(fs::exists(file)) << f << " " << file;
      EXPECT_GT(fs::file_size(file), 1000u);
      EXPECT_EQ(r.at("file_bytes").at(f).get<uintmax_t>(), fs::file_size(file));
    }
    // The int8 TFLite file beside the float one, smaller, listed with its
    // size; or, when it missed the agreement target, the reason in the message.
    const std::string int8 = r.at("files").at("tflite_int8").get<std::string>();
    if (!int8.empty()) {
      EXPECT_EQ(fs::path(int8).filename(), "model.int8.tflite");
      EXPECT_EQ(r.at("file_bytes").at("tflite_int8").get<uintmax_t>(), fs::file_size(int8));
      EXPECT_LT(fs::file_size(int8), fs::file_size(r.at("files").at("tflite").get<std::string>()));
    } else {
      EXPECT_NE(r.at("message").get<std::string>().find("int8 export failed: "), std::string::npos) << r.dump(2);
    }
    if (r.at("kind") == "found") {
      ++found;
      EXPECT_EQ(r.at("arch"), best[0].at("arch"));
      EXPECT_EQ(r.at("trial"), best[0].at("trial"));
      EXPECT_TRUE(r.at("margin_vs_mobilenet_v2").contains("device"));
    } else {
      ++baselines;
      EXPECT_EQ(r.at("arch"), "mobilenet-v2");
    }
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(baselines, 2);
  // The exported ONNX file of the found model loads in mnas_export's reader?
  // (export verified it against LibTorch); the CSV lists the same rows.
  const auto csv = run_app("mnas_report", "--db " + db + " --final --format csv");
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4) << csv.out;
  EXPECT_EQ(csv.out.rfind("id,name,kind,status,seed,test_top1,test_top5,device_ms,host_ms", 0), 0u);
  // The HTML report leads with the comparison and its plots.
  const auto html = run_app("mnas_report", "--db " + db + " --out " + path("r.html"));
  ASSERT_EQ(html.exit_code, 0) << html.err;
  std::ifstream in(path("r.html"));
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("Final stage: found models vs hand-designed baselines"), std::string::npos);
  EXPECT_NE(page.find("Test accuracy vs deploy-device latency"), std::string::npos);
  EXPECT_NE(page.find("Test accuracy vs host latency"), std::string::npos);
  EXPECT_NE(page.find(rows[0].at("files").at("onnx").get<std::string>()), std::string::npos);

  // Run again: nothing is redone.
  const auto again = final_stage(db, kTwoBaselines);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find(": training ("), std::string::npos) << again.out;
  const json same = final_json(db);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(same[i].at("test_top1"), rows[i].at("test_top1"));
    EXPECT_EQ(same[i].at("host_ms"), rows[i].at("host_ms"));
  }

  // A second search with the same recipe reuses the baselines of the first
  // database instead of training them again.
  const std::string db2 = path("b.db");
  ASSERT_EQ(search(db2).exit_code, 0);
  const auto reuse = final_stage(db2, std::string(kTwoBaselines) + " --baselines-db " + db);
  ASSERT_EQ(reuse.exit_code, 0) << reuse.err;
  int reused = 0;
  for (const auto& r : final_json(db2)) {
    if (r.at("kind") != "baseline") continue;
    EXPECT_EQ(r.at("reused_from"), db);
    for (const auto& o : rows) {
      if (o.at("name") == r.at("name")) {
        EXPECT_EQ(o.at("test_top1"), r.at("test_top1"));
      }
    }
    ++reused;
  }
  EXPECT_EQ(reused, 2);
}

TEST_F(FinalStageTest, BadFlagsAreRefusedBeforeTheSearch) {
  const std::string db = path("c.db");
  auto r = run_app("mnas_search", "--config " + path("exp.json") + " --db " + db +
                                      " --final 1 --baselines mobilenet-v3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown model 'mobilenet-v3'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db));
  r = run_app("mnas_search", "--config " + path("exp.json") + " --db " + db + " --final-seeds 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("need --final K"), std::string::npos) << r.err;
  r = run_app("mnas_search", "--config " + path("exp.json") + " --db " + db +
                                 " --final 1 --baselines mobilenet-v2@9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("multiplier should be a number in (0, 4]"), std::string::npos) << r.err;
  r = run_app("mnas_report", "--db " + path("none.db") + " --final");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(FinalStageTest, AFolderThatCannotBeCreatedIsAClearError) {
  const std::string db = path("d.db");
  ASSERT_EQ(search(db).exit_code, 0);
  std::ofstream(path("afile")) << "x";
  const auto r = final_stage(db, "--baselines none --final-dir " + path("afile"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot create the final stage's folder"), std::string::npos) << r.err;
  // Nothing was started: a later run with a good folder trains it.
  const auto ok = final_stage(db, "--baselines none --no-host-latency");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const json rows = final_json(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("status"), "done");
}

// Status of every final row of the db's first experiment, in id order.
std::vector<mnas::db::FinalRecord> final_rows(const std::string& db) {
  try {
    mnas::db::Database d(db, mnas::db::Database::Mode::kReadOnly);
    mnas::db::FinalStore store(d);
    return store.models(1);
  } catch (const std::exception&) {
    return {};
  }
}

TEST_F(FinalStageTest, KillNineDuringTrainingThenRerunFinishesWithoutRedoing) {
  const std::string db = path("k.db");
  ASSERT_EQ(search(db).exit_code, 0);
  // Long enough to be caught mid-training, with a checkpoint every ~0.1 s.
  std::ofstream(path("recipe.json")) << R"({
    "dataset": "fashion-mnist", "image_size": 16, "epochs": 1, "batch_size": 16,
    "train_subset": 4000, "optimizer": "sgd", "base_lr": 0.05, "lr_batch_base": 32,
    "schedule": "cosine", "warmup_epochs": 0, "augment": "none", "ema_decay": 0,
    "classifier_init": "zero", "dropout": 0, "checkpoint_minutes": 0.002})";
  const std::string bin = mnas::testing::app_path("mnas_search");
  const std::vector<std::string> args = {bin, "--resume", "--quiet", "--threads", "1", "--db", db,
                                         "--final", "1", "--final-recipe", path("recipe.json"),
                                         "--baselines", "mobilenet-v2@0.35", "--no-host-latency"};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Kill when the found model is trained and the baseline has written a
  // checkpoint mid-training.
  bool caught = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto rows = final_rows(db);
    if (rows.size() == 2 && rows[0].status == "trained" && rows[1].status == "running") {
      bool has_ckpt = false;
      std::error_code ec;
      for (const auto& e : fs::recursive_directory_iterator(path("k.db.final"), ec)) {
        if (e.path().filename() == "model.ckpt" &&
            e.path().parent_path().filename().string().rfind("baseline-", 0) == 0) {
          has_ckpt = true;
        }
      }
      if (has_ckpt) {
        caught = true;
        break;
      }
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(caught) << "the final stage ended before it could be killed mid-training";
  const auto before = final_rows(db);

  const auto rerun = run_app("mnas_search", "--resume --threads 1 --db " + db + " --final 1 "
                                            "--final-recipe " + path("recipe.json") +
                                            " --baselines mobilenet-v2@0.35 --no-host-latency");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find("trial"), std::string::npos);
  EXPECT_NE(rerun.out.find("resuming from"), std::string::npos) << rerun.out;
  const auto after = final_rows(db);
  ASSERT_EQ(after.size(), 2u);
  // The trained model was not trained again; the interrupted one resumed.
  EXPECT_EQ(after[0].attempts, 1);
  EXPECT_EQ(after[0].test_top1, before[0].test_top1);
  EXPECT_EQ(after[1].attempts, 2);
  for (const auto& r : after) {
    EXPECT_EQ(r.status, "done") << r.message;
    EXPECT_TRUE(r.test_top1.has_value());
    EXPECT_TRUE(fs::exists(r.onnx));
  }
}

}  // namespace
