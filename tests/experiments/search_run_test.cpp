// The search loop end to end on the synthetic objective, in process and
// through the mnas_search binary, including kill -9 and --resume.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "../space/expect_throw_msg.h"
#include "tests/common/subprocess.h"
#include "common/error.h"
#include "db/experiment_store.h"
#include "experiments/html_report.h"
#include "experiments/report.h"
#include "latency/builtin_profiles.h"
#include "space/block_codec.h"
#include "space/layer_spec.h"
#include "experiments/search_run.h"
#include "experiments/search_steps.h"
#include "search/evaluator.h"
#include "search/reward.h"

extern char** environ;

namespace mnas::experiments {
namespace {

namespace fs = std::filesystem;

class SearchRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mnas_search_run_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::vector<db::TrialRecord> trials_of(const std::string& path) {
  db::Database database(path, db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  return store.trials(store.experiments().at(0).id);
}

RunOptions quiet(const std::string& db) {
  RunOptions r;
  r.db_path = db;
  r.quiet = true;
  return r;
}

TEST_F(SearchRunTest, RunsTheBudgetAndRecordsEveryTrial) {
  ConfigOverrides o;
  o.strategy = "evolution";
  o.budget = 30;
  o.objective = "synthetic";
  std::ostringstream out;
  const auto result = run_search(o, quiet(path("a.db")), out);
  EXPECT_EQ(result.trials_run, 30);
  const auto trials = trials_of(path("a.db"));
  ASSERT_EQ(trials.size(), 30u);
  for (size_t i = 0; i < trials.size(); ++i) {
    const auto& t = trials[i];
    EXPECT_EQ(t.index, static_cast<int64_t>(i));
    EXPECT_EQ(t.status, "done");
    EXPECT_EQ(t.attempts, 1);
    EXPECT_EQ(static_cast<uint64_t>(t.seed), trial_seed(1, t.index));
    ASSERT_TRUE(t.reward && t.accuracy && t.latency_ms && t.macs);
    EXPECT_GT(*t.accuracy, 0.5);
    EXPECT_NEAR(*t.reward, search::reward(*t.accuracy, *t.latency_ms, search::RewardConfig{}),
                1e-12);
  }
  // The summary lists block strings and how to train the best trial.
  EXPECT_NE(out.str().find("block strings"), std::string::npos);
  EXPECT_NE(out.str().find("--train-config > best.json"), std::string::npos);

  // Same db again without --resume: refused, nothing changed.
  EXPECT_THROW_MSG(run_search(o, quiet(path("a.db")), out), ConfigError, "already holds",
                   "--resume");
  // --resume with a contradicting flag: refused, naming the key.
  auto r = quiet(path("a.db"));
  r.resume = true;
  ConfigOverrides more;
  more.budget = 40;
  EXPECT_THROW_MSG(run_search(more, r, out), ConfigError, "'budget'");
  ConfigOverrides target;
  target.target_latency = "80ms";
  EXPECT_THROW_MSG(run_search(target, r, out), ConfigError, "reward.target_ms");
  EXPECT_EQ(trials_of(path("a.db")).size(), 30u);
  // Agreeing flags and a finished experiment: nothing to run.
  ConfigOverrides same;
  same.budget = 30;
  EXPECT_EQ(run_search(same, r, out).trials_run, 0);
  // Nothing to resume.
  auto missing = quiet(path("none.db"));
  missing.resume = true;
  EXPECT_THROW_MSG(run_search({}, missing, out), ConfigError, "none.db");
  EXPECT_FALSE(fs::exists(path("none.db")));
}

// A database written before proxy and deploy were typed holds them as given
// ({"time_limit_s": 70} and {} for the embedded default); it resumes, agreeing
// flags and files included, and contradicting ones are still refused.
TEST_F(SearchRunTest, OldDatabasesWithRawProxyAndDeployResume) {
  ExperimentConfig c;
  c.objective = "synthetic";
  c.budget = 6;
  c.strategy.name = "random";
  nlohmann::json old = to_json(c);
  old["proxy"] = {{"time_limit_s", 70}};
  old["deploy"] = nlohmann::json::object();
  {
    db::Database database(path("old.db"));
    db::ExperimentStore store(database);
    const auto strategy = make_strategy(c);
    store.transaction([&] {
      const int64_t exp = store.create_experiment(old.dump(), static_cast<int64_t>(c.seed),
                                                  c.strategy.name, c.budget);
      store.save_checkpoint(exp, 0, strategy->state().dump(), strategy->weights());
    });
  }
  std::ofstream(path("old.json")) << R"({"objective": "synthetic", "budget": 6,
    "strategy": {"name": "random"}, "proxy": {"time_limit_s": 70}, "deploy": {}})";
  auto r = quiet(path("old.db"));
  r.resume = true;
  std::ostringstream out;
  ConfigOverrides contra;
  contra.budget = 7;
  EXPECT_THROW_MSG(run_search(contra, r, out), ConfigError, "'budget'", "stored 6, given 7");
  ConfigOverrides proxy_contra;
  std::ofstream(path("other.json")) << R"({"objective": "synthetic", "budget": 6,
    "strategy": {"name": "random"}, "proxy": {"time_limit_s": 60}, "deploy": {}})";
  proxy_contra.config_file = path("other.json");
  EXPECT_THROW_MSG(run_search(proxy_contra, r, out), ConfigError, "proxy.time_limit_s");
  ConfigOverrides same;
  same.config_file = path("old.json");
  same.strategy = "random";
  EXPECT_EQ(run_search(same, r, out).trials_run, 6);
  EXPECT_EQ(trials_of(path("old.db")).size(), 6u);
  EXPECT_EQ(run_search({}, r, out).trials_run, 0);
}

// --resume layers its flags with the same function as a new search: the
// check that --reward and --alpha/--beta exclude each other holds there too
// (it was lost on --resume, where "--reward soft --alpha -0.07" on a custom
// -0.07/-0.07 experiment was accepted).
TEST_F(SearchRunTest, ResumeFlagsAreCheckedLikeNewOnes) {
  ConfigOverrides o;
  o.objective = "synthetic";
  o.strategy = "random";
  o.budget = 2;
  o.alpha = -0.07;
  std::ostringstream out;
  ASSERT_EQ(run_search(o, quiet(path("c.db")), out).trials_run, 2);
  auto r = quiet(path("c.db"));
  r.resume = true;
  ConfigOverrides both;
  both.reward = "soft";
  both.alpha = -0.07;
  EXPECT_THROW_MSG(run_search(both, r, out), ConfigError, "exclude each other");
  ConfigOverrides same;
  same.alpha = -0.07;
  EXPECT_EQ(run_search(same, r, out).trials_run, 0);
}

// The real objective on a tiny space: children trained on a synthetic proxy,
// latency from a table profiled on first use, and the best trials measured
// end to end at the end.
TEST_F(SearchRunTest, ProxyObjectiveMeasuresTheBestCandidatesEndToEnd) {
  std::ofstream(path("proxy.json")) << R"({
    "objective": "proxy", "budget": 3, "seed": 5, "strategy": {"name": "random"},
    "space": {"stem_size": 16, "depth_divisor": 8,
              "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                           {"filters": 24, "repeats": 1, "stride": 2}],
              "choices": {"conv_op": ["mbconv3", "mbconv6"], "kernel_size": [3],
                          "se_ratio": [0], "skip": ["identity"],
                          "filter_multiplier": [1.0], "repeat_delta": [0]}},
    "proxy": {"dataset": "synthetic", "image_size": 16, "train_subset": 64, "val_subset": 32,
              "batch_size": 16, "threads": 1, "time_limit_s": 60},
    "deploy": {"image_size": 32, "num_classes": 10},
    "reward": {"target_ms": 75}})";
  ConfigOverrides o;
  o.config_file = path("proxy.json");
  RunOptions r = quiet(path("p.db"));
  r.measure_top = 2;
  std::ostringstream out;
  EXPECT_EQ(run_search(o, r, out).trials_run, 3);
  const auto trials = trials_of(path("p.db"));
  ASSERT_EQ(trials.size(), 3u);
  int measured = 0;
  for (const auto& t : trials) {
    ASSERT_EQ(t.status, "done") << t.message;
    ASSERT_TRUE(t.accuracy && t.latency_ms && t.reward);
    if (t.measured_latency_ms) {
      ++measured;
      // Predicted and measured share the table's units: same order of magnitude.
      EXPECT_GT(*t.measured_latency_ms, *t.latency_ms / 3);
      EXPECT_LT(*t.measured_latency_ms, *t.latency_ms * 3);
    }
  }
  EXPECT_EQ(measured, 2);
  EXPECT_NE(out.str().find("measured end to end"), std::string::npos) << out.str();
}

// Issue #16: on a device profile (pixel1) the latency is the profile's
// estimate of the expanded layers: no table profiled, nothing measured, and
// the summary and the HTML report say which device and how accurate.
TEST_F(SearchRunTest, ProxyObjectiveOnPixel1UsesTheProfileEstimate) {
  std::ofstream(path("pixel1.json")) << R"({
    "objective": "proxy", "budget": 2, "seed": 5, "strategy": {"name": "random"},
    "space": {"stem_size": 16, "depth_divisor": 8,
              "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                           {"filters": 24, "repeats": 1, "stride": 2}],
              "choices": {"conv_op": ["mbconv3", "mbconv6"], "kernel_size": [3],
                          "se_ratio": [0], "skip": ["identity"],
                          "filter_multiplier": [1.0], "repeat_delta": [0]}},
    "proxy": {"dataset": "synthetic", "image_size": 16, "train_subset": 64, "val_subset": 32,
              "batch_size": 16, "threads": 1, "time_limit_s": 60},
    "deploy": {"device": "pixel1", "image_size": 32, "num_classes": 10},
    "reward": {"target_ms": 75}})";
  ConfigOverrides o;
  o.config_file = path("pixel1.json");
  RunOptions r = quiet(path("p.db"));
  r.measure_top = 2;
  std::ostringstream out;
  EXPECT_EQ(run_search(o, r, out).trials_run, 2);
  const auto config = experiment_from_file(path("pixel1.json"));
  const auto params = config.space.global_params(latency::apply_deploy({}, config.deploy));
  for (const auto& t : trials_of(path("p.db"))) {
    ASSERT_EQ(t.status, "done") << t.message;
    ASSERT_TRUE(t.latency_ms);
    EXPECT_FALSE(t.measured_latency_ms);
    EXPECT_DOUBLE_EQ(*t.latency_ms,
                     latency::builtin_profile("pixel1").predict_ms(space::expand_layers(
                         space::decode_arch(space::split_block_strings(t.arch)), params)));
  }
  EXPECT_NE(out.str().find("latency: pixel1 (estimate, fitted profile: held-out mean error 3.6 %"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("not measured here"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("measured end to end"), std::string::npos) << out.str();
  db::Database database(path("p.db"), db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  const auto e = store.experiments().at(0);
  EXPECT_NE(html_report(store, e).find("latency: pixel1 (estimate"), std::string::npos);
  EXPECT_NE(summary_text(store, e, 3).find("latency: pixel1 (estimate"), std::string::npos);
}

// The default experiment predicts Pixel-1 latency; --latency-device cpu gives
// the host's table, and the stored configuration says which.
TEST_F(SearchRunTest, DefaultLatencyDeviceIsPixel1AndCpuIsOneFlagAway) {
  const auto stored_device = [](const std::string& db_path) {
    db::Database database(db_path, db::Database::Mode::kReadOnly);
    db::ExperimentStore store(database);
    return experiment_from_json(nlohmann::json::parse(store.experiments().at(0).config)).deploy;
  };
  ConfigOverrides o;
  o.objective = "synthetic";
  o.budget = 1;
  std::ostringstream out;
  run_search(o, quiet(path("default.db")), out);
  EXPECT_EQ(stored_device(path("default.db")).device, "pixel1");
  o.latency_device = "cpu";
  run_search(o, quiet(path("cpu.db")), out);
  const auto cpu = stored_device(path("cpu.db"));
  EXPECT_EQ(cpu.device, "cpu");
  EXPECT_FALSE(latency::uses_profile(cpu));
  // "auto" is stored as the engine it chose, so a resume keeps it.
  const auto& engines = latency::engine_names();
  EXPECT_NE(std::find(engines.begin(), engines.end(), cpu.engine), engines.end()) << cpu.engine;
}

TEST_F(SearchRunTest, SameSeedSameSearch) {
  for (const char* strategy : {"random", "ppo"}) {
    ConfigOverrides o;
    o.strategy = strategy;
    o.budget = 25;
    o.objective = "synthetic";
    std::ostringstream out;
    const std::string a = path(std::string(strategy) + "1.db"), b = path(std::string(strategy) + "2.db");
    run_search(o, quiet(a), out);
    run_search(o, quiet(b), out);
    const auto ta = trials_of(a), tb = trials_of(b);
    ASSERT_EQ(ta.size(), tb.size());
    std::set<std::string> distinct;
    for (size_t i = 0; i < ta.size(); ++i) {
      EXPECT_EQ(ta[i].arch, tb[i].arch);
      EXPECT_EQ(*ta[i].reward, *tb[i].reward);
      distinct.insert(ta[i].arch);
    }
    EXPECT_GT(distinct.size(), 20u) << strategy;
  }
}

// ---- through the binary ------------------------------------------------------

const std::string kBinary = std::string(MNAS_BINARY_DIR) + "/apps/mnas_search";

struct Output {
  int rc = -1;
  std::string out, err;
};

Output run_binary(const std::string& args) {
  const auto r = mnas::testing::run_command(kBinary + " " + args);
  return {r.exit_code, r.out, r.err};
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kBinary.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, kBinary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0);
  return pid;
}

int64_t finished_in(const std::string& db) {
  try {
    db::Database database(db, db::Database::Mode::kReadOnly);
    db::ExperimentStore store(database);
    const auto e = store.experiments();
    return e.empty() ? 0 : store.count_finished(e.front().id);
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

// Spawns mnas_search with `args`, waits until `at` trials are finished, kills
// it with SIGKILL. Returns false when the process ended first.
bool kill_at(const std::vector<std::string>& args, const std::string& db, int64_t at) {
  const pid_t pid = spawn(args);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (finished_in(db) < at && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST_F(SearchRunTest, KillNineThenResumeEqualsAnUninterruptedSearch) {
  const std::string config = path("exp.json");
  std::ofstream(config) << R"({"objective": "synthetic", "budget": 40, "seed": 11,
    "strategy": {"name": "ppo", "ppo": {"batch_size": 5, "minibatch_size": 5, "epochs": 1}}})";
  const std::string ref = path("ref.db"), db = path("killed.db");
  const auto r = run_binary("--config " + config + " --db " + ref + " --quiet");
  ASSERT_EQ(r.rc, 0) << r.err;

  // Killed twice mid-run (a trial sleeps 20 ms, so the kill lands mid-trial
  // or between the writes of a step), resumed to the end.
  ASSERT_TRUE(kill_at({"--config", config, "--db", db, "--delay-ms", "20", "--quiet"}, db, 8));
  const int64_t after_first = finished_in(db);
  EXPECT_LT(after_first, 40);
  ASSERT_TRUE(kill_at({"--resume", "--db", db, "--delay-ms", "20", "--quiet"}, db, 23));
  const auto done = run_binary("--resume --db " + db);
  ASSERT_EQ(done.rc, 0) << done.err;
  EXPECT_NE(done.out.find("resuming experiment 1"), std::string::npos);

  const auto a = trials_of(ref), b = trials_of(db);
  ASSERT_EQ(a.size(), 40u);
  ASSERT_EQ(b.size(), 40u);  // no trial lost, none added
  int reruns = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(b[i].status, "done");
    EXPECT_EQ(b[i].arch, a[i].arch) << "trial " << i;
    EXPECT_EQ(b[i].decisions, a[i].decisions) << "trial " << i;
    EXPECT_EQ(b[i].seed, a[i].seed);
    EXPECT_EQ(*b[i].reward, *a[i].reward) << "trial " << i;
    reruns += b[i].attempts - 1;
  }
  EXPECT_LE(reruns, 2);  // at most the trial running at each kill
  db::Database database(db, db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  EXPECT_EQ(store.experiments().at(0).status, "done");
  EXPECT_EQ(store.update_log(1).size(), 8u);  // 40 results / batches of 5
}

TEST_F(SearchRunTest, BadInputIsRejectedWithExitCode2AndNothingOnStdout) {
  const std::string db = path("x.db");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--target-latency 75", "unit is missing"}, {"--target-latency 75min", "unknown unit"},
      {"--target-latency 0ms", "> 0"},            {"--strategy grid", "'grid'"},
      {"--reward medium", "medium"},              {"--budget 0", "budget"},
      {"--bogus", "bogus"}};
  for (const auto& [args, message] : cases) {
    const auto r = run_binary(args + " --db " + db);
    EXPECT_EQ(r.rc, 2) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_NE(r.err.find("mnas_search:"), std::string::npos) << args;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << ": " << r.err;
    EXPECT_FALSE(fs::exists(db)) << args;
  }
  ASSERT_EQ(run_binary("--objective synthetic --budget 3 --strategy random --quiet --db " + db).rc, 0);
  const auto again = run_binary("--objective synthetic --budget 3 --db " + db);
  EXPECT_EQ(again.rc, 2);
  EXPECT_EQ(again.out, "");
  EXPECT_NE(again.err.find("already holds experiment 1"), std::string::npos) << again.err;
  const auto contra = run_binary("--resume --strategy ppo --db " + db);
  EXPECT_EQ(contra.rc, 2);
  EXPECT_NE(contra.err.find("strategy.name"), std::string::npos) << contra.err;
  EXPECT_EQ(trials_of(db).size(), 3u);
}

// A strategy that counts how results reach it.
class CountingStrategy : public search::RandomSearch {
 public:
  using RandomSearch::RandomSearch;
  bool observe(int64_t t, const std::vector<int>& d, double r) override {
    ++rewards;
    return RandomSearch::observe(t, d, r);
  }
  bool observe_failure(int64_t, const std::vector<int>&) override {
    ++failures;
    return false;
  }
  int rewards = 0, failures = 0;
};

// Issue #18: a child stopped by the safety-net time limit is recorded as a
// timeout, with the accuracy it reached, its message and no reward, and the
// strategy is told it failed (not given a low reward).
TEST_F(SearchRunTest, TimeoutIsRecordedAsSuchAndIsAFailureToTheStrategy) {
  ExperimentConfig c;
  c.objective = "synthetic";
  c.budget = 3;
  c.strategy.name = "random";
  db::Database database(path("t.db"));
  db::ExperimentStore store(database);
  CountingStrategy strategy(c.space.choice_sizes(), 1);
  int64_t exp = 0;
  store.transaction([&] {
    exp = store.create_experiment(to_json(c).dump(), 1, "random", c.budget);
    store.save_checkpoint(exp, 0, strategy.state().dump(), strategy.weights());
  });
  int calls = 0;
  search::InProcessEvaluator evaluator(
      [&calls](const space::ArchSpec&, uint64_t, const search::ChildStage&) {
        search::ChildOutcome o;
        o.status = calls++ == 1 ? search::TrialStatus::kTimeout : search::TrialStatus::kOk;
        o.accuracy = 0.6;
        if (o.status == search::TrialStatus::kTimeout) {
          o.message = "time limit of 300 s reached at step 5 of 156; held-out top-1 0.6";
        }
        return o;
      },
      [](const space::ArchSpec&) { return 70.0; }, space::GlobalParams{});
  const auto result = run_trials(store, exp, c, strategy, evaluator, quiet(path("t.db")));
  EXPECT_EQ(result.trials_finished, 3);
  EXPECT_EQ(strategy.rewards, 2);
  EXPECT_EQ(strategy.failures, 1);
  const auto trials = store.trials(exp);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[1].status, "timeout");
  EXPECT_FALSE(trials[1].reward.has_value());
  ASSERT_TRUE(trials[1].accuracy.has_value());
  EXPECT_EQ(*trials[1].accuracy, 0.6);
  EXPECT_NE(trials[1].message.find("reached at step 5 of 156"), std::string::npos);
  for (size_t i : {0u, 2u}) {
    EXPECT_EQ(trials[i].status, "done");
    ASSERT_TRUE(trials[i].reward.has_value());
    EXPECT_NEAR(*trials[i].reward, search::reward(0.6, 70.0, c.reward), 1e-12);
  }
}


// ---- multi-fidelity children (issue #18) -----------------------------------

namespace mf {

std::vector<db::RungRecord> rungs_of(const std::string& path) {
  db::Database database(path, db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  return store.rungs(store.experiments().at(0).id);
}

// Trials of rung 0 by reward (ties by index), as the ASHA rule ranks them.
std::vector<int64_t> ranked(const std::vector<db::TrialRecord>& trials) {
  std::vector<std::pair<double, int64_t>> v;
  for (const auto& t : trials) {
    if (t.status == "done") v.emplace_back(-*t.reward, t.index);
  }
  std::sort(v.begin(), v.end());
  std::vector<int64_t> out;
  for (const auto& [r, i] : v) out.push_back(i), (void)r;
  return out;
}

}  // namespace mf

// Synthetic objective, eta 3 over 3 rungs, 27 children: every child trains
// rung 0's 17 steps (1/9 of the default proxy's 156), the final top third of
// rung 0 all reach rung 1 (52 steps) and the top third of rung 1 the full
// proxy; the strategy sees one reward per child; the report ranks by rung.
TEST_F(SearchRunTest, RungsPromoteTheTopThirdAndTheReportRanksByRung) {
  std::ofstream(path("mf.json")) << R"({"objective": "synthetic", "budget": 27, "seed": 3,
    "strategy": {"name": "random"}, "rungs": {"eta": 3, "levels": 3}})";
  ConfigOverrides o;
  o.config_file = path("mf.json");
  RunOptions r;
  r.db_path = path("mf.db");
  std::ostringstream out;
  EXPECT_EQ(run_search(o, r, out).trials_run, 27);
  const auto trials = trials_of(path("mf.db"));
  const auto rungs = mf::rungs_of(path("mf.db"));
  ASSERT_EQ(trials.size(), 27u);
  std::map<int64_t, std::map<int, db::RungRecord>> by_trial;
  for (const auto& x : rungs) {
    EXPECT_EQ(x.status, "done") << x.message;
    EXPECT_EQ(x.steps, x.rung == 1 ? 52 : 156);
    EXPECT_EQ(x.steps_reached, x.steps);
    EXPECT_EQ(x.attempts, 1);
    by_trial[x.index][x.rung] = x;
  }
  // A promotion needs the rung below: rung 2 only from rung 1.
  for (const auto& [index, rs] : by_trial) {
    if (rs.count(2)) {
      EXPECT_TRUE(rs.count(1)) << "trial " << index;
    }
  }
  // The final top 9 of rung 0 all reached rung 1 (ASHA may have promoted a
  // few more that later fell out of the top third).
  const auto order = mf::ranked(trials);
  ASSERT_EQ(order.size(), 27u);
  int n1 = 0;
  for (size_t i = 0; i < 9; ++i) EXPECT_TRUE(by_trial[order[i]].count(1)) << "rank " << i;
  for (const auto& [index, rs] : by_trial) n1 += static_cast<int>(rs.count(1));
  EXPECT_GE(n1, 9);
  EXPECT_LT(n1, 27);
  // Rung 1's top floor(n1 / 3) reached rung 2.
  std::vector<std::pair<double, int64_t>> r1;
  for (const auto& [index, rs] : by_trial) {
    if (rs.count(1)) r1.emplace_back(-*rs.at(1).reward, index);
  }
  std::sort(r1.begin(), r1.end());
  for (size_t i = 0; i < r1.size() / 3; ++i) EXPECT_TRUE(by_trial[r1[i].second].count(2));
  // Rewards per rung: the accuracy of that rung with the trial's latency;
  // the synthetic objective scores a longer budget higher.
  for (const auto& t : trials) {
    for (const auto& [rung, x] : by_trial[t.index]) {
      EXPECT_NEAR(*x.reward, search::reward(*x.accuracy, *t.latency_ms, search::RewardConfig{}), 1e-12);
      EXPECT_GT(*x.accuracy, *t.accuracy);
    }
  }
  // The first promotion takes the slot right after the third rung-0 result.
  const std::string text = out.str();
  const auto third = text.find("[ 3/27]"), promo = text.find("[rung 1/2]"), fourth = text.find("[ 4/27]");
  ASSERT_NE(promo, std::string::npos) << text;
  EXPECT_LT(third, promo);
  EXPECT_LT(promo, fourth);
  EXPECT_NE(text.find("rungs at steps 17/52/156"), std::string::npos) << text;

  // The report: results from the highest rung, ranked by rung first.
  db::Database database(path("mf.db"), db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  const auto lifted = trials_at_highest_rung(store, 1);
  const auto best = best_trials(lifted, 0);
  ASSERT_FALSE(best.empty());
  EXPECT_EQ(best.front().rung, 2);
  for (size_t i = 1; i < best.size(); ++i) EXPECT_LE(best[i].rung, best[i - 1].rung);
  EXPECT_EQ(*best.front().accuracy, *by_trial[best.front().index].at(2).accuracy);
  EXPECT_NE(format_trials(best, Format::kTable).find("rung"), std::string::npos);
  EXPECT_NE(format_trials(best, Format::kCsv).find("trial,status,rung,reward"), std::string::npos);
  const std::string summary = summary_text(store, store.experiments().at(0), 3);
  EXPECT_NE(summary.find("at rung 2 (156 steps, the full proxy)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("never ranks above a higher-rung one"), std::string::npos) << summary;
}

// kill -9 at any moment (mid-trial, mid-promotion, between writes) and
// --resume: the same trials, the same promotions, the same results as a
// search that was never interrupted (one evaluator slot).
TEST_F(SearchRunTest, KillNineThenResumeContinuesPendingPromotions) {
  const std::string config = path("mf.json");
  std::ofstream(config) << R"({"objective": "synthetic", "budget": 30, "seed": 7,
    "strategy": {"name": "ppo", "ppo": {"batch_size": 5, "minibatch_size": 5, "epochs": 1}},
    "rungs": {"eta": 3, "levels": 3}})";
  const std::string ref = path("ref.db"), db = path("killed.db");
  const auto r = run_binary("--config " + config + " --db " + ref + " --quiet");
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_TRUE(kill_at({"--config", config, "--db", db, "--delay-ms", "20", "--quiet"}, db, 7));
  ASSERT_TRUE(kill_at({"--resume", "--db", db, "--delay-ms", "20", "--quiet"}, db, 19));
  const auto done = run_binary("--resume --db " + db);
  ASSERT_EQ(done.rc, 0) << done.err;

  const auto a = trials_of(ref), b = trials_of(db);
  ASSERT_EQ(a.size(), 30u);
  ASSERT_EQ(b.size(), 30u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].status, "done");
    EXPECT_EQ(b[i].arch, a[i].arch) << "trial " << i;
    EXPECT_EQ(*b[i].reward, *a[i].reward) << "trial " << i;
  }
  const auto ra = mf::rungs_of(ref), rb = mf::rungs_of(db);
  ASSERT_EQ(ra.size(), rb.size());
  ASSERT_GE(ra.size(), 10u);
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(rb[i].index, ra[i].index);
    EXPECT_EQ(rb[i].rung, ra[i].rung);
    EXPECT_EQ(rb[i].status, "done");
    EXPECT_EQ(*rb[i].reward, *ra[i].reward);
  }
}

// A promotion left queued or running by a crash is run first on --resume
// (in process: the rows are set back as a kill would leave them).
TEST_F(SearchRunTest, ResumeRunsInterruptedPromotionsFirst) {
  std::ofstream(path("mf.json")) << R"({"objective": "synthetic", "budget": 9, "seed": 2,
    "strategy": {"name": "random"}, "rungs": {"eta": 3, "levels": 2}})";
  ConfigOverrides o;
  o.config_file = path("mf.json");
  std::ostringstream out;
  run_search(o, quiet(path("p.db")), out);
  const auto before = mf::rungs_of(path("p.db"));
  ASSERT_GE(before.size(), 3u);
  {
    db::Database database(path("p.db"));
    database.sql().exec("UPDATE trial_rungs SET status = 'running', accuracy = NULL, reward = NULL "
                        "WHERE rung = 1 AND trial_index = " + std::to_string(before[0].index));
    database.sql().exec("UPDATE trial_rungs SET status = 'queued', accuracy = NULL, reward = NULL "
                        "WHERE rung = 1 AND trial_index = " + std::to_string(before[1].index));
    database.sql().exec("UPDATE experiments SET status = 'running'");
  }
  RunOptions r;
  r.db_path = path("p.db");
  r.resume = true;
  std::ostringstream again;
  EXPECT_EQ(run_search({}, r, again).trials_run, 0);
  EXPECT_NE(again.str().find("2 interrupted promotion(s) to run first"), std::string::npos) << again.str();
  const auto after = mf::rungs_of(path("p.db"));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].status, "done");
    EXPECT_EQ(*after[i].reward, *before[i].reward);
  }
  EXPECT_EQ(after[0].attempts, 2);  // started again
}

// The real proxy on a tiny space with two rungs: each child trains 2 of the
// 4 steps, the better half resume their checkpoint to all 4; the
// checkpoints are removed at the end.
TEST_F(SearchRunTest, TinyProxyChildrenResumeTheirCheckpointsWhenPromoted) {
  std::ofstream(path("proxy.json")) << R"({
    "objective": "proxy", "budget": 4, "seed": 5, "strategy": {"name": "random"},
    "space": {"stem_size": 16, "depth_divisor": 8,
              "skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
                           {"filters": 24, "repeats": 1, "stride": 2}],
              "choices": {"conv_op": ["mbconv3", "mbconv6"], "kernel_size": [3, 5],
                          "se_ratio": [0], "skip": ["identity"],
                          "filter_multiplier": [1.0], "repeat_delta": [0]}},
    "proxy": {"dataset": "synthetic", "image_size": 16, "train_subset": 64, "val_subset": 32,
              "batch_size": 16, "threads": 1, "time_limit_s": 60},
    "deploy": {"image_size": 32, "num_classes": 10},
    "rungs": {"eta": 2, "levels": 2},
    "reward": {"target_ms": 75}})";
  ConfigOverrides o;
  o.config_file = path("proxy.json");
  RunOptions r = quiet(path("p.db"));
  r.measure_top = 0;
  std::ostringstream out;
  EXPECT_EQ(run_search(o, r, out).trials_run, 4);
  const auto trials = trials_of(path("p.db"));
  ASSERT_EQ(trials.size(), 4u);
  for (const auto& t : trials) ASSERT_EQ(t.status, "done") << t.message;
  const auto rungs = mf::rungs_of(path("p.db"));
  ASSERT_GE(rungs.size(), 2u);  // the best of every 2
  for (const auto& x : rungs) {
    EXPECT_EQ(x.rung, 1);
    EXPECT_EQ(x.steps, 4);
    ASSERT_EQ(x.status, "done") << x.message;
    EXPECT_EQ(x.steps_reached, 4);  // resumed at 2, trained on to 4
    ASSERT_TRUE(x.accuracy);
  }
  EXPECT_FALSE(fs::exists(path("p.db") + ".children"));
}

}  // namespace
}  // namespace mnas::experiments
