// ProxyConfig JSON and checks, and the child's TrainConfig
// (train/child_config.cpp).
#include <gtest/gtest.h>

#include "space/block_codec.h"
#include "train/child_trainer.h"
#include "train/train_config.h"
#include "tests/common/test_files.h"

namespace mnas::train {
namespace {

using mnas::testing::error_of;

TEST(ProxyConfigTest, JsonRoundTripAndStrictKeys) {
  ProxyConfig p;
  p.dataset = "synthetic";
  p.train_subset = 123;
  const ProxyConfig back = proxy_config_from_json(to_json(p));
  EXPECT_EQ(to_json(back), to_json(p));
  EXPECT_NE(error_of([] { proxy_config_from_json(nlohmann::json{{"epochz", 1}}); }).find("'epochz'"),
            std::string::npos);
  EXPECT_NO_THROW(validate(ProxyConfig{}));
  EXPECT_STREQ(to_string(TrialStatus::kDiverged), "diverged");
  EXPECT_STREQ(to_string(TrialStatus::kTimeout), "timeout");
}

TEST(TrainConfigTest, ChildConfigIsTheProxyTask) {
  ProxyConfig p;
  p.dataset = "synthetic";
  p.image_size = 40;
  p.train_subset = 1234;
  p.val_subset = 321;
  p.epochs = 2.5;
  p.batch_size = 48;
  p.lr = 0.07;
  p.seed = 99;
  const auto arch = space::decode_arch({"r1_k3_s11_e1_i32_o16"});
  const TrainConfig c = child_train_config(arch, p);
  EXPECT_EQ(c.arch, "r1_k3_s11_e1_i32_o16");
  EXPECT_EQ(c.dataset, "synthetic");
  EXPECT_EQ(c.image_size, 40);
  EXPECT_EQ(c.train_subset, 1234);
  EXPECT_EQ(c.val_holdout, 321);  // validation carved from the train set
  EXPECT_EQ(c.epochs, 2.5);
  EXPECT_EQ(c.batch_size, 48);
  // The proxy's lr is the peak: base_lr x batch / lr_batch_base = 0.07.
  EXPECT_DOUBLE_EQ(c.base_lr * c.batch_size / c.lr_batch_base, 0.07);
  EXPECT_EQ(c.ema_decay, 0.0);
  EXPECT_FALSE(c.eval_test);  // the test split is never used by the search
  EXPECT_EQ(c.seed, 99u);
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace mnas::train
