// TrainConfig and GlobalParams JSON against the reference recipe (reference
// section 8) and hand-computed values, and the checks ProxyConfig shares.
#include "train/train_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "common/error.h"
#include "space/block_codec.h"
#include "space/describe.h"
#include "train/child_trainer.h"
#include "tests/common/test_files.h"

namespace mnas::train {
namespace {

using mnas::testing::error_of;

TEST(TrainConfigTest, DefaultsAreTheReferenceRecipe) {
  const TrainConfig c;
  EXPECT_EQ(c.arch, "mnasnet-a1");
  EXPECT_EQ(c.image_size, 224);
  EXPECT_EQ(c.epochs, 350);
  EXPECT_EQ(c.batch_size, 4096);
  EXPECT_EQ(c.optimizer, "rmsprop");
  EXPECT_DOUBLE_EQ(c.base_lr, 0.016);
  EXPECT_DOUBLE_EQ(c.warmup_epochs, 5);
  EXPECT_DOUBLE_EQ(c.decay_epochs, 2.4);
  EXPECT_DOUBLE_EQ(c.decay_rate, 0.97);
  EXPECT_DOUBLE_EQ(c.weight_decay, 1e-5);
  EXPECT_DOUBLE_EQ(c.label_smoothing, 0.1);
  EXPECT_DOUBLE_EQ(c.dropout, 0.2);
  EXPECT_DOUBLE_EQ(c.ema_decay, 0.9999);
  EXPECT_DOUBLE_EQ(c.rms_epsilon, 1e-3);
  EXPECT_NO_THROW(validate(c));
}

TEST(TrainConfigTest, JsonRoundTripAndOverride) {
  TrainConfig c;
  c.epochs = 7.5;
  c.dataset = "fashion-mnist";
  c.seed = 42;
  const TrainConfig back = train_config_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  const TrainConfig o = train_config_from_json(nlohmann::json{{"batch_size", 64}}, c);
  EXPECT_EQ(o.batch_size, 64);
  EXPECT_EQ(o.epochs, 7.5);  // kept from the base
}

TEST(TrainConfigTest, RejectsUnknownKeysAndWrongTypesNamingTheKey) {
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json{{"epoch", 3}}); }).find("unknown key 'epoch'"),
            std::string::npos);
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json{{"epochs", "many"}}); }).find("'epochs'"),
            std::string::npos);
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json{{"seed", -1}}); }).find("non-negative"),
            std::string::npos);
  EXPECT_THROW(train_config_from_json(nlohmann::json::array()), ConfigError);
  EXPECT_NE(error_of([] { load_train_config("/nonexistent/x.json"); }).find("/nonexistent/x.json"),
            std::string::npos);
}

TEST(TrainConfigTest, ValidateNamesTheField) {
  TrainConfig c;
  c.micro_batch = 1000;  // does not divide 4096
  EXPECT_NE(error_of([&] { validate(c); }).find("micro_batch"), std::string::npos);
  c = TrainConfig{};
  c.optimizer = "adam";
  EXPECT_NE(error_of([&] { validate(c); }).find("'adam'"), std::string::npos);
  c = TrainConfig{};
  c.image_size = 64;
  c.low_res_size = 96;  // above image_size
  EXPECT_NE(error_of([&] { validate(c); }).find("low_res_size"), std::string::npos);
  c.low_res_size = 32;
  c.low_res_epochs = 350;  // every epoch: never trains at image_size
  EXPECT_NE(error_of([&] { validate(c); }).find("low_res_epochs"), std::string::npos);
  c.low_res_epochs = 100;
  EXPECT_NO_THROW(validate(c));
}

// Threads are bounded like mnas_latency's (thousands of threads otherwise),
// devices are cpu | cuda | cuda:N, seeds are non-negative, epochs finite.
TEST(TrainConfigTest, ThreadsDeviceSeedAndEpochsAreChecked) {
  TrainConfig c;
  c.threads = 100000;
  EXPECT_NE(error_of([&] { validate(c); }).find("1..256"), std::string::npos);
  c.threads = 256;
  EXPECT_NO_THROW(validate(c));
  for (const char* bad : {"bogus", "", "cuda:", "cuda:x", "cpu:0 ", "cuda:123456"}) {
    c.device = bad;
    EXPECT_NE(error_of([&] { validate(c); }).find("cpu | cuda | cuda:N"), std::string::npos) << bad;
  }
  for (const char* good : {"cpu", "cuda", "cuda:1"}) {
    c.device = good;
    EXPECT_NO_THROW(validate(c)) << good;
  }
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json{{"seed", -1}}); }).find("seed"), std::string::npos);
  c = TrainConfig{};
  c.epochs = HUGE_VAL;
  EXPECT_NE(error_of([&] { validate(c); }).find("epochs"), std::string::npos);
  ProxyConfig p;
  p.threads = 100000;
  EXPECT_NE(error_of([&] { validate(p); }).find("threads"), std::string::npos);
  p.threads = 2;
  p.device = "bogus";
  EXPECT_NE(error_of([&] { validate(p); }).find("cpu | cuda | cuda:N"), std::string::npos);
  EXPECT_NE(error_of([] { proxy_config_from_json(nlohmann::json{{"seed", -1}}); }).find("seed"), std::string::npos);
}

// Config files go through the strict JSON reader: a directory is a clear
// error (not "basic_filebuf"), and so is a duplicate key.
TEST(TrainConfigTest, LoadTrainConfigUsesTheStrictJsonReader) {
  const std::string dir = ::testing::TempDir();
  EXPECT_NE(error_of([&] { load_train_config(dir); }).find("directory"), std::string::npos);
  const std::string dup = dir + "mnas_dup_" + std::to_string(::getpid()) + ".json";
  std::ofstream(dup) << R"({"epochs": 1, "epochs": 2})";
  EXPECT_THROW(load_train_config(dup), ConfigError);
  std::remove(dup.c_str());
}

TEST(ResolveModelTest, NamedArchWithDatasetGeometry) {
  TrainConfig c;
  c.image_size = 32;
  const ModelSpec m = resolve_model(c, 10, 1);
  EXPECT_EQ(m.params.num_classes, 10);
  EXPECT_EQ(m.params.input_channels, 1);
  EXPECT_EQ(m.params.image_size, 32);
  EXPECT_EQ(m.block_strings.size(), 7u);
  c.arch = "r1_k3_s11_e1_i32_o16_noskip r1_k3_s22_e9_i16_o24";
  EXPECT_EQ(resolve_model(c, 10, 3).block_strings.size(), 2u);
  c.arch = "not-an-arch";
  EXPECT_ANY_THROW(resolve_model(c, 10, 3));
}

TEST(TrainConfigTest, ArchAsAnArrayOfBlockStringsWithProvenance) {
  // What mnas_search --train-config writes.
  const auto c = train_config_from_json(nlohmann::json::parse(R"({
    "arch": ["r1_k3_s11_e1_i32_o16_noskip", "r1_k3_s22_e6_i16_o24"],
    "stem_size": 16, "depth_divisor": 4,
    "source": {"db": "/tmp/s.db", "trial": 7}})"));
  EXPECT_EQ(c.arch, "r1_k3_s11_e1_i32_o16_noskip r1_k3_s22_e6_i16_o24");
  EXPECT_EQ(c.source.at("trial"), 7);
  const ModelSpec m = resolve_model(c, 10, 1);
  EXPECT_EQ(m.params.stem_size, 16);
  EXPECT_EQ(m.params.depth_divisor, 4);
  // Round trip keeps the provenance.
  EXPECT_EQ(train_config_from_json(to_json(c)).source, c.source);
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json::parse(R"({"arch": [1, 2]})")); })
                .find("array of block strings"),
            std::string::npos);
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json::parse(R"({"arch": []})")); })
                .find("empty"),
            std::string::npos);
  EXPECT_NE(error_of([] { train_config_from_json(nlohmann::json::parse(R"({"source": 3})")); })
                .find("'source'"),
            std::string::npos);
}

// Checkpoints write GlobalParams with space::params_to_json and read them
// with global_params_from_json: every field survives, unknown keys throw.
TEST(GlobalParamsJsonTest, RoundTripThroughTheSpaceWriter) {
  space::GlobalParams p;
  p.depth_multiplier = 0.75;
  p.depth_divisor = 4;
  p.min_depth = 16;
  p.stem_size = 24;
  p.head_size = 640;
  p.num_classes = 10;
  p.dropout_rate = 0.1;
  p.bn_decay = 0.9;
  p.bn_epsilon = 1e-5;
  p.image_size = 32;
  p.input_channels = 1;
  p.tf_same_padding = true;
  const nlohmann::json j = space::params_to_json(p);
  EXPECT_EQ(j.size(), 12u);
  EXPECT_EQ(space::params_to_json(global_params_from_json(j)), j);
  p.depth_multiplier.reset();
  EXPECT_TRUE(space::params_to_json(p).at("depth_multiplier").is_null());
  EXPECT_FALSE(global_params_from_json(space::params_to_json(p)).depth_multiplier.has_value());
  nlohmann::json bad = j;
  bad["depth_multipler"] = 1.0;
  EXPECT_THROW(global_params_from_json(bad), ConfigError);
}

}  // namespace
}  // namespace mnas::train
