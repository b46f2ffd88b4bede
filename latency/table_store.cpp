#include "latency/table_store.h"

#include "db/latency_store.h"

namespace mnas::latency {
namespace {

db::LatencyTableKey to_key(const TableId& id) {
  return {id.device, id.engine, id.threads, id.image_size, id.batch};
}

db::LatencyRow to_row(const std::string& name, const Timing& t, const char* source) {
  return {name, t.median_ms, t.p10_ms, t.p90_ms, t.runs, source};
}

Timing to_timing(const db::LatencyRow& r) { return {r.median_ms, r.p10_ms, r.p90_ms, r.runs}; }

}  // namespace

LatencyTable load_table(db::Database& db, const TableId& id) {
  db::LatencyStore store(db);
  LatencyTable t;
  t.id = id;
  for (const auto& r : store.layers(to_key(id))) t.layers.emplace(r.name, to_timing(r));
  for (const auto& r : store.calibration(to_key(id))) t.calibration.push_back({r.name, to_timing(r)});
  return t;
}

std::vector<TableId> list_tables(db::Database& db) {
  db::LatencyStore store(db);
  std::vector<TableId> out;
  for (const auto& k : store.tables()) out.push_back({k.device, k.engine, k.threads, k.image_size, k.batch});
  return out;
}

void import_table(db::Database& db, const LatencyTable& table, const TableId* expected) {
  validate(table.id);
  if (expected && *expected != table.id) {
    throw ConfigError("the imported table is for " + to_string(table.id) + ", but " +
                      to_string(*expected) + " was asked for; nothing imported");
  }
  std::vector<db::LatencyRow> layers, cal;
  for (const auto& [k, t] : table.layers) layers.push_back(to_row(k, t, "imported"));
  for (const auto& c : table.calibration) cal.push_back(to_row(c.arch, c.timing, "imported"));
  db::LatencyStore(db).put_table(to_key(table.id), layers, cal);
}

void store_layers(db::Database& db, const TableId& id,
                  const std::vector<std::pair<std::string, Timing>>& layers) {
  std::vector<db::LatencyRow> rows;
  for (const auto& [k, t] : layers) rows.push_back(to_row(k, t, "measured"));
  db::LatencyStore(db).put_layers(to_key(id), rows);
}

void store_calibration(db::Database& db, const TableId& id,
                       const std::vector<CalibrationPoint>& points) {
  std::vector<db::LatencyRow> rows;
  for (const auto& p : points) rows.push_back(to_row(p.arch, p.timing, "measured"));
  db::LatencyStore(db).put_calibration(to_key(id), rows);
}

}  // namespace mnas::latency

namespace mnas::latency {

TableId find_table(db::Database& db, const DeployConfig& deploy) {
  validate(deploy);
  const auto all = list_tables(db);
  auto matches = [&](const TableId& t, const std::string& engine) {
    return t == table_id(deploy, engine);
  };
  std::vector<std::string> order = {deploy.engine};
  if (deploy.engine == "auto") order = {"onednn", "xnnpack", "eager", "onnxruntime"};
  for (const auto& engine : order) {
    for (const auto& t : all) if (matches(t, engine)) return t;
  }
  if (deploy.engine == "auto" && is_remote(deploy)) {
    for (const auto& t : all) if (t.device == deploy.device && matches(t, t.engine)) return t;
  }
  std::string have;
  for (const auto& t : all) have += (have.empty() ? "" : ", ") + to_string(t);
  throw ConfigError("no latency table for " + deploy.device + "/" + deploy.engine + "/" +
                    std::to_string(deploy.threads) + "t/" + std::to_string(deploy.image_size) +
                    "px/b" + std::to_string(deploy.batch) + " in '" + db.path() + "' (it has: " +
                    (have.empty() ? "none" : have) +
                    "); build one with: mnas_latency profile --db " + db.path());
}

double load_reference_ms(db::Database& db, const TableId& id, std::string* workload) {
  return db::LatencyStore(db).reference_ms(to_key(id), workload);
}

void store_reference_ms(db::Database& db, const TableId& id, const std::string& workload, double ms) {
  db::LatencyStore(db).put_reference(to_key(id), workload, ms);
}

}  // namespace mnas::latency
