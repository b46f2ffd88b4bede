// Latency lookup tables in the project's SQLite database (component
// "latency"). Plain rows, no dependency on latency/: latency/ converts.
//
// Schema (version 1):
//   latency_layers(device, engine, threads, image_size, batch, layer_key,
//                  median_ms, p10_ms, p90_ms, runs, source, created_at)
//     PRIMARY KEY (device, engine, threads, image_size, batch, layer_key)
//   latency_calibration(device, engine, threads, image_size, batch, arch,
//                  median_ms, p10_ms, p90_ms, runs, source, created_at)
//     PRIMARY KEY (device, engine, threads, image_size, batch, arch)
// Version 2 adds
//   latency_reference(device, engine, threads, image_size, batch, workload,
//                  ref_ms, created_at)  PRIMARY KEY (the table key)
// the nominal latency of the reference workload that every local measurement
// of the table is normalised by (latency/measure.h), and drops the rows that
// version 1 measured locally: they were not normalised, so they would not be
// comparable with new ones (imported rows stay; the rest is re-profiled on
// next use).
// Versions 3 and 4 drop the locally measured rows again (3: new generated
// graphs; 4: a reference network replaces the reference layer, so the stored
// reference goes too).
// `source` is "measured" or "imported". Every write is one transaction:
// a kill leaves the previous rows, never half a batch.
#pragma once

#include <string>
#include <vector>

#include "db/database.h"

namespace mnas::db {

// The key of one table (see latency/deploy_config.h TableId).
struct LatencyTableKey {
  std::string device;
  std::string engine;
  int threads = 1;
  int image_size = 224;
  int batch = 1;
};

// One timed thing: a layer (name = layer key) or an architecture (name = its
// block strings).
struct LatencyRow {
  std::string name;
  double median_ms = 0.0;
  double p10_ms = 0.0;
  double p90_ms = 0.0;
  int runs = 0;
  std::string source = "measured";
};

class LatencyStore {
 public:
  // Brings the "latency" schema up to date (read-write databases) or checks
  // that it exists (read-only ones: then the tables may be absent and every
  // read returns nothing). Throws DbError.
  explicit LatencyStore(Database& db);

  // Layer rows of one table, sorted by key.
  std::vector<LatencyRow> layers(const LatencyTableKey& key);
  // Calibration rows of one table, in insertion order.
  std::vector<LatencyRow> calibration(const LatencyTableKey& key);
  // Every table key present (layers or calibration), sorted.
  std::vector<LatencyTableKey> tables();

  // The reference latency of a table (ms, > 0), or 0 when none is stored.
  // `workload` receives the reference's description when given.
  double reference_ms(const LatencyTableKey& key, std::string* workload = nullptr);
  // Stores it (replacing), in one transaction.
  void put_reference(const LatencyTableKey& key, const std::string& workload, double ms);

  // Insert or replace rows, all in one transaction.
  void put_layers(const LatencyTableKey& key, const std::vector<LatencyRow>& rows);
  void put_calibration(const LatencyTableKey& key, const std::vector<LatencyRow>& rows);
  // Both kinds in one transaction (imports).
  void put_table(const LatencyTableKey& key, const std::vector<LatencyRow>& layers,
                 const std::vector<LatencyRow>& calibration);

 private:
  std::vector<LatencyRow> select(const char* table, const LatencyTableKey& key, const char* order);
  void insert(const char* table, const LatencyTableKey& key, const std::vector<LatencyRow>& rows);

  Database& db_;
  bool has_schema_ = false;
  bool has_reference_ = false;  // schema version >= 2
};

}  // namespace mnas::db
