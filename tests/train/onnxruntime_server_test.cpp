// The long-lived ONNX Runtime server (train/onnxruntime_server.h, node
// tools/onnxruntime/serve.js): outputs of a hand-built graph with known
// values, timings of several models in interleaved rounds with reference
// runs, node pinned to one CPU during a timing request and given back its
// affinity after it, a bad model file (or one that cannot run on the given
// shape) that is a clear error naming it while the server keeps serving,
// and a missing package that names scripts/setup.sh.
#include "train/onnxruntime_server.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>

#include "common/error.h"
#include "tests/common/affine_onnx_model.h"
#include "tests/common/onnxruntime_available.h"

namespace mnas::onnxruntime {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("mnas_ort_server_test_" + name + "_" + std::to_string(::getpid()))).string();
}

using mnas::testing::write_affine_model;

TEST(OnnxRuntimeServer, RunsManyModelsInOneProcess) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string model = write_affine_model(temp_path("affine.onnx"));
  Server s;
  EXPECT_FALSE(s.version().empty());
  s.load("a", model, Settings{});
  Settings other;
  other.opt_level = "disabled";
  s.load("b", model, other);
  const Tensor in{{2, 3}, {1, 2, 3, -1, 0, 4}};
  for (const char* name : {"a", "b"}) {
    const Tensor out = s.run(name, in);
    EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 3}));
    // x * [1, 2, 3] + 0.5 by hand.
    EXPECT_EQ(out.data, (std::vector<float>{1.5f, 4.5f, 9.5f, -0.5f, 0.5f, 12.5f})) << name;
  }
  fs::remove(model);
}

TEST(OnnxRuntimeServer, TimesModelsInInterleavedRoundsWithReferenceRuns) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string model = write_affine_model(temp_path("timed.onnx"));
  Server s;
  for (const char* name : {"m1", "m2", "ref"}) s.load(name, model, Settings{});
  TimingRequest q;
  q.models = {"m1", "m2"};
  q.reference = {"ref"};
  q.rounds = 3;
  q.warmup = 1;
  q.min_runs = 4;
  q.max_runs = 6;
  q.min_time_ms = 0;
  const auto per_run = s.time(q);
  ASSERT_EQ(per_run.size(), 2u);
  for (const auto& rounds : per_run) {
    ASSERT_EQ(rounds.size(), 3u);
    for (const auto& r : rounds) {
      EXPECT_EQ(r.run_ms.size(), 4u);  // min_runs, as min_time_ms is 0
      EXPECT_EQ(r.reference_ms.size(), r.run_ms.size());
      for (double t : r.run_ms) EXPECT_GT(t, 0.0);
    }
  }
  q.per_run = false;  // one reference run per round's window
  for (const auto& rounds : s.time(q)) {
    for (const auto& r : rounds) EXPECT_EQ(r.reference_ms.size(), 1u);
  }
  fs::remove(model);
}

// The "Cpus_allowed_list" of every thread of process `pid`, as the kernel reports it.
std::set<std::string> thread_cpu_lists(pid_t pid) {
  std::set<std::string> lists;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Cpus_allowed_list:", 0) == 0) lists.insert(line.substr(line.find_first_not_of(" \t", 18)));
    }
  }
  return lists;
}

TEST(OnnxRuntimeServer, PinsEveryNodeThreadToTheRequestedCpuWhileTimingAndRestoresThem) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) if (CPU_ISSET(c, &mask)) cpu = c;
  const std::string model = write_affine_model(temp_path("pinned.onnx"));
  Server s;
  s.load("m", model, Settings{});
  const auto before = thread_cpu_lists(s.pid());
  ASSERT_FALSE(before.empty());
  TimingRequest q;
  q.models = {"m"};
  q.min_runs = 1;
  q.max_runs = 1 << 30;
  q.min_time_ms = 1500;  // long enough to look at the threads while it runs
  q.cpu = cpu;
  auto timing = std::async(std::launch::async, [&] { return s.time(q); });
  bool seen_pinned = false;
  while (!seen_pinned && timing.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    seen_pinned = thread_cpu_lists(s.pid()) == std::set<std::string>{std::to_string(cpu)};
  }
  EXPECT_FALSE(timing.get().empty());
  EXPECT_TRUE(seen_pinned) << "node's threads were never all on CPU " << cpu << " during the request";
  EXPECT_EQ(thread_cpu_lists(s.pid()), before);  // given back
  q.min_time_ms = 0;
  q.cpu = CPU_SETSIZE - 1;  // not a CPU of this machine
  if (!CPU_ISSET(q.cpu, &mask)) {
    try {
      s.time(q);
      ADD_FAILURE() << "a CPU the process may not use was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("CPU " + std::to_string(q.cpu)), std::string::npos) << e.what();
    }
    EXPECT_EQ(thread_cpu_lists(s.pid()), before);
    EXPECT_FALSE(s.time(TimingRequest{{"m"}, {}, true, 1, 0, 0, 1, 1, 0}).empty());  // still serving
  }
  fs::remove(model);
}

TEST(OnnxRuntimeServer, BadModelFileIsAClearErrorAndTheServerKeepsServing) {
  MNAS_SKIP_WITHOUT_ONNXRUNTIME();
  const std::string good = write_affine_model(temp_path("good.onnx"));
  const std::string bad = temp_path("bad.onnx");
  std::ofstream(bad) << "this is not an ONNX model";
  Server s;
  try {
    s.load("bad", bad, Settings{});
    ADD_FAILURE() << "loaded a bad file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.load("missing", temp_path("missing.onnx"), Settings{}), Error);
  EXPECT_THROW(s.run("bad", Tensor{{2, 3}, std::vector<float>(6, 0.f)}), Error);  // never loaded
  try {  // the model takes [2, 3]: refused at load, not at the first timing
    s.load("shape", good, Settings{}, {2, 4});
    ADD_FAILURE() << "loaded with a shape the model cannot run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(good), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2,4]"), std::string::npos) << e.what();
  }
  Settings wrong;
  wrong.opt_level = "max";
  EXPECT_THROW(s.load("w", good, wrong), ConfigError);
  // Still serving.
  s.load("good", good, Settings{});
  EXPECT_EQ(s.run("good", Tensor{{2, 3}, std::vector<float>(6, 1.f)}).data,
            (std::vector<float>{1.5f, 2.5f, 3.5f, 1.5f, 2.5f, 3.5f}));
  fs::remove(good);
  fs::remove(bad);
}

TEST(OnnxRuntimeServer, MissingPackageNamesSetup) {
  const std::string empty = temp_path("empty_dir");
  fs::create_directories(empty);
  setenv("MNAS_ONNXRUNTIME_DIR", empty.c_str(), 1);
  try {
    Server s;
    ADD_FAILURE() << "started without the package";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh"), std::string::npos) << e.what();
  }
  unsetenv("MNAS_ONNXRUNTIME_DIR");
  fs::remove_all(empty);
}

}  // namespace
}  // namespace mnas::onnxruntime
