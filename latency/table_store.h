// LatencyTable <-> the project database (db/latency_store.h), Torch-free.
#pragma once

#include <string>

#include "db/database.h"
#include "latency/latency_table.h"

namespace mnas::latency {

// The table `id` as stored in `db` (empty when absent).
LatencyTable load_table(db::Database& db, const TableId& id);

// Every table id present in `db`.
std::vector<TableId> list_tables(db::Database& db);

// Imports `table` into `db` in one transaction (rows with the same keys are
// replaced, source "imported"). When `expected` is given, the table must be
// for exactly that id: otherwise ConfigError naming both and nothing is
// written.
void import_table(db::Database& db, const LatencyTable& table, const TableId* expected = nullptr);

// Adds measured layer rows / calibration points to the db table `id` in one
// transaction.
void store_layers(db::Database& db, const TableId& id,
                  const std::vector<std::pair<std::string, Timing>>& layers);
void store_calibration(db::Database& db, const TableId& id, const std::vector<CalibrationPoint>& points);

// The nominal latency (ms) of the reference workload that local measurements
// of table `id` are normalised by (latency/measure.h), 0 when none is stored;
// `workload` receives the stored reference's description.
double load_reference_ms(db::Database& db, const TableId& id, std::string* workload = nullptr);
void store_reference_ms(db::Database& db, const TableId& id, const std::string& workload, double ms);

}  // namespace mnas::latency

namespace mnas::latency {

// The stored table that serves `deploy`: the one of its engine, or for
// engine "auto" the first present of onednn, xnnpack, eager (any engine label
// for remote devices). Throws ConfigError naming the tables the db holds when
// there is none.
TableId find_table(db::Database& db, const DeployConfig& deploy);

}  // namespace mnas::latency
