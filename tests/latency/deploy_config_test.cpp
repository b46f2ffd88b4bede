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

// Issue #20: ONNX Runtime's session settings change latency, so they are part
// of its table key; the other engines' keys (and existing tables) are as
// before, whatever the ORT settings say.
TEST(DeployConfig, OnnxRuntimeTableKeyIncludesItsSettings) {
  DeployConfig d;
  const TableId all = table_id(d, "onnxruntime");
  EXPECT_EQ(to_string(all), "cpu/onnxruntime.all.sequential/1t/224px/b1");
  EXPECT_NO_THROW(validate(all));
  EXPECT_EQ(engine_of_label(all.engine), "onnxruntime");
  EXPECT_EQ(engine_of_label("onednn"), "onednn");
  d.ort_opt_level = "basic";
  EXPECT_EQ(to_string(table_id(d, "onnxruntime")), "cpu/onnxruntime.basic.sequential/1t/224px/b1");
  d.ort_execution_mode = "parallel";
  d.threads = 2;
  EXPECT_EQ(to_string(table_id(d, "onnxruntime")), "cpu/onnxruntime.basic.parallel/2t/224px/b1");
  EXPECT_NE(table_id(d, "onnxruntime"), all);
  EXPECT_EQ(to_string(table_id(d, "onednn")), "cpu/onednn/2t/224px/b1");
  TableId bad = all;
  bad.engine = "onnxruntime.fast.sequential";
  EXPECT_THROW_MSG(validate(bad), ConfigError, "ort_opt_level", "fast", "disabled, basic, extended or all");
  bad.engine = "onnxruntime";
  EXPECT_THROW_MSG(validate(bad), ConfigError, "onnxruntime.<ort_opt_level>.<ort_execution_mode>");
}

TEST(DeployConfig, OnnxRuntimeSettingsInJson) {
  const auto d = deploy_config_from_json(
      nlohmann::json::parse(R"({"engine": "onnxruntime", "ort_opt_level": "extended", "ort_execution_mode": "parallel"})"));
  EXPECT_EQ(d.engine, "onnxruntime");
  EXPECT_EQ(d.ort_opt_level, "extended");
  EXPECT_EQ(d.ort_execution_mode, "parallel");
  const auto back = deploy_config_from_json(to_json(d));
  EXPECT_EQ(back.ort_opt_level, "extended");
  EXPECT_EQ(back.ort_execution_mode, "parallel");
  // Other engines' JSON is unchanged by default.
  EXPECT_FALSE(to_json(DeployConfig{}).contains("ort_opt_level"));
  EXPECT_THROW_MSG(deploy_config_from_json(nlohmann::json::parse(R"({"ort_opt_level": "max"})")), ConfigError,
                   "deploy.ort_opt_level", "max");
  EXPECT_THROW_MSG(deploy_config_from_json(nlohmann::json::parse(R"({"ort_execution_mode": 1})")), ConfigError,
                   "deploy.ort_execution_mode", "string");
  DeployConfig cuda;
  cuda.device = "cuda";
  cuda.engine = "onnxruntime";
  EXPECT_THROW_MSG(validate(cuda), ConfigError, "onnxruntime", "cpu only");
}

}  // namespace
}  // namespace mnas::latency
