#include "db/database.h"

#include <unistd.h>

#include <filesystem>

namespace mnas::db {
namespace {

int open_flags(Database::Mode mode) {
  return mode == Database::Mode::kReadOnly ? SQLite::OPEN_READONLY
                                           : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
}

// A "file:" URI naming `path` with the query `query` (RFC 3986 escaping of
// the characters a URI path cannot hold as they are).
std::string file_uri(const std::string& path, const std::string& query) {
  const std::string abs = std::filesystem::absolute(path).string();
  std::string uri = "file:";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : abs) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f) {
      uri += '%';
      uri += hex[c >> 4];
      uri += hex[c & 15];
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + query;
}

// True when nothing can write the database here: neither the file nor its
// folder is writable (read-only media, a read-only copy), so SQLite cannot
// create the -shm file a WAL database needs for an ordinary read.
bool unwritable(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  return ::access(path.c_str(), R_OK) == 0 &&
         (::access(path.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0);
}

SQLite::Database open(const std::string& path, Database::Mode mode) {
  // SQLite would open "" as a private temporary database: a search would run
  // and vanish with the process.
  if (path.empty()) throw ConfigError("database path is empty; expected a file name");
  try {
    return SQLite::Database(path, open_flags(mode), /*busy_timeout_ms=*/10000);
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot open database '" + path + "': " + e.what());
  }
}

// Reading a database nothing can write: immutable=1 tells SQLite that no one
// changes it, so it needs no -shm file and takes no locks.
SQLite::Database open_immutable(const std::string& path) {
  try {
    return SQLite::Database(file_uri(path, "immutable=1"), SQLite::OPEN_READONLY | SQLite::OPEN_URI,
                            /*busy_timeout_ms=*/10000);
  } catch (const SQLite::Exception& e) {
    throw DbError("cannot open database '" + path + "' (read-only media): " + e.what());
  }
}

}  // namespace

Database::Database(const std::string& path, Mode mode)
    : path_(path), mode_(mode), db_(open(path, mode)) {
  if (mode == Mode::kReadOnly && unwritable(path)) {
    // A WAL database read in place needs its -shm file, which SQLite cannot
    // create here; nothing can be writing it either.
    try {
      db_.exec("SELECT count(*) FROM sqlite_master");
    } catch (const SQLite::Exception&) {
      db_ = open_immutable(path);
    }
  }
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
