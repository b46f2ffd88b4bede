// The reference network and the table's reference constant (latency/timing.h).
#include "latency/timing.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/error.h"
#include "latency/small_configs.h"
#include "latency/table_store.h"
#include "space/expect_throw_msg.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

TEST(Reference, TheReferenceNetworkIsMnasnetB1AtTheDeployGeometry) {
  DeployConfig d = small_deploy(32);
  const ModelToMeasure net = reference_network(d);
  EXPECT_EQ(net.params.image_size, 32);
  EXPECT_EQ(net.params.num_classes, d.num_classes);
  EXPECT_EQ(net.params.input_channels, d.input_channels);
  EXPECT_EQ(net.arch.blocks.size(), space::named_arch_spec("mnasnet-b1").blocks.size());
  EXPECT_EQ(reference_workload(d), "network:mnasnet-b1:32x32x" + std::to_string(d.input_channels) +
                                       ":o" + std::to_string(d.num_classes));
}

TEST(Reference, RefusesATableNormalisedByTheReferenceNetworkOfAnotherGeometry) {
  const std::string path = ::testing::TempDir() + "/latency_ref_geometry.db";
  for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  db::Database db(path);
  DeployConfig d = small_deploy(32);
  d.engine = "onednn";
  DeployConfig other = d;
  other.num_classes = d.num_classes + 5;
  store_reference_ms(db, table_id(d, "onednn"), reference_workload(other), 2.0);
  EXPECT_DOUBLE_EQ(table_reference_ms(db, other), 2.0);
  EXPECT_THROW_MSG(table_reference_ms(db, d), ConfigError,
                   "is normalised by the reference network:mnasnet-b1:32x32");
}

}  // namespace
}  // namespace mnas::latency
