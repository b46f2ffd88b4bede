// Hostile input to the apps (issue #14): outputs over inputs, two writers on
// one database, JSON nested 100,000 deep, empty and out-of-range flags,
// misleading errors. Every app is run as a user would run it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "run_app.h"

namespace fs = std::filesystem;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Lines of `text` (the header of a CSV listing included).
size_t lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "hostile_" + info->name() + "_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ + "/ro", fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // A finished synthetic search of `budget` trials in `db`.
  void make_search_db(const std::string& db, int budget = 4) {
    const auto r = run_app("mnas_search", "--objective synthetic --strategy random --budget " +
                                              std::to_string(budget) +
                                              " --measure-top 0 --quiet --db " + q(db));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // A JSON document {"budget": [[[...]]]} nested `depth` deep.
  std::string deep_json(int depth) {
    const std::string p = path("deep.json");
    write(p, "{\"budget\": " + std::string(depth, '[') + std::string(depth, ']') + "}");
    return p;
  }

  std::string dir_;
};

// --- 1. an output that is an input ---------------------------------------

TEST_F(Hostile, ReportOutOverItsDatabaseIsRefused) {
  const auto db = path("r.db");
  make_search_db(db);
  const std::string before = read_all(db);
  const auto r = run_app("mnas_report", "--db " + q(db) + " --out " + q(db));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("destroy the input"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(read_all(db), before);
  // Through a symbolic link to the database too.
  fs::create_symlink(db, path("link.html"));
  EXPECT_EQ(run_app("mnas_report", "--db " + q(db) + " --out " + q(path("link.html"))).exit_code, 2);
  const auto trials = run_app("mnas_report", "--db " + q(db) + " --trials --format csv");
  EXPECT_EQ(trials.exit_code, 0) << trials.err;
  EXPECT_EQ(lines(trials.out), 5u);  // header + 4 trials
}

TEST_F(Hostile, SearchTrainConfigOverAnInputIsRefused) {
  const auto db = path("r.db");
  make_search_db(db);
  const std::string before = read_all(db);
  auto r = run_app("mnas_search", "--resume --quiet --db " + q(db) + " --train-config " + q(db));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--train-config"), std::string::npos) << r.err;
  EXPECT_EQ(read_all(db), before);
  // The config file is an input too.
  const auto cfg = path("c.json");
  write(cfg, R"({"objective": "synthetic", "budget": 2, "strategy": {"name": "random"}})");
  r = run_app("mnas_search", "--config " + q(cfg) + " --measure-top 0 --quiet --db " +
                                 q(path("new.db")) + " --train-config " + q(cfg));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(read_all(cfg).find("synthetic"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("new.db")));
}

TEST_F(Hostile, LatencyOutputsOverInputsAreRefused) {
  // sample --out over its --space file.
  const auto space = path("space.json");
  fs::copy_file(std::string(MNAS_SOURCE_DIR) + "/experiments/space-mnasnet.json", space);
  const std::string space_text = read_all(space);
  auto r = run_app("mnas_latency", "sample 3 --space " + q(space) + " --out " + q(space));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_all(space), space_text);
  // export --out over its --db (a database that happens to be named .csv).
  const auto csv = path("table.csv");
  write(csv,
        "kind,device,engine,threads,image_size,batch,key,median_ms,p10_ms,p90_ms,runs\n"
        "layer,remote:pixel1,tflite,1,224,1,stem:k3:s22:224x224x3:o32,1.5,,,\n");
  const auto db = path("lat.csv");
  r = run_app("mnas_latency", "import --db " + q(db) + " " + q(csv));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string before = read_all(db);
  r = run_app("mnas_latency", "export --db " + q(db) +
                                  " --device remote:pixel1 --engine tflite --out " + q(db));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_all(db), before);
  EXPECT_EQ(run_app("mnas_latency", "tables --db " + q(db)).exit_code, 0);
}

// --- 2. one writer per database ----------------------------------------------

TEST_F(Hostile, SecondWriterIsRefusedReadersWorkAndKillReleasesTheLock) {
  const auto db = path("x.db");
  const std::string bin = std::string(MNAS_BINARY_DIR) + "/apps/mnas_search";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout)) _exit(126);
    execl(bin.c_str(), "mnas_search", "--objective", "synthetic", "--strategy", "random",
          "--budget", "30", "--delay-ms", "1000", "--measure-top", "0", "--quiet", "--db",
          db.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first trials to be recorded (1 s a trial: the checks below
  // must run while it still holds the lock, on a loaded machine too).
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto t = run_app("mnas_report", "--db " + q(db) + " --trials --format csv");
    started = t.exit_code == 0 && lines(t.out) >= 2;
  }
  ASSERT_TRUE(started);

  const auto second = run_app("mnas_search", "--resume --measure-top 0 --quiet --db " + q(db));
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("in use by another writer"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(pid)), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("host "), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("started "), std::string::npos) << second.err;
  EXPECT_TRUE(second.out.empty());

  const auto reader = run_app("mnas_report", "--db " + q(db) + " --trials");
  EXPECT_EQ(reader.exit_code, 0) << reader.err;
  // A latency profile into the same file is a writer too.
  const auto profile = run_app("mnas_latency", "profile --quiet --db " + q(db));
  EXPECT_EQ(profile.exit_code, 2);
  EXPECT_NE(profile.err.find("pid " + std::to_string(pid)), std::string::npos) << profile.err;

  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the first search finished before the checks";

  const auto resumed = run_app("mnas_search", "--resume --measure-top 0 --quiet --db " + q(db));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto trials = run_app("mnas_report", "--db " + q(db) + " --trials --format csv");
  EXPECT_EQ(lines(trials.out), 31u);  // header + 30 trials, none twice
  EXPECT_FALSE(fs::exists(db + ".lock"));  // a clean exit removes the lock file
}

// --- 3. JSON nested 100,000 deep -------------------------------------------------

TEST_F(Hostile, DeeplyNestedJsonIsRefusedByEveryReader) {
  const auto deep = deep_json(100000);
  struct Case {
    const char* app;
    std::string args;
  } cases[] = {
      {"mnas_search", "--config " + q(deep) + " --quiet --db " + q(path("s.db"))},
      {"mnas_decode", "--space " + q(deep)},
      {"mnas_latency", "sample 3 --space " + q(deep)},
  };
  for (const auto& c : cases) {
    const auto r = run_app(c.app, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.app << ": " << r.err;
    EXPECT_NE(r.err.find("nested deeper than"), std::string::npos) << c.app << ": " << r.err;
    EXPECT_LT(r.err.size(), 1000u) << c.app;
    EXPECT_TRUE(r.out.empty()) << c.app;
  }
  EXPECT_FALSE(fs::exists(path("s.db")));
  // A latency table file nested as deep.
  const auto table = path("deep-table.json");
  fs::copy_file(deep, table);
  const auto r = run_app("mnas_latency", "import --db " + q(path("l.db")) + " " + q(table));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("nested deeper than"), std::string::npos) << r.err;
}

// mnas_train's readers are converted with train/ (another change); this
// checks the app end to end.
TEST_F(Hostile, DeeplyNestedJsonIsRefusedByMnasTrain) {
  const auto deep = deep_json(100000);
  for (const std::string flag : {"--config", "--proxy-config"}) {
    const auto r = run_app("mnas_train", flag + " " + q(deep));
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << flag;
  }
}

// --- 4. --db "" -------------------------------------------------------------------

TEST_F(Hostile, EmptyDatabasePathIsRefused) {
  auto r = run_app("mnas_search", "--objective synthetic --budget 2 --measure-top 0 --quiet --db ''");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  r = run_app("mnas_report", "--db '' --trials");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  r = run_app("mnas_latency", "tables --db ''");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
}

// --- 5. --threads ---------------------------------------------------------------

TEST_F(Hostile, SearchThreadsAreCapped) {
  const auto r = run_app("mnas_search", "--objective synthetic --budget 1 --measure-top 0 --quiet "
                                        "--threads 100000 --db " + q(path("t.db")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--threads must be in 1..256"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("t.db")));
}

// --- 6. misleading errors -------------------------------------------------------

TEST_F(Hostile, DirectoryAsConfigIsNamedAsOne) {
  const auto r = run_app("mnas_search", "--config " + q(dir_) + " --db " + q(path("d.db")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST_F(Hostile, ReportReadsADatabaseOnReadOnlyMedia) {
  if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0) {
    GTEST_SKIP() << "root ignores permissions and setpriv is missing to drop them";
  }
  const auto db = path("r.db");
  make_search_db(db);
  ASSERT_FALSE(fs::exists(db + "-wal"));
  const auto ro = path("ro");
  fs::create_directories(ro);
  fs::copy_file(db, ro + "/r.db");
  chmod((ro + "/r.db").c_str(), 0444);
  chmod(ro.c_str(), 0555);
  chmod(dir_.c_str(), 0755);
  // root ignores permissions: read as "nobody", for whom they hold.
  const std::string as = geteuid() == 0 ? "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const auto r = mnas::testing::run_command(
      as + mnas::testing::app_path("mnas_report") + " --db " + q(ro + "/r.db") +
          " --trials --format csv",
      mnas::testing::Stderr::kMerged);
  const std::string& out = r.out;
  EXPECT_EQ(r.exit_code, 0) << out;
  EXPECT_EQ(lines(out), 5u) << out;
  EXPECT_FALSE(fs::exists(ro + "/r.db-shm"));
}

TEST_F(Hostile, TinySeRatioIsOutOfRangeNotMalformed) {
  const std::string se = "0." + std::string(400, '0') + "1";
  const auto r = run_app("mnas_decode", "r1_k3_s11_e1_i32_o16_se" + se);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("se_ratio"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("decimal number"), std::string::npos) << r.err;
}

// --- 7. looser than documented ----------------------------------------------------

TEST_F(Hostile, SearchFlagsOutOfRangeAreRefusedBeforeTheDbExists) {
  const std::string base = "--objective synthetic --budget 1 --measure-top 0 --quiet --db " +
                           q(path("f.db")) + " ";
  struct Case {
    std::string flags, expect;
  } cases[] = {
      {"--seed -1", "--seed must be an integer"},
      {"--device bogus", "cpu | cuda | cuda:N"},
      {"--worker-timeout -5", "--worker-timeout must be"},
      {"--top -1", "--top must be >= 0"},
  };
  for (const auto& c : cases) {
    const auto r = run_app("mnas_search", base + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.flags << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.flags;
    EXPECT_FALSE(fs::exists(path("f.db"))) << c.flags;
  }
}

TEST_F(Hostile, RefusedConfigCreatesNoDatabase) {
  const auto cfg = path("bad.json");
  write(cfg, R"({"objective": "proxy", "proxy": {"no_such_key": 1}})");
  const auto r = run_app("mnas_search", "--config " + q(cfg) + " --quiet --db " + q(path("c.db")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no_such_key"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("c.db")));
}

TEST_F(Hostile, ReportOutDirectoryIsRefusedWithoutATemporary) {
  const auto db = path("r.db");
  make_search_db(db);
  const auto out = path("outdir");
  fs::create_directories(out);
  const auto r = run_app("mnas_report", "--db " + q(db) + " --out " + q(out));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find("tmp"), std::string::npos) << e.path();
  }
}

}  // namespace
