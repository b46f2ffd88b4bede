#include <gtest/gtest.h>

#include <stdexcept>

#include "../space/expect_throw_msg.h"
#include "common/error.h"
#include "search/evaluator.h"
#include "space/block_codec.h"
#include "space/counters.h"
#include "space/named_archs.h"

namespace mnas::search {
namespace {

TEST(EvaluatorTest, RequestAndResultRoundTripThroughJson) {
  const TrialRequest req{12, "r1_k3_s11_e1_i32_o16_noskip", 0xFFFFFFFFFFFFFFF1ULL, 2, {}};
  const auto back = trial_request_from_json(nlohmann::json::parse(to_json(req).dump()));
  EXPECT_EQ(back.trial, 12);
  EXPECT_EQ(back.arch, req.arch);
  EXPECT_EQ(back.seed, req.seed);
  EXPECT_EQ(back.attempt, 2);
  EXPECT_EQ(back.stage.rung, 0);
  EXPECT_EQ(back.stage.max_steps, 0);
  // A promotion travels with its rung, step budget and checkpoint path.
  TrialRequest promo = req;
  promo.stage = {2, 156, "/shared/x.db.children/experiment-1/trial-12.pt"};
  const auto pb = trial_request_from_json(nlohmann::json::parse(to_json(promo).dump()));
  EXPECT_EQ(pb.stage.rung, 2);
  EXPECT_EQ(pb.stage.max_steps, 156);
  EXPECT_EQ(pb.stage.checkpoint, promo.stage.checkpoint);
  auto negative = to_json(promo);
  negative["max_steps"] = -1;
  EXPECT_THROW_MSG(trial_request_from_json(negative), ParseError, "max_steps must be >= 0");
  auto no_rung = to_json(promo);
  no_rung.erase("rung");
  EXPECT_THROW_MSG(trial_request_from_json(no_rung), ParseError, "lacks key 'rung'");

  TrialResult r;
  r.trial = 3;
  r.status = TrialStatus::kDiverged;
  r.accuracy = 0.125;
  r.latency_ms = 70.5;
  r.measured_latency_ms = 71.25;
  r.params = 123456789;
  r.worker = "rank2";
  r.message = "loss is nan";
  r.rung = 2;
  r.steps = 52;
  const auto r2 = trial_result_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(to_json(r2), to_json(r));
  EXPECT_EQ(r2.rung, 2);
  EXPECT_EQ(r2.steps, 52);
  EXPECT_EQ(r2.status, TrialStatus::kDiverged);
  EXPECT_EQ(*r2.measured_latency_ms, 71.25);

  auto j = to_json(req);
  j["extra"] = 1;
  EXPECT_THROW_MSG(trial_request_from_json(j), ParseError, "unknown key 'extra'");
  j = to_json(r);
  j.erase("status");
  EXPECT_THROW_MSG(trial_result_from_json(j), ParseError, "'status'");
  j = to_json(r);
  j["status"] = "exploded";
  EXPECT_THROW_MSG(trial_result_from_json(j), ParseError, "exploded");
}

TEST(EvaluatorTest, InProcessEvaluatesInOrderAndTurnsExceptionsIntoFailures) {
  space::GlobalParams deploy;
  int calls = 0;
  InProcessEvaluator ev(
      [&](const space::ArchSpec& arch, uint64_t seed, const ChildStage&) {
        ++calls;
        if (seed == 666) throw std::runtime_error("out of memory");
        ChildOutcome o;
        o.status = TrialStatus::kOk;
        o.accuracy = 0.5 + 0.01 * static_cast<double>(arch.blocks.size());
        return o;
      },
      [](const space::ArchSpec&) { return 42.0; }, deploy, "w0");
  EXPECT_EQ(ev.capacity(), 1);
  const std::string a1 = space::arch_to_string(space::decode_arch(space::named_arch("mnasnet-a1").block_strings));
  ev.submit({0, a1, 1, 1, {}});
  ev.submit({1, a1, 666, 1, {}});
  ev.submit({2, "r1_k4_s11_e1_i32_o16", 1, 1, {}});  // kernel 4: malformed
  EXPECT_EQ(ev.in_flight(), 3);
  const auto r0 = ev.poll();
  EXPECT_EQ(r0.trial, 0);
  EXPECT_EQ(r0.status, TrialStatus::kOk);
  EXPECT_DOUBLE_EQ(r0.accuracy, 0.57);
  EXPECT_EQ(r0.latency_ms, 42.0);
  EXPECT_EQ(r0.worker, "w0");
  // MnasNet-A1 at 224 px: 3.9M parameters, 312M multiply-adds (reference README).
  EXPECT_NEAR(static_cast<double>(r0.params) / 1e6, 3.9, 0.05);
  EXPECT_NEAR(static_cast<double>(r0.macs) / 1e6, 312, 1);
  const auto r1 = ev.poll();
  EXPECT_EQ(r1.status, TrialStatus::kFailed);
  EXPECT_EQ(r1.message, "out of memory");
  const auto r2 = ev.poll();
  EXPECT_EQ(r2.status, TrialStatus::kFailed);
  EXPECT_NE(r2.message.find("kernel"), std::string::npos) << r2.message;
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(ev.in_flight(), 0);
  EXPECT_THROW(ev.poll(), Error);
}

}  // namespace
}  // namespace mnas::search
