// mnas_report is a read-only viewer: it must start on any machine that can
// read the database, without the training stack.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// Strategies side by side: two synthetic searches, compared. The figures
// are checked against the trial listings of each database (mnas_report
// --trials), computed here from the definitions.
TEST(MnasReport, CompareSummarisesEachStrategyFromItsTrials) {
  char tmpl[] = "/tmp/mnas_compare_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  // Single-fidelity searches (no "rungs"), so that every trial's listed
  // result is its rung-0 result, the one --compare uses.
  {
    std::ofstream cfg(dir + "/one-rung.json");
    cfg << R"({"objective": "synthetic", "budget": 10, "strategy": {"name": "random"}})";
  }
  for (const std::string s : {"random", "evolution"}) {
    const auto r = mnas::testing::run_command(
        mnas::testing::app_path("mnas_search") + " --config " + dir + "/one-rung.json --strategy " + s +
        " --measure-top 0 --quiet --threads 1 --db " + dir + "/" + s + ".db");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string report = mnas::testing::app_path("mnas_report");
  const auto cmp = mnas::testing::run_command(report + " --compare " + dir + "/random.db " + dir +
                                              "/evolution.db --format json");
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  const auto j = nlohmann::json::parse(cmp.out);
  ASSERT_EQ(j.at("runs").size(), 2u);
  ASSERT_EQ(j.at("strategies").size(), 2u);
  for (const auto& run : j.at("runs")) {
    const auto trials = mnas::testing::run_command(report + " --db " + run.at("source").get<std::string>() +
                                                   " --trials --format json");
    ASSERT_EQ(trials.exit_code, 0) << trials.err;
    double best = -1;
    std::vector<double> late;  // trials 8 and 9 of 10
    for (const auto& t : nlohmann::json::parse(trials.out)) {
      if (t.at("status") != "done") continue;
      best = std::max(best, t.at("reward").get<double>());
      if (t.at("trial").get<int>() >= 8) late.push_back(t.at("reward").get<double>());
    }
    ASSERT_EQ(late.size(), 2u);
    EXPECT_EQ(run.at("trials"), 10);
    EXPECT_DOUBLE_EQ(run.at("best_reward").get<double>(), best);
    EXPECT_DOUBLE_EQ(run.at("late_median_reward").get<double>(), (late[0] + late[1]) / 2);
    const double hv = run.at("hypervolume").get<double>();
    EXPECT_GT(hv, 0.0);
    EXPECT_LE(hv, 1.0);
  }
  EXPECT_EQ(j.at("reference_latency_ms"), 150.0);  // 2x the default 75 ms target

  const auto html = mnas::testing::run_command(report + " --compare " + dir + "/random.db " + dir +
                                               "/evolution.db --out " + dir + "/cmp.html");
  ASSERT_EQ(html.exit_code, 0) << html.err;
  std::ifstream in(dir + "/cmp.html");
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("Learning curves"), std::string::npos);
  EXPECT_NE(page.find("<polyline"), std::string::npos);

  // Runs with different targets are refused, naming both databases.
  const auto other = mnas::testing::run_command(
      mnas::testing::app_path("mnas_search") + " --objective synthetic --strategy random --budget 2 "
      "--target-latency 50ms --measure-top 0 --quiet --threads 1 --db " + dir + "/t50.db");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  const auto bad = mnas::testing::run_command(report + " --compare " + dir + "/random.db " + dir + "/t50.db");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("t50.db"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("not comparable"), std::string::npos) << bad.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
