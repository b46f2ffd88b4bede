#include "latency/deploy_config.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "space/expect_throw_msg.h"

namespace mnas::latency {
namespace {

TEST(DeployConfig, JsonRoundTrip) {
  DeployConfig d;
  d.device = "cuda:1";
  d.engine = "eager";
  d.threads = 4;
  d.image_size = 192;
  d.num_classes = 10;
  d.input_channels = 1;
  d.batch = 8;
  const DeployConfig back = deploy_config_from_json(to_json(d));
  EXPECT_EQ(to_json(back), to_json(d));
}

TEST(DeployConfig, DefaultsFromEmptyObject) {
  const DeployConfig d = deploy_config_from_json(nlohmann::json::object());
  EXPECT_EQ(d.device, "cpu");
  EXPECT_EQ(d.engine, "auto");
  EXPECT_EQ(d.threads, 1);
  EXPECT_EQ(d.image_size, 224);
  EXPECT_EQ(d.batch, 1);
}

TEST(DeployConfig, RejectsUnknownKeysAndValuesByName) {
  EXPECT_THROW_MSG(deploy_config_from_json({{"thread", 2}}), ConfigError, "deploy.thread");
  EXPECT_THROW_MSG(deploy_config_from_json({{"device", "tpu"}}), ConfigError, "unknown device 'tpu'",
                   "cpu, cuda");
  EXPECT_THROW_MSG(deploy_config_from_json({{"engine", "tensorrt"}}), ConfigError,
                   "unknown engine 'tensorrt'");
  EXPECT_THROW_MSG(deploy_config_from_json({{"threads", 0}}), ConfigError, "threads", "got 0");
  EXPECT_THROW_MSG(deploy_config_from_json({{"threads", "1"}}), ConfigError, "deploy.threads",
                   "integer");
  EXPECT_THROW_MSG(deploy_config_from_json({{"device", "cuda"}, {"engine", "xnnpack"}}), ConfigError,
                   "cpu only");
  EXPECT_THROW_MSG(deploy_config_from_json({{"device", "cuda:x"}}), ConfigError, "cuda:x");
}

TEST(DeployConfig, RemoteDevicesTakeEngineLabels) {
  DeployConfig d;
  d.device = "remote:pixel1";
  d.engine = "tflite";
  EXPECT_NO_THROW(validate(d));
  EXPECT_TRUE(is_remote(d));
  d.engine = "TF Lite";
  EXPECT_THROW_MSG(validate(d), ConfigError, "TF Lite");
}

TEST(DeployConfig, ProfileDevices) {
  DeployConfig d;
  d.device = "pixel1";
  EXPECT_NO_THROW(validate(d));
  EXPECT_TRUE(uses_profile(d));
  EXPECT_FALSE(is_remote(d));
  EXPECT_EQ(deploy_profile(d).name, "pixel1");
  d.engine = "tflite";
  EXPECT_NO_THROW(validate(d));
  EXPECT_EQ(deploy_config_from_json(to_json(d)).device, "pixel1");
  d.device = "profiles/my-phone.json";
  EXPECT_NO_THROW(validate(d));
  EXPECT_TRUE(uses_profile(d));
  DeployConfig cpu;
  EXPECT_FALSE(uses_profile(cpu));
  EXPECT_THROW_MSG(deploy_profile(cpu), ConfigError, "not a device profile", "pixel1");
  // Unknown devices are rejected with the known ones, profiles included.
  EXPECT_THROW_MSG(deploy_config_from_json({{"device", "pixel2"}}), ConfigError,
                   "unknown device 'pixel2'", "cpu, cuda", "remote:NAME", "pixel1", ".json");
  // A profile has no latency table.
  TableId id = table_id(cpu, "onednn");
  id.device = "pixel1";
  EXPECT_THROW_MSG(validate(id), ConfigError, "unknown device 'pixel1'");
}

TEST(DeployConfig, TableIdNamesEveryField) {
  DeployConfig d;
  d.threads = 2;
  d.image_size = 96;
  const TableId id = table_id(d, "onednn");
  EXPECT_EQ(to_string(id), "cpu/onednn/2t/96px/b1");
  TableId bad = id;
  bad.engine = "auto";
  EXPECT_THROW_MSG(validate(bad), ConfigError, "unknown engine 'auto'");
}

}  // namespace
}  // namespace mnas::latency
