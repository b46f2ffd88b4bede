// The project's SQLite database: one file per experiment (or one shared
// latency-table file), opened through SQLiteCpp.
//
// Crash safety is the point: WAL journal, synchronous=NORMAL (a committed
// transaction survives a process kill; an OS crash can lose at most the last
// commits, never corrupt the file), a busy timeout so that read-only tools may
// open the file while the search writes, and every state change in one
// transaction.
//
// Schema versioning is per component ("latency", "experiments", ...): each
// component owns its tables and a list of migration steps; migrate() applies
// the missing steps in order, each in its own transaction together with the
// version bump, so a kill during a migration leaves the previous version.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace mnas::db {

class DbError : public Error {
 public:
  using Error::Error;
};

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (kReadWrite: creates if missing) the database at `path`. Throws
  // ConfigError when `path` is empty (SQLite's private temporary database,
  // gone with the process), DbError naming the path when it cannot be opened
  // or is not a database. kReadOnly reads a database that neither its file
  // nor its folder lets anyone write (read-only media) as immutable.
  // Opening takes no writer lock: a tool that writes a whole run holds a
  // WriterLock (db/writer_lock.h) first.
  explicit Database(const std::string& path, Mode mode = Mode::kReadWrite);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  bool read_only() const { return mode_ == Mode::kReadOnly; }

  // The SQLiteCpp handle, for statements.
  SQLite::Database& sql() { return db_; }

  // Version of `component`'s schema in this file (0 when absent).
  int schema_version(const std::string& component);

  // Brings `component` to version steps.size(): steps[v] is the SQL script
  // that upgrades version v to v + 1. Throws DbError when the file holds a
  // newer version than this code knows (written by a newer mnas), or when a
  // step fails (that step is rolled back). REQUIRES: read-write mode.
  void migrate(const std::string& component, const std::vector<std::string>& steps);

  // Runs `fn` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on
  // any exception.
  template <class Fn>
  void transaction(Fn&& fn) {
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    fn();
    tx.commit();
  }

 private:
  std::string path_;
  Mode mode_;
  SQLite::Database db_;
};

}  // namespace mnas::db
