#include <gtest/gtest.h>

#include <filesystem>

#include "db/experiment_store.h"

namespace mnas::db {
namespace {

class ExperimentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("mnas_store_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".db"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }
  std::string path_;
};

TEST_F(ExperimentStoreTest, TrialLifeCycleAndCheckpoints) {
  Database db(path_);
  ExperimentStore store(db);
  EXPECT_EQ(db.schema_version("experiments"), 1);
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
