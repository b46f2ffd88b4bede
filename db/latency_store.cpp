#include "db/latency_store.h"


namespace mnas::db {
namespace {

constexpr const char* kComponent = "latency";

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kSteps = {
      // v1
      "CREATE TABLE latency_layers ("
      " device TEXT NOT NULL, engine TEXT NOT NULL, threads INTEGER NOT NULL,"
      " image_size INTEGER NOT NULL, batch INTEGER NOT NULL, layer_key TEXT NOT NULL,"
      " median_ms REAL NOT NULL, p10_ms REAL NOT NULL, p90_ms REAL NOT NULL,"
      " runs INTEGER NOT NULL, source TEXT NOT NULL,"
      " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
      " PRIMARY KEY (device, engine, threads, image_size, batch, layer_key));"
      "CREATE TABLE latency_calibration ("
      " device TEXT NOT NULL, engine TEXT NOT NULL, threads INTEGER NOT NULL,"
      " image_size INTEGER NOT NULL, batch INTEGER NOT NULL, arch TEXT NOT NULL,"
      " median_ms REAL NOT NULL, p10_ms REAL NOT NULL, p90_ms REAL NOT NULL,"
      " runs INTEGER NOT NULL, source TEXT NOT NULL,"
      " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
      " PRIMARY KEY (device, engine, threads, image_size, batch, arch));",
      // v2: reference-normalised measurement; v1's local measurements are
      // not comparable with normalised ones, so they go (to be re-profiled).
      "CREATE TABLE latency_reference ("
      " device TEXT NOT NULL, engine TEXT NOT NULL, threads INTEGER NOT NULL,"
      " image_size INTEGER NOT NULL, batch INTEGER NOT NULL, workload TEXT NOT NULL,"
      " ref_ms REAL NOT NULL,"
      " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
      " PRIMARY KEY (device, engine, threads, image_size, batch));"
      "DELETE FROM latency_layers WHERE source = 'measured';"
      "DELETE FROM latency_calibration WHERE source = 'measured';",
      // v3 (2026-12-02): layers are profiled in context and the generated
      // TorchScript changed (SE gate first, dense pool skip), so v2's local
      // measurements describe other graphs; they go too (the reference
      // workload is unchanged and stays).
      "DELETE FROM latency_layers WHERE source = 'measured';"
      "DELETE FROM latency_calibration WHERE source = 'measured';",
      // v4 (2026-12-02): local measurements are normalised by a reference
      // network instead of a reference layer; v3's rows and reference are in
      // other units, so they go (imported rows stay).
      "DELETE FROM latency_layers WHERE source = 'measured';"
      "DELETE FROM latency_calibration WHERE source = 'measured';"
      "DELETE FROM latency_reference;",
  };
  return kSteps;
}

void bind_key(SQLite::Statement& s, const LatencyTableKey& k) {
  s.bind(1, k.device);
  s.bind(2, k.engine);
  s.bind(3, k.threads);
  s.bind(4, k.image_size);
  s.bind(5, k.batch);
}

}  // namespace

LatencyStore::LatencyStore(Database& db) : db_(db) {
  if (!db_.read_only()) db_.migrate(kComponent, migrations());
  const int version = db_.schema_version(kComponent);
  has_schema_ = version >= 1;
  has_reference_ = version >= 2;
}

double LatencyStore::reference_ms(const LatencyTableKey& key, std::string* workload) {
  if (!has_reference_) return 0.0;
  try {
    SQLite::Statement q(db_.sql(),
                        "SELECT ref_ms, workload FROM latency_reference WHERE device = ? AND "
                        "engine = ? AND threads = ? AND image_size = ? AND batch = ?");
    bind_key(q, key);
    if (!q.executeStep()) return 0.0;
    if (workload) *workload = q.getColumn(1).getString();
    return q.getColumn(0).getDouble();
  } catch (const SQLite::Exception& e) {
    throw DbError("reading latency_reference from '" + db_.path() + "': " + e.what());
  }
}

void LatencyStore::put_reference(const LatencyTableKey& key, const std::string& workload,
                                 double ms) {
  if (db_.read_only()) throw DbError("cannot write latency rows: '" + db_.path() + "' is read-only");
  try {
    db_.transaction([&] {
      SQLite::Statement s(db_.sql(),
                          "INSERT OR REPLACE INTO latency_reference (device, engine, threads, "
                          "image_size, batch, workload, ref_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
      bind_key(s, key);
      s.bind(6, workload);
      s.bind(7, ms);
      s.exec();
    });
  } catch (const SQLite::Exception& e) {
    throw DbError("writing latency_reference to '" + db_.path() + "': " + e.what());
  }
}

std::vector<LatencyRow> LatencyStore::select(const char* table, const LatencyTableKey& key,
                                             const char* order) {
  std::vector<LatencyRow> out;
  if (!has_schema_) return out;
  const std::string name_col = std::string(table) == "latency_layers" ? "layer_key" : "arch";
  try {
    SQLite::Statement q(db_.sql(), "SELECT " + name_col +
                                       ", median_ms, p10_ms, p90_ms, runs, source FROM " + table +
                                       " WHERE device = ? AND engine = ? AND threads = ? AND "
                                       "image_size = ? AND batch = ? ORDER BY " + order);
    bind_key(q, key);
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getString(), q.getColumn(1).getDouble(),
                     q.getColumn(2).getDouble(), q.getColumn(3).getDouble(),
                     q.getColumn(4).getInt(), q.getColumn(5).getString()});
    }
  } catch (const SQLite::Exception& e) {
    throw DbError(std::string("reading ") + table + " from '" + db_.path() + "': " + e.what());
  }
  return out;
}

std::vector<LatencyRow> LatencyStore::layers(const LatencyTableKey& key) {
  return select("latency_layers", key, "layer_key");
}

std::vector<LatencyRow> LatencyStore::calibration(const LatencyTableKey& key) {
  return select("latency_calibration", key, "rowid");
}

std::vector<LatencyTableKey> LatencyStore::tables() {
  std::vector<LatencyTableKey> out;
  if (!has_schema_) return out;
  try {
    SQLite::Statement q(db_.sql(),
                        "SELECT DISTINCT device, engine, threads, image_size, batch FROM ("
                        " SELECT device, engine, threads, image_size, batch FROM latency_layers"
                        " UNION SELECT device, engine, threads, image_size, batch"
                        " FROM latency_calibration) ORDER BY 1, 2, 3, 4, 5");
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                     q.getColumn(2).getInt(), q.getColumn(3).getInt(), q.getColumn(4).getInt()});
    }
  } catch (const SQLite::Exception& e) {
    throw DbError("listing latency tables in '" + db_.path() + "': " + e.what());
  }
  return out;
}

void LatencyStore::insert(const char* table, const LatencyTableKey& key,
                          const std::vector<LatencyRow>& rows) {
  const std::string name_col = std::string(table) == "latency_layers" ? "layer_key" : "arch";
  SQLite::Statement s(db_.sql(), std::string("INSERT OR REPLACE INTO ") + table +
                                     " (device, engine, threads, image_size, batch, " + name_col +
                                     ", median_ms, p10_ms, p90_ms, runs, source)"
                                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& r : rows) {
    bind_key(s, key);
    s.bind(6, r.name);
    s.bind(7, r.median_ms);
    s.bind(8, r.p10_ms);
    s.bind(9, r.p90_ms);
    s.bind(10, r.runs);
    s.bind(11, r.source);
    s.exec();
    s.reset();
  }
}

void LatencyStore::put_layers(const LatencyTableKey& key, const std::vector<LatencyRow>& rows) {
  put_table(key, rows, {});
}

void LatencyStore::put_calibration(const LatencyTableKey& key,
                                   const std::vector<LatencyRow>& rows) {
  put_table(key, {}, rows);
}

void LatencyStore::put_table(const LatencyTableKey& key, const std::vector<LatencyRow>& layers,
                             const std::vector<LatencyRow>& calibration) {
  if (db_.read_only()) throw DbError("cannot write latency rows: '" + db_.path() + "' is read-only");
  try {
    db_.transaction([&] {
      insert("latency_layers", key, layers);
      insert("latency_calibration", key, calibration);
    });
  } catch (const SQLite::Exception& e) {
    throw DbError("writing latency rows to '" + db_.path() + "': " + e.what());
  }
}

}  // namespace mnas::db
