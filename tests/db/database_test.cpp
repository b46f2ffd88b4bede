#include "db/database.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace mnas::db {
namespace {

std::string temp_db(const std::string& name) {
  const std::string path = ::testing::TempDir() + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

TEST(Database, MigratesStepByStepAndRemembersVersion) {
  const auto path = temp_db("migrate.db");
  {
    Database db(path);
    EXPECT_EQ(db.schema_version("things"), 0);
    db.migrate("things", {"CREATE TABLE t(a INTEGER)"});
    EXPECT_EQ(db.schema_version("things"), 1);
    db.sql().exec("INSERT INTO t VALUES (7)");
  }
  Database db(path);
  db.migrate("things", {"CREATE TABLE t(a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"});
  EXPECT_EQ(db.schema_version("things"), 2);
  EXPECT_EQ(db.sql().execAndGet("SELECT a FROM t").getInt(), 7);
  EXPECT_EQ(db.schema_version("other"), 0);
  EXPECT_EQ(db.sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(Database, FailedMigrationStepRollsBack) {
  const auto path = temp_db("rollback.db");
  Database db(path);
  db.migrate("c", {"CREATE TABLE a(x)"});
  EXPECT_THROW(db.migrate("c", {"CREATE TABLE a(x)", "CREATE TABLE b(y); SELECT nope FROM nowhere"}),
               DbError);
  EXPECT_EQ(db.schema_version("c"), 1);
  EXPECT_FALSE(db.sql().tableExists("b"));
}

TEST(Database, RefusesNewerSchema) {
  const auto path = temp_db("newer.db");
  Database db(path);
  db.migrate("c", {"CREATE TABLE a(x)", "CREATE TABLE b(x)"});
  try {
    db.migrate("c", {"CREATE TABLE a(x)"});
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(Database, TransactionRollsBackOnException) {
  Database db(temp_db("tx.db"));
  db.migrate("c", {"CREATE TABLE a(x INTEGER)"});
  EXPECT_THROW(db.transaction([&] {
    db.sql().exec("INSERT INTO a VALUES (1)");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(db.sql().execAndGet("SELECT count(*) FROM a").getInt(), 0);
}

TEST(Database, NotADatabaseIsAClearError) {
  const auto path = temp_db("garbage.db");
  std::ofstream(path) << "this is not sqlite, just text that is long enough to have a header page";
  try {
    Database db(path);
    FAIL() << "expected DbError";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Database, ReadOnlyCannotMigrate) {
  const auto path = temp_db("ro.db");
  { Database db(path); }
  Database ro(path, Database::Mode::kReadOnly);
  EXPECT_TRUE(ro.read_only());
  EXPECT_THROW(ro.migrate("c", {"CREATE TABLE a(x)"}), DbError);
}

}  // namespace
}  // namespace mnas::db
