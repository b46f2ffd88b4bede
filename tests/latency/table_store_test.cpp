// latency::table_store: importing, loading and finding tables in a database.
#include "latency/table_store.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/error.h"
#include "space/expect_throw_msg.h"
#include "tests/common/test_files.h"

namespace mnas {
namespace {

using mnas::testing::fresh_db;

TEST(TableStore, ImportIsAllOrNothingAndChecksTheTable) {
  const std::string path = fresh_db("latency_import.db");
  db::Database db(path);
  latency::LatencyTable t;
  t.id = {"remote:pixel1", "tflite", 1, 224, 1};
  t.layers["stem:k3:s22:224x224x3:o32"] = {1.5, 1.4, 1.6, 10};
  t.calibration.push_back({"r1_k3_s11_e1_i32_o16", {20, 19, 21, 5}});
  const latency::TableId other{"remote:pixel1", "tflite", 1, 192, 1};
  EXPECT_THROW_MSG(latency::import_table(db, t, &other), ConfigError,
                   "remote:pixel1/tflite/1t/224px/b1", "192px", "nothing imported");
  EXPECT_TRUE(latency::list_tables(db).empty());
  latency::import_table(db, t, &t.id);
  const auto back = latency::load_table(db, t.id);
  EXPECT_EQ(back.layers.size(), 1u);
  EXPECT_EQ(back.calibration.size(), 1u);
  EXPECT_DOUBLE_EQ(back.layers.at("stem:k3:s22:224x224x3:o32").median_ms, 1.5);
}

TEST(TableStore, FindTablePrefersTheFastEngineAndNamesWhatExists) {
  const std::string path = fresh_db("latency_find.db");
  db::Database db(path);
  latency::store_layers(db, {"cpu", "eager", 1, 224, 1}, {{"stem:k3:s22:224x224x3:o32", {1, 1, 1, 1}}});
  latency::store_layers(db, {"cpu", "onednn", 1, 224, 1}, {{"stem:k3:s22:224x224x3:o32", {1, 1, 1, 1}}});
  latency::DeployConfig d;
  EXPECT_EQ(latency::find_table(db, d).engine, "onednn");
  d.engine = "eager";
  EXPECT_EQ(latency::find_table(db, d).engine, "eager");
  d.engine = "xnnpack";
  EXPECT_THROW_MSG(latency::find_table(db, d), ConfigError, "no latency table for cpu/xnnpack",
                   "cpu/eager/1t/224px/b1, cpu/onednn/1t/224px/b1");
  d.engine = "auto";
  d.image_size = 192;
  EXPECT_THROW_MSG(latency::find_table(db, d), ConfigError, "192px");
}

}  // namespace
}  // namespace mnas
