// db::LatencyStore: the latency tables' SQLite schema, its versions and
// upgrades.
#include "db/latency_store.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/error.h"
#include "space/expect_throw_msg.h"
#include "tests/common/test_files.h"

namespace mnas {
namespace {

using mnas::testing::fresh_db;

TEST(LatencyStore, WritesAndReadsTables) {
  const std::string path = fresh_db("latency_store_rw.db");
  {
    db::Database db(path);
    db::LatencyStore store(db);
    EXPECT_EQ(db.schema_version("latency"), 4);
    const db::LatencyTableKey key{"cpu", "onednn", 1, 224, 1};
    store.put_layers(key, {{"stem:k3:s22:224x224x3:o32", 0.3, 0.29, 0.31, 20, "measured"},
                           {"classifier:7x7x1280:o1000", 0.1, 0.1, 0.1, 20, "measured"}});
    store.put_layers(key, {{"stem:k3:s22:224x224x3:o32", 0.4, 0.39, 0.41, 10, "measured"}});
    store.put_calibration(key, {{"r1_k3_s11_e1_i32_o16", 5.0, 4.9, 5.1, 30, "measured"}});
    store.put_layers({"cpu", "eager", 1, 224, 1}, {{"stem:k3:s22:224x224x3:o32", 3.0, 3, 3, 1, "measured"}});
  }
  db::Database db(path, db::Database::Mode::kReadOnly);
  db::LatencyStore store(db);
  const auto layers = store.layers({"cpu", "onednn", 1, 224, 1});
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].name, "classifier:7x7x1280:o1000");
  EXPECT_EQ(layers[1].name, "stem:k3:s22:224x224x3:o32");
  EXPECT_DOUBLE_EQ(layers[1].median_ms, 0.4);  // replaced
  EXPECT_EQ(layers[1].runs, 10);
  EXPECT_EQ(store.calibration({"cpu", "onednn", 1, 224, 1}).size(), 1u);
  EXPECT_TRUE(store.layers({"cpu", "onednn", 1, 192, 1}).empty());
  const auto tables = store.tables();
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].engine, "eager");
  EXPECT_EQ(tables[1].engine, "onednn");
  EXPECT_THROW_MSG(store.put_layers({"cpu", "onednn", 1, 224, 1}, {}), db::DbError, "read-only");
}

TEST(LatencyStore, StoresTheReferenceLatencyPerTable) {
  const std::string path = fresh_db("latency_store_ref.db");
  db::Database db(path);
  db::LatencyStore store(db);
  const db::LatencyTableKey key{"cpu", "onednn", 1, 224, 1};
  EXPECT_EQ(store.reference_ms(key), 0.0);
  store.put_reference(key, "block:mbconv:k5", 0.7);
  store.put_reference(key, "block:mbconv:k5", 0.65);  // replaces
  std::string workload;
  EXPECT_DOUBLE_EQ(store.reference_ms(key, &workload), 0.65);
  EXPECT_EQ(workload, "block:mbconv:k5");
  EXPECT_EQ(store.reference_ms({"cpu", "onednn", 2, 224, 1}), 0.0);
}

TEST(LatencyStore, LaterVersionsDropUnnormalisedMeasurementsAndKeepImports) {
  const std::string path = fresh_db("latency_store_v1.db");
  {
    // A version-1 database as an older mnas wrote it.
    db::Database db(path);
    db.sql().exec(
        "CREATE TABLE latency_layers (device TEXT NOT NULL, engine TEXT NOT NULL, threads INTEGER "
        "NOT NULL, image_size INTEGER NOT NULL, batch INTEGER NOT NULL, layer_key TEXT NOT NULL, "
        "median_ms REAL NOT NULL, p10_ms REAL NOT NULL, p90_ms REAL NOT NULL, runs INTEGER NOT "
        "NULL, source TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT 'x', PRIMARY KEY (device, "
        "engine, threads, image_size, batch, layer_key));"
        "CREATE TABLE latency_calibration (device TEXT NOT NULL, engine TEXT NOT NULL, threads "
        "INTEGER NOT NULL, image_size INTEGER NOT NULL, batch INTEGER NOT NULL, arch TEXT NOT "
        "NULL, median_ms REAL NOT NULL, p10_ms REAL NOT NULL, p90_ms REAL NOT NULL, runs INTEGER "
        "NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT 'x', PRIMARY KEY "
        "(device, engine, threads, image_size, batch, arch));"
        "INSERT INTO latency_layers VALUES ('cpu','onednn',1,224,1,'a',1,1,1,1,'measured','x'),"
        " ('remote:p','tflite',1,224,1,'a',2,2,2,1,'imported','x');"
        "INSERT INTO latency_calibration VALUES ('cpu','onednn',1,224,1,'r',5,5,5,1,'measured','x');"
        "INSERT INTO schema_versions(component, version) VALUES ('latency', 1);");
  }
  db::Database db(path);
  db::LatencyStore store(db);
  EXPECT_EQ(db.schema_version("latency"), 4);
  EXPECT_TRUE(store.layers({"cpu", "onednn", 1, 224, 1}).empty());
  EXPECT_TRUE(store.calibration({"cpu", "onednn", 1, 224, 1}).empty());
  ASSERT_EQ(store.layers({"remote:p", "tflite", 1, 224, 1}).size(), 1u);
}

// Versions 3 (new generated graphs) and 4 (a reference network instead of a
// reference layer) each drop what older versions measured, the reference
// included from 4 on, and keep imported tables.
class LatencyStoreUpgrade : public ::testing::TestWithParam<int> {};

TEST_P(LatencyStoreUpgrade, DropsLocalMeasurementsAndTheirReferenceAndKeepsImports) {
  const int from = GetParam();
  const std::string path = fresh_db(("latency_store_from_v" + std::to_string(from) + ".db").c_str());
  const db::LatencyTableKey key{"cpu", "onednn", 1, 224, 1};
  const db::LatencyTableKey phone{"remote:p", "tflite", 1, 224, 1};
  {
    db::Database db(path);
    db::LatencyStore store(db);
    store.put_layers(key, {{"stem:k3:s22:224x224x3:o32", 0.3, 0.29, 0.31, 20, "measured"}});
    store.put_calibration(key, {{"r1_k3_s11_e1_i32_o16", 5.0, 4.9, 5.1, 30, "measured"}});
    store.put_layers(phone, {{"stem:k3:s22:224x224x3:o32", 2.0, 2.0, 2.0, 1, "imported"}});
    store.put_calibration(phone, {{"r1_k3_s11_e1_i32_o16", 50.0, 50.0, 50.0, 1, "imported"}});
    store.put_reference(key, "block:mbconv:k5:s11:e3:f120:se0:none:28x28x40:o40", 0.25);
    // As an older mnas left it (the tables have the same columns since v2).
    db.sql().exec("UPDATE schema_versions SET version = " + std::to_string(from) +
                  " WHERE component = 'latency'");
  }
  db::Database db(path);
  db::LatencyStore store(db);
  EXPECT_EQ(db.schema_version("latency"), 4);
  EXPECT_TRUE(store.layers(key).empty());
  EXPECT_TRUE(store.calibration(key).empty());
  EXPECT_EQ(store.reference_ms(key), 0.0);
  EXPECT_EQ(store.layers(phone).size(), 1u);
  EXPECT_EQ(store.calibration(phone).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(FromVersions2And3, LatencyStoreUpgrade, ::testing::Values(2, 3));

TEST(LatencyStore, ReadOnlyDatabaseWithoutTheSchemaIsEmpty) {
  const std::string path = fresh_db("latency_store_empty.db");
  { db::Database create(path); }
  db::Database db(path, db::Database::Mode::kReadOnly);
  db::LatencyStore store(db);
  EXPECT_TRUE(store.tables().empty());
  EXPECT_TRUE(store.layers({"cpu", "onednn", 1, 224, 1}).empty());
}

}  // namespace
}  // namespace mnas
