// The one writer of a database file.
//
// SQLite serialises single transactions, not whole runs: two searches
// resuming the same experiment both queue "the next trial", one dies on a
// UNIQUE constraint and a trial runs twice. A WriterLock held for a writer's
// lifetime makes the second writer fail up front, with a message naming the
// running process (pid, host, start time, tool). Readers (mnas_report,
// read-only opens) take no lock and keep working while the writer runs.
//
// The lock is flock(2) on "<db>.lock" beside the database (the database file
// itself carries SQLite's own POSIX locks, which flock must not disturb). The
// kernel drops it when the holder exits in any way, kill -9 included; the
// file then only holds stale text and the next writer takes it over. A clean
// release removes the file.
#pragma once

#include <string>

#include "db/database.h"

namespace mnas::db {

// Thrown when another process (or another WriterLock in this one) holds the
// writer lock; what() names the holder.
class LockedError : public DbError {
 public:
  using DbError::DbError;
};

class WriterLock {
 public:
  // Takes the writer lock of the database at `db_path` (links resolved, so a
  // symbolic link to the file shares its lock) on behalf of `tool`
  // ("mnas_search"). Never waits. Throws ConfigError for an empty path,
  // LockedError when another writer holds it, DbError when the lock file
  // cannot be created (its folder is not writable: nor is the database).
  WriterLock(const std::string& db_path, const std::string& tool);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  // "<db>.lock", the file holding the lock.
  const std::string& lock_path() const { return lock_path_; }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

// The lock file of `db_path`: its resolved path plus ".lock".
std::string lock_path_for(const std::string& db_path);

}  // namespace mnas::db
