// The synthetic objective follows the documented formulas (search/synthetic.h)
// and has the intended shape.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "search/synthetic.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/layer_spec.h"
#include "space/named_archs.h"

namespace mnas::search {
namespace {

space::ArchSpec a1() { return space::decode_arch(space::named_arch("mnasnet-a1").block_strings); }

TEST(SyntheticTest, FollowsTheDocumentedFormulas) {
  const space::GlobalParams deploy;  // 224 px, 1000 classes
  const auto arch = a1();
  const auto layers = space::expand_layers(arch, deploy);
  const auto c = space::model_cost(layers).total;
  // A1: 16 block layers (1+2+3+4+2+3+1).
  const double lat = 2.0 + 0.145 * static_cast<double>(c.conv_macs + c.fc_macs) / 1e6 +
                     0.725 * static_cast<double>(c.depthwise_macs) / 1e6 +
                     48.0 * static_cast<double>(c.se_macs) / 1e6 + 0.25 * 16;
  EXPECT_NEAR(synthetic_latency_ms(arch, deploy), lat, 1e-9);
  std::cout << "MnasNet-A1: synthetic latency " << lat << " ms, accuracy "
            << synthetic_accuracy(arch, deploy) << "\n";
  EXPECT_GT(lat, 60);
  EXPECT_LT(lat, 95);
  // Per-stage bonuses are at most 0.004 + 0.002 + 0.003 + 0.002 = 0.011.
  const double macs = static_cast<double>(c.macs) / 1e6;
  const double base = 0.90 - 0.40 * std::exp(-macs / 160.0);
  const double acc = synthetic_accuracy(arch, deploy);
  EXPECT_GT(acc, base);
  EXPECT_LT(acc, base + 7 * 0.011 + 1e-12);
}

TEST(SyntheticTest, MoreComputeIsSlowerAndMoreAccurate) {
  const space::GlobalParams deploy;
  auto small = a1(), big = a1();
  for (auto& b : big.blocks) b.num_repeat += 1;
  EXPECT_GT(synthetic_latency_ms(big, deploy), synthetic_latency_ms(small, deploy));
  EXPECT_GT(synthetic_accuracy(big, deploy), synthetic_accuracy(small, deploy));
  auto se = small;
  se.blocks[3].se_ratio = 0.25;
  EXPECT_GT(synthetic_latency_ms(se, deploy), synthetic_latency_ms(small, deploy));
}

TEST(SyntheticTest, CallbacksAreDeterministic) {
  const space::GlobalParams deploy;
  const auto acc = synthetic_accuracy_fn(deploy);
  const auto o1 = acc(a1(), 1, {}), o2 = acc(a1(), 2, {});
  EXPECT_EQ(o1.status, TrialStatus::kOk);
  EXPECT_EQ(o1.accuracy, o2.accuracy);
  EXPECT_EQ(o1.accuracy, synthetic_accuracy(a1(), deploy));
  EXPECT_EQ(synthetic_latency_fn(deploy)(a1()), synthetic_latency_ms(a1(), deploy));
}

// A rung's partial budget (issue #18) scores lower, by 0.03-0.05 / 2^rung,
// the same for every call.
TEST(SyntheticTest, PartialBudgetsScoreLowerByRung) {
  const space::GlobalParams deploy;
  const auto acc = synthetic_accuracy_fn(deploy);
  const double full = synthetic_accuracy(a1(), deploy);
  double previous = 0;
  for (int rung = 0; rung < 3; ++rung) {
    const ChildStage stage{rung, 17, ""};
    const auto o = acc(a1(), 1, stage);
    EXPECT_EQ(o.accuracy, acc(a1(), 9, stage).accuracy);
    EXPECT_EQ(o.steps, 17);
    const double scale = 1.0 / (1 << rung);
    EXPECT_LE(o.accuracy, full - 0.03 * scale + 1e-12) << rung;
    EXPECT_GE(o.accuracy, full - 0.05 * scale - 1e-12) << rung;
    EXPECT_GT(o.accuracy, previous);
    previous = o.accuracy;
  }
}

}  // namespace
}  // namespace mnas::search
