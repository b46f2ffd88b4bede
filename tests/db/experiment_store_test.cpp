#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "db/experiment_store.h"
#include "tests/common/test_files.h"

namespace mnas::db {
namespace {

class ExperimentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test: ctest runs the tests of this fixture as parallel
    // processes (random_seed() was 0 in all of them, so they shared one file).
    path_ = mnas::testing::fresh_db("mnas_store_test_" +
                                    std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                                    ".db");
  }
  void TearDown() override {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }
  std::string path_;
};

TEST_F(ExperimentStoreTest, TrialLifeCycleAndCheckpoints) {
  Database db(path_);
  ExperimentStore store(db);
  EXPECT_EQ(db.schema_version("experiments"), 2);
  const int64_t id = store.create_experiment("{\"a\":1}", 7, "ppo", 3);
  ASSERT_EQ(store.experiments().size(), 1u);
  EXPECT_EQ(store.experiment(id)->status, "running");
  EXPECT_EQ(store.experiment(id)->budget, 3);

  TrialRecord t;
  t.experiment_id = id;
  t.index = 0;
  t.arch = "r1_k3_s11_e1_i32_o16";
  t.decisions = "[0,1]";
  t.seed = -5;  // uint64 bits
  t.entropy = 1.5;
  store.transaction([&] { store.insert_trial(t); });
  EXPECT_THROW(store.insert_trial(t), DbError);  // same index twice
  store.mark_running(id, 0, "local");
  EXPECT_EQ(store.trial(id, 0)->status, "running");
  EXPECT_EQ(store.trial(id, 0)->attempts, 1);
  EXPECT_EQ(store.requeue_interrupted(id), 1);
  EXPECT_EQ(store.trial(id, 0)->status, "queued");
  store.mark_running(id, 0, "local");
  t.status = "done";
  t.accuracy = 0.9;
  t.latency_ms = 70;
  t.reward = 0.905;
  t.params = 123;
  t.macs = 456;
  t.worker = "local";
  store.finish_trial(t);
  const auto back = *store.trial(id, 0);
  EXPECT_EQ(back.status, "done");
  EXPECT_EQ(back.attempts, 2);
  EXPECT_EQ(*back.reward, 0.905);
  EXPECT_EQ(*back.macs, 456);
  EXPECT_EQ(back.seed, -5);
  EXPECT_FALSE(back.loss.has_value());
  EXPECT_EQ(*back.entropy, 1.5);
  EXPECT_FALSE(back.finished_at.empty());
  EXPECT_EQ(store.count_finished(id), 1);
  EXPECT_EQ(store.count_trials(id, "queued"), 0);

  store.save_checkpoint(id, 1, "{\"s\":1}", std::string("\0\1\2", 3));
  store.save_checkpoint(id, 2, "{\"s\":2}", std::nullopt);  // keeps the blob
  const auto c = *store.checkpoint(id);
  EXPECT_EQ(c.trials_proposed, 2);
  EXPECT_EQ(c.state, "{\"s\":2}");
  EXPECT_EQ(c.weights, std::string("\0\1\2", 3));
  store.log_update(id, 1, 1, "{\"entropy\":2}");
  EXPECT_EQ(store.update_log(id).at(0).stats, "{\"entropy\":2}");
}

TEST_F(ExperimentStoreTest, FailedTransactionLeavesNothing) {
  Database db(path_);
  ExperimentStore store(db);
  const int64_t id = store.create_experiment("{}", 1, "random", 2);
  TrialRecord t;
  t.experiment_id = id;
  t.arch = "a";
  t.decisions = "[]";
  EXPECT_THROW(store.transaction([&] {
    store.insert_trial(t);
    store.save_checkpoint(id, 1, "{}", std::nullopt);
    throw std::runtime_error("killed");
  }),
               std::runtime_error);
  EXPECT_EQ(store.count_trials(id), 0);
  EXPECT_FALSE(store.checkpoint(id).has_value());
}

TEST_F(ExperimentStoreTest, ReadOnlyNeedsExperimentTables) {
  { Database db(path_); }
  Database ro(path_, Database::Mode::kReadOnly);
  EXPECT_THROW(ExperimentStore store(ro), DbError);
}

}  // namespace
}  // namespace mnas::db

namespace mnas::db {
namespace {

// Multi-fidelity children: a promotion's row goes queued -> running -> done
// and reads back field for field; a crash's running promotion is re-queued.
TEST_F(ExperimentStoreTest, RungRowsRoundTripAndRequeue) {
  Database db(path_);
  ExperimentStore store(db);
  const int64_t id = store.create_experiment("{}", 1, "ppo", 4);
  for (int64_t i = 0; i < 2; ++i) {
    TrialRecord t;
    t.experiment_id = id;
    t.index = i;
    t.arch = "r1_k3_s11_e1_i32_o16";
    t.decisions = "[0]";
    store.insert_trial(t);
  }
  EXPECT_TRUE(store.rungs(id).empty());
  RungRecord r;
  r.experiment_id = id;
  r.index = 1;
  r.rung = 1;
  r.steps = 52;
  store.transaction([&] { store.insert_rung(r); });
  EXPECT_THROW(store.insert_rung(r), DbError);  // one row per (trial, rung)
  RungRecord missing = r;
  missing.index = 9;
  EXPECT_THROW(store.insert_rung(missing), DbError);
  ASSERT_EQ(store.rungs(id, "queued").size(), 1u);

  store.mark_rung_running(id, 1, 1, "rank2");
  EXPECT_EQ(store.requeue_interrupted_rungs(id), 1);  // the crash case
  EXPECT_EQ(store.rungs(id, "queued").size(), 1u);
  store.mark_rung_running(id, 1, 1, "rank2");
  EXPECT_THROW(store.mark_rung_running(id, 0, 1, "x"), DbError);

  r.status = "done";
  r.accuracy = 0.8125;
  r.loss = 0.5;
  r.reward = 0.75;
  r.steps_reached = 52;
  r.train_seconds = 3.5;
  r.eval_seconds = 0.25;
  r.seconds = 4.0;
  r.worker = "rank2";
  r.message = "";
  store.transaction([&] { store.finish_rung(r); });
  const auto rows = store.rungs(id);
  ASSERT_EQ(rows.size(), 1u);
  const RungRecord& back = rows[0];
  EXPECT_EQ(back.index, 1);
  EXPECT_EQ(back.rung, 1);
  EXPECT_EQ(back.steps, 52);
  EXPECT_EQ(back.status, "done");
  EXPECT_EQ(back.attempts, 2);
  EXPECT_EQ(back.accuracy, 0.8125);
  EXPECT_EQ(back.loss, 0.5);
  EXPECT_EQ(back.reward, 0.75);
  EXPECT_EQ(back.steps_reached, 52);
  EXPECT_EQ(back.train_seconds, 3.5);
  EXPECT_EQ(back.eval_seconds, 0.25);
  EXPECT_EQ(back.seconds, 4.0);
  EXPECT_EQ(back.worker, "rank2");
  EXPECT_FALSE(back.finished_at.empty());
  EXPECT_EQ(store.rungs(id, "queued").size(), 0u);
  EXPECT_EQ(store.requeue_interrupted_rungs(id), 0);
}

// A database of schema version 1 (before rungs) reads with no promotions
// (also read-only) and gets the rung table when opened for writing, its trials
// intact.
TEST_F(ExperimentStoreTest, VersionOneDatabaseGetsTheRungTable) {
  int64_t id = 0;
  {
    Database db(path_);
    ExperimentStore store(db);
    id = store.create_experiment("{}", 1, "ppo", 1);
    TrialRecord t;
    t.experiment_id = id;
    t.arch = "r1_k3_s11_e1_i32_o16";
    t.decisions = "[0]";
    store.insert_trial(t);
    // Back to version 1 as released: no trial_rungs table.
    db.sql().exec("DROP TABLE trial_rungs");
    db.sql().exec("UPDATE schema_versions SET version = 1 WHERE component = 'experiments'");
  }
  {
    Database db(path_, Database::Mode::kReadOnly);
    ExperimentStore store(db);
    EXPECT_EQ(db.schema_version("experiments"), 1);
    EXPECT_TRUE(store.rungs(id).empty());
    EXPECT_EQ(store.trials(id).size(), 1u);
  }
  {
    Database db(path_);
    ExperimentStore store(db);
    EXPECT_EQ(db.schema_version("experiments"), 2);
    EXPECT_TRUE(db.sql().tableExists("trial_rungs"));
    EXPECT_EQ(store.trials(id).size(), 1u);
  }
}

}  // namespace
}  // namespace mnas::db
