// The proxy child trainer (train/child_trainer.h): learning, and bad
// children becoming statuses.
#include "train/child_trainer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "space/block_codec.h"
#include "tests/train/tiny_run.h"

namespace mnas::train {
namespace {

using test_util::kTinyArch;

ProxyConfig tiny_proxy() {
  ProxyConfig p;
  p.dataset = "synthetic";
  p.image_size = 16;
  p.num_classes = 4;
  p.train_subset = 512;
  p.val_subset = 256;
  p.batch_size = 32;
  p.epochs = 4;
  p.lr = 0.1;
  p.threads = 1;
  return p;
}

TEST(TrainChildTest, LearnsTheSyntheticTaskQuickly) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  const ChildResult r = train_child(arch, tiny_proxy());
  ASSERT_EQ(r.status, TrialStatus::kOk) << r.message;
  EXPECT_GT(r.top1, 0.6);  // chance is 0.25
  EXPECT_EQ(r.images_seen, 4 * 512);
  EXPECT_GT(r.train_seconds, 0.0);
}

TEST(TrainChildTest, BadChildrenBecomeStatuses) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  ProxyConfig p = tiny_proxy();
  p.lr = 1e30;
  EXPECT_EQ(train_child(arch, p).status, TrialStatus::kDiverged);
  p = tiny_proxy();
  p.num_classes = 1;  // invalid config
  const ChildResult bad = train_child(arch, p);
  EXPECT_EQ(bad.status, TrialStatus::kFailed);
  EXPECT_NE(bad.message.find("num_classes"), std::string::npos);
  p = tiny_proxy();
  p.time_limit_s = 1e-9;
  EXPECT_EQ(train_child(arch, p).status, TrialStatus::kTimeout);
}

// Issue #18: the time limit is a safety net; a child it stops is still
// evaluated with the weights it has, and says so.
TEST(TrainChildTest, TimeoutIsEvaluatedAndSaysWhere) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  ProxyConfig p = tiny_proxy();
  p.time_limit_s = 1e-9;  // stops after the first step
  const ChildResult r = train_child(arch, p);
  ASSERT_EQ(r.status, TrialStatus::kTimeout);
  EXPECT_EQ(r.images_seen, 32);  // one step of 32
  EXPECT_NE(r.message.find("reached at step 1 of 64"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("held-out top-1"), std::string::npos) << r.message;
  EXPECT_GT(r.eval_seconds, 0.0);
  EXPECT_GT(r.loss, 0.0);
  EXPECT_GE(r.top1, 0.0);
  EXPECT_LE(r.top1, 1.0);
}

// Multi-fidelity children (issue #18): training to k1 steps with a
// checkpoint and resuming to k2 gives what training to k2 at once gives
// (the schedule is the full proxy's), and the step counts are the proxy's.
TEST(TrainChildTest, AStageResumesToTheSameResultAsOneRun) {
  const auto arch = space::decode_arch(space::split_block_strings(kTinyArch));
  const ProxyConfig p = tiny_proxy();  // 512 / 32 = 16 steps per epoch, 4 epochs
  EXPECT_EQ(proxy_total_steps(p), 64);
  ProxyConfig odd = p;
  odd.train_subset = 500;  // 15 full batches (the last, partial one is dropped)
  odd.epochs = 0.5;
  EXPECT_EQ(proxy_total_steps(odd), 7);

  const auto ckpt = (std::filesystem::temp_directory_path() /
                     ("mnas_child_stage_" + std::to_string(::getpid()) + ".pt")).string();
  std::filesystem::remove(ckpt);
  ChildStage first;
  first.max_steps = 7;
  first.checkpoint = ckpt;
  const ChildResult low = train_child(arch, p, first);
  ASSERT_EQ(low.status, TrialStatus::kOk) << low.message;
  EXPECT_EQ(low.steps, 7);
  EXPECT_EQ(low.images_seen, 7 * 32);
  ASSERT_TRUE(std::filesystem::exists(ckpt));

  ChildStage second = first;
  second.max_steps = 21;
  second.resume = true;
  const ChildResult promoted = train_child(arch, p, second);
  ASSERT_EQ(promoted.status, TrialStatus::kOk) << promoted.message;
  EXPECT_EQ(promoted.steps, 21);
  EXPECT_EQ(promoted.images_seen, 14 * 32);  // only the steps of this stage

  ChildStage straight;
  straight.max_steps = 21;
  const ChildResult once = train_child(arch, p, straight);
  ASSERT_EQ(once.status, TrialStatus::kOk) << once.message;
  EXPECT_EQ(once.steps, 21);
  EXPECT_EQ(promoted.top1, once.top1);
  EXPECT_EQ(promoted.loss, once.loss);
  std::filesystem::remove(ckpt);

  ChildStage bad;
  bad.resume = true;
  const ChildResult refused = train_child(arch, p, bad);
  EXPECT_EQ(refused.status, TrialStatus::kFailed);
  EXPECT_NE(refused.message.find("resume needs a checkpoint path"), std::string::npos) << refused.message;
}

}  // namespace
}  // namespace mnas::train
