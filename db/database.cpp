#include "db/database.h"

namespace mnas::db {
namespace {

int open_flags(Database::Mode mode) {
  return mode == Database::Mode::kReadOnly ? SQLite::OPEN_READONLY
                                           : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
}

SQLite::Database open(const std::string& path, Database::Mode mode) {
  try {
    return SQLite::Database(path, open_flags(mode), /*busy_timeout_ms=*/10000);
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot open database '" + path + "': " + e.what());
  }
}

}  // namespace

Database::Database(const std::string& path, Mode mode)
    : path_(path), mode_(mode), db_(open(path, mode)) {
  try {
    // Reading the schema fails fast on a file that is not a database.
    db_.exec("SELECT count(*) FROM sqlite_master");
    if (mode == Mode::kReadWrite) {
      db_.exec("PRAGMA journal_mode=WAL");
      db_.exec("PRAGMA synchronous=NORMAL");
      db_.exec("PRAGMA foreign_keys=ON");
      db_.exec(
          "CREATE TABLE IF NOT EXISTS schema_versions ("
          " component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    }
  } catch (const SQLite::Exception& e) {
    throw DbError("'" + path + "' is not a usable mnas database: " + e.what());
  }
}

int Database::schema_version(const std::string& component) {
  if (!db_.tableExists("schema_versions")) return 0;
  SQLite::Statement q(db_, "SELECT version FROM schema_versions WHERE component = ?");
  q.bind(1, component);
  return q.executeStep() ? q.getColumn(0).getInt() : 0;
}

void Database::migrate(const std::string& component, const std::vector<std::string>& steps) {
  if (read_only()) throw DbError("cannot migrate '" + path_ + "': opened read-only");
  const int have = schema_version(component);
  const int want = static_cast<int>(steps.size());
  if (have > want) {
    throw DbError("database '" + path_ + "' has " + component + " schema version " +
                  std::to_string(have) + ", newer than this mnas knows (" +
                  std::to_string(want) + ")");
  }
  for (int v = have; v < want; ++v) {
    try {
      transaction([&] {
        db_.exec(steps[v]);
        SQLite::Statement up(db_,
                             "INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                             "ON CONFLICT(component) DO UPDATE SET version = excluded.version");
        up.bind(1, component);
        up.bind(2, v + 1);
        up.exec();
      });
    } catch (const SQLite::Exception& e) {
      throw DbError("migrating " + component + " schema of '" + path_ + "' to version " +
                    std::to_string(v + 1) + " failed: " + e.what());
    }
  }
}

}  // namespace mnas::db
