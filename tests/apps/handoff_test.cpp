// The hand-offs the docs promise, end to end as a user runs them:
// mnas_search --train-config -> mnas_train --config -> mnas_export.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "run_app.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string make_temp_dir() {
  std::string dir = ::testing::TempDir() + "mnas_handoff_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return "";
  return dir;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

TEST(Handoff, SearchBestTrialTrainsAndExports) {
  const std::string dir = make_temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::string db = dir + "/s.db", best = dir + "/best.json", ckpt = dir + "/c.ckpt";

  // A quick search (training-free objective) that writes its best trial's
  // mnas_train configuration.
  const auto search = run_app("mnas_search", "--objective synthetic --strategy random --budget 6 "
                                             "--measure-top 0 --quiet --threads 1 --db " +
                                                 db + " --train-config " + best);
  ASSERT_EQ(search.exit_code, 0) << search.err;
  ASSERT_TRUE(fs::exists(best));
  const json config = read_json(best);
  ASSERT_TRUE(config.at("arch").is_array());
  EXPECT_EQ(config.at("dataset"), "fashion-mnist");  // the proxy task's dataset by default
  EXPECT_EQ(config.at("image_size"), 32);
  const json& source = config.at("source");
  EXPECT_EQ(source.at("db"), fs::absolute(db).lexically_normal().string());
  const int trial = source.at("trial").get<int>();

  // The same trial is the best one mnas_report lists.
  const auto report = run_app("mnas_report", "--db " + db + " --best 1 --format json");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const json top = json::parse(report.out);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].at("trial").get<int>(), trial);
  EXPECT_EQ(top[0].at("arch"), config.at("arch"));

  // mnas_train accepts the file as it is; flags override its keys.
  const auto train = run_app("mnas_train", "--config " + best +
                                               " --max-steps 3 --threads 1 --set train_subset=256 "
                                               "--set val_holdout=256 --set eval_test=false -q "
                                               "--checkpoint " + ckpt);
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const json result = json::parse(train.out);
  EXPECT_EQ(result.at("status"), "ok");
  EXPECT_EQ(result.at("steps").get<int>(), 3);
  EXPECT_EQ(result.at("source").at("trial").get<int>(), trial);  // provenance kept
  ASSERT_TRUE(fs::exists(ckpt));

  // And the checkpoint exports.
  const auto exported = run_app("mnas_export", ckpt + " --onnx " + dir + "/m.onnx --torchscript " +
                                                   dir + "/m.pt");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_GT(fs::file_size(dir + "/m.onnx"), 1000u);
  EXPECT_GT(fs::file_size(dir + "/m.pt"), 1000u);
  fs::remove_all(dir);
}

TEST(Handoff, ReportWritesTheSameAcceptedConfiguration) {
  const std::string dir = make_temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::string db = dir + "/s.db";
  ASSERT_EQ(run_app("mnas_search", "--objective synthetic --strategy random --budget 3 --measure-top 0 "
                                   "--quiet --threads 1 --db " + db)
                .exit_code,
            0);
  const auto printed = run_app("mnas_report", "--db " + db + " --train-config");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  {
    std::ofstream(dir + "/best.json") << printed.out;
  }
  // The printed configuration parses as an mnas_train config: evaluating a
  // missing checkpoint with it fails on the checkpoint, not on the config.
  const auto check = run_app("mnas_train", "--config " + dir + "/best.json --max-steps 0 --eval " +
                                               dir + "/missing.ckpt");
  EXPECT_EQ(check.err.find("train config"), std::string::npos) << check.err;  // the config itself is fine
  EXPECT_NE(check.err.find("missing.ckpt"), std::string::npos) << check.err;
  fs::remove_all(dir);
}

}  // namespace
