#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "db/final_store.h"
#include "tests/common/test_files.h"

namespace mnas::db {
namespace {

class FinalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test: ctest runs the tests of this fixture as parallel
    // processes (random_seed() was 0 in all of them, so they shared one file).
    path_ = mnas::testing::fresh_db("mnas_final_store_" +
                                    std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                                    ".db");
  }
  void TearDown() override {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }
  static FinalRecord found(int64_t seed) {
    FinalRecord r;
    r.key = {1, "found", "r1_k3_s11_e1_i32_o16", 1.0, "00ff", seed};
    r.name = "trial 4";
    r.trial_index = 4;
    r.recipe = "{}";
    r.proxy_accuracy = 0.8;
    return r;
  }
  std::string path_;
};

TEST_F(FinalStoreTest, ModelLifeCycle) {
  Database db(path_);
  FinalStore store(db);
  EXPECT_EQ(db.schema_version("final"), 2);
  FinalRecord r = found(0);
  r.id = store.insert(r);
  EXPECT_THROW(store.insert(found(0)), DbError);  // same key
  const int64_t other = store.insert(found(1));   // another seed is another model
  EXPECT_NE(other, r.id);

  store.mark_running(r.id);
  auto row = store.find(r.key);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "running");
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(row->proxy_accuracy, 0.8);
  EXPECT_EQ(row->trial_index, 4);
  EXPECT_FALSE(row->test_top1);

  row->status = "trained";
  row->test_top1 = 0.91;
  row->device_ms = 70.5;
  row->onnx = "m.onnx";
  store.update(*row);
  EXPECT_TRUE(store.find(r.key)->finished_at.empty());  // not final yet
  row->status = "done";
  row->host_ms = 5.5;
  store.update(*row);
  const auto done = store.find(r.key);
  EXPECT_EQ(done->status, "done");
  EXPECT_EQ(done->test_top1, 0.91);
  EXPECT_EQ(done->host_ms, 5.5);
  EXPECT_EQ(done->onnx, "m.onnx");
  EXPECT_FALSE(done->finished_at.empty());
  row->status = "bogus";
  EXPECT_THROW(store.update(*row), DbError);

  const auto all = store.models(1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, r.id);
  EXPECT_TRUE(store.models(2).empty());
}

TEST_F(FinalStoreTest, BaselineResultsAreKeyedByRecipeArchMultiplierAndSeed) {
  Database db(path_);
  FinalStore store(db);
  BaselineResult b;
  b.recipe_key = "abc";
  b.arch = "mobilenet-v2";
  b.depth_multiplier = 0.35;
  b.test_top1 = 0.88;
  b.checkpoint = "x.ckpt";
  store.put_baseline(b);
  EXPECT_FALSE(store.baseline("abc", "mobilenet-v2", 0.5, 0));
  EXPECT_FALSE(store.baseline("abd", "mobilenet-v2", 0.35, 0));
  EXPECT_FALSE(store.baseline("abc", "mobilenet-v2", 0.35, 1));
  auto got = store.baseline("abc", "mobilenet-v2", 0.35, 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->test_top1, 0.88);
  EXPECT_EQ(got->checkpoint, "x.ckpt");
  b.test_top1 = 0.89;  // replaced, not duplicated
  store.put_baseline(b);
  EXPECT_EQ(store.baseline("abc", "mobilenet-v2", 0.35, 0)->test_top1, 0.89);
}

TEST_F(FinalStoreTest, ReadOnlyFileWithoutTheTablesReadsEmpty) {
  { Database db(path_); }  // an empty database file
  Database ro(path_, Database::Mode::kReadOnly);
  FinalStore store(ro);
  EXPECT_TRUE(store.models(1).empty());
  EXPECT_FALSE(store.find(found(0).key));
  EXPECT_FALSE(store.baseline("a", "b", 1, 0));
}

}  // namespace
}  // namespace mnas::db
