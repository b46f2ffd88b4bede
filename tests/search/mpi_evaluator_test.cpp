// The MPI evaluator under a real mpirun with 3 ranks (controller + 2 workers),
// including a worker that dies mid-trial (issue 6).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace {

struct Run {
  int exit_code = -1;
  std::vector<nlohmann::json> results;
  std::vector<std::string> events;
};

Run run_driver(int trials, int kill_rank, int kill_trial) {
  const std::string cmd = std::string(MNAS_MPIEXEC) +
                          " --allow-run-as-root --oversubscribe --enable-recovery -np 3 " +
                          MNAS_MPI_DRIVER + " " + std::to_string(trials) + " " +
                          std::to_string(kill_rank) + " " + std::to_string(kill_trial) +
                          " 2>/dev/null";
  Run run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return run;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t end = out.find('\n', pos);
    const std::string line = out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? out.size() : end + 1;
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    if (j.contains("result")) run.results.push_back(j["result"]);
    if (j.contains("event")) run.events.push_back(j["event"]);
  }
  return run;
}

TEST(MpiEvaluator, TwoWorkersShareTheTrials) {
  const auto run = run_driver(8, -1, -1);
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.results.size(), 8u);
  std::set<int64_t> trials;
  std::set<std::string> workers;
  for (const auto& r : run.results) {
    EXPECT_EQ(r.at("status"), "ok");
    EXPECT_GT(r.at("latency_ms").get<double>(), 0.0) << "latency comes from the controller";
    EXPECT_GT(r.at("macs").get<int64_t>(), 0);
    trials.insert(r.at("trial").get<int64_t>());
    workers.insert(r.at("worker").get<std::string>().substr(0, 5));
  }
  EXPECT_EQ(trials.size(), 8u);
  EXPECT_EQ(workers, (std::set<std::string>{"rank1", "rank2"}));
  EXPECT_TRUE(run.events.empty());
}

TEST(MpiEvaluator, KilledWorkerTrialIsRequeuedAndTheSearchFinishes) {
  const auto run = run_driver(10, /*kill_rank=*/2, /*kill_trial=*/3);
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_EQ(run.results.size(), 10u);
  std::map<int64_t, std::string> worker_of;
  for (const auto& r : run.results) {
    EXPECT_EQ(r.at("status"), "ok");
    EXPECT_TRUE(worker_of.emplace(r.at("trial").get<int64_t>(), r.at("worker").get<std::string>()).second)
        << "trial returned twice";
  }
  ASSERT_EQ(worker_of.size(), 10u);
  // Trial 3 was re-run on the surviving worker.
  EXPECT_EQ(worker_of.at(3).substr(0, 5), "rank1");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_NE(run.events[0].find("rank2"), std::string::npos) << run.events[0];
  EXPECT_NE(run.events[0].find("trial 3"), std::string::npos) << run.events[0];
}

}  // namespace

namespace {

// mnas_search itself under mpirun (controller + 2 workers): the experiment
// database holds every trial once, evaluated by both workers.
TEST(MpiSearch, MnasSearchUnderMpirunRecordsEveryTrial) {
  const std::string db = ::testing::TempDir() + "mpi_search_test.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  const std::string bin = std::string(MNAS_BINARY_DIR) + "/apps/";
  const std::string run = std::string(MNAS_MPIEXEC) +
                          " --allow-run-as-root --oversubscribe --enable-recovery -np 3 " + bin +
                          "mnas_search --objective synthetic --strategy random --budget 8 "
                          "--delay-ms 100 --threads 1 --quiet --db " + db + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(run.c_str()), 0);
  FILE* pipe = popen((bin + "mnas_report --trials --format json --db " + db).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0);
  const auto trials = nlohmann::json::parse(out);
  ASSERT_EQ(trials.size(), 8u) << out.substr(0, 500);
  std::set<std::string> workers;
  for (const auto& t : trials) {
    EXPECT_EQ(t.at("status"), "done");
    workers.insert(t.at("worker").get<std::string>().substr(0, 5));
  }
  EXPECT_EQ(workers, (std::set<std::string>{"rank1", "rank2"}));
}

}  // namespace
