// The ASHA promotion rule and the rung budgets (search/asha.h). The expected
// promotions are worked out by hand from the rule of Li et al. (2020):
// top floor(n / eta) of a rung, highest rung first.
#include <gtest/gtest.h>

#include "../space/expect_throw_msg.h"
#include "common/error.h"
#include "search/asha.h"

namespace mnas::search {
namespace {

using State = RungEntry::State;

RungEntry done(int64_t trial, int rung, double score) { return {trial, rung, State::kDone, score}; }
RungEntry pending(int64_t trial, int rung) { return {trial, rung, State::kPending, 0}; }
RungEntry failed(int64_t trial, int rung) { return {trial, rung, State::kFailed, 0}; }

TEST(AshaTest, NothingIsPromotedBeforeARungHasEtaResults) {
  EXPECT_FALSE(next_promotion({}, 3, 3));
  EXPECT_FALSE(next_promotion({done(0, 0, 0.9), done(1, 0, 0.5)}, 3, 3));
  // Pending and failed children do not count towards n.
  EXPECT_FALSE(next_promotion({done(0, 0, 0.9), done(1, 0, 0.5), pending(2, 0), failed(3, 0)}, 3, 3));
}

TEST(AshaTest, TheBestOfEveryEtaFinishedChildrenIsPromoted) {
  std::vector<RungEntry> e = {done(0, 0, 0.5), done(1, 0, 0.9), done(2, 0, 0.7)};
  auto p = next_promotion(e, 3, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 1);
  EXPECT_EQ(p->rung, 1);
  // Once trial 1 has a rung-1 entry (running), no second promotion from 3 results.
  e.push_back(pending(1, 1));
  EXPECT_FALSE(next_promotion(e, 3, 3));
  // Six results: the top two (0.9 and 0.8) are promotable; 1 is taken, so 4.
  e.push_back(done(3, 0, 0.1));
  e.push_back(done(4, 0, 0.8));
  e.push_back(done(5, 0, 0.2));
  p = next_promotion(e, 3, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 4);
  EXPECT_EQ(p->rung, 1);
}

TEST(AshaTest, AChildOutsideTheTopThirdWaitsUntilTheRungGrows) {
  // Ranks: 1 (0.9), 2 (0.8), 0 (0.7). With 3 results only trial 1.
  std::vector<RungEntry> e = {done(0, 0, 0.7), done(1, 0, 0.9), done(2, 0, 0.8), done(1, 1, 0.95)};
  EXPECT_FALSE(next_promotion(e, 3, 3));
  // Three weaker results make n = 6: trial 2 is now in the top 2.
  for (int64_t t : {3, 4, 5}) e.push_back(done(t, 0, 0.1));
  auto p = next_promotion(e, 3, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 2);
}

TEST(AshaTest, HigherRungsComeFirstAndTheTopRungIsNeverPromoted) {
  std::vector<RungEntry> e;
  for (int64_t t = 0; t < 9; ++t) e.push_back(done(t, 0, 0.1 * static_cast<double>(t)));
  // Rung 1 holds the top three of rung 0 (8, 7, 6), all done.
  e.push_back(done(8, 1, 0.5));
  e.push_back(done(7, 1, 0.6));
  e.push_back(done(6, 1, 0.4));
  auto p = next_promotion(e, 3, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 7);  // the best of rung 1 goes to rung 2 before anything else
  EXPECT_EQ(p->rung, 2);
  e.push_back(done(7, 2, 0.7));
  // Rung 2 is the top: nothing more (rung 0's top three are all promoted).
  EXPECT_FALSE(next_promotion(e, 3, 3));
  // With two rungs only, rung 1 is the top and never promoted.
  EXPECT_FALSE(next_promotion({done(0, 1, 0.9), done(1, 1, 0.8), done(2, 1, 0.7)}, 3, 2));
}

TEST(AshaTest, FailedPromotionsAreNotRetriedAndTiesGoToTheLowerTrial) {
  std::vector<RungEntry> e = {done(5, 0, 0.5), done(2, 0, 0.5), done(9, 0, 0.1)};
  auto p = next_promotion(e, 3, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 2);
  e.push_back(failed(2, 1));
  EXPECT_FALSE(next_promotion(e, 3, 3));
  EXPECT_FALSE(next_promotion(e, 3, 3).has_value());
}

TEST(AshaTest, EtaTwoPromotesHalf) {
  const std::vector<RungEntry> e = {done(0, 0, 0.3), done(1, 0, 0.4), done(2, 0, 0.2), done(3, 0, 0.1),
                                    done(1, 1, 0.5)};
  auto p = next_promotion(e, 2, 2);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trial, 0);
  EXPECT_EQ(p->rung, 1);
}

TEST(AshaTest, RungBudgetsAreStepsOfTheProxySchedule) {
  RungConfig c;  // eta 3, levels 3, min_fraction 1/9
  EXPECT_DOUBLE_EQ(rung_fraction(c, 0), 1.0 / 9);
  EXPECT_DOUBLE_EQ(rung_fraction(c, 1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(rung_fraction(c, 2), 1.0);
  // 156 steps (one epoch of 10000 images in batches of 64): 17.33 -> 17, 52, 156.
  EXPECT_EQ(rung_steps(c, 156), (std::vector<int64_t>{17, 52, 156}));
  c.min_fraction = 0.05;  // 0.05, 0.15, 1
  EXPECT_EQ(rung_steps(c, 200), (std::vector<int64_t>{10, 30, 200}));
  c = RungConfig{2, 4, 0};  // 1/8, 1/4, 1/2, 1
  EXPECT_EQ(rung_steps(c, 16), (std::vector<int64_t>{2, 4, 8, 16}));
  EXPECT_THROW_MSG(rung_steps(c, 4), ConfigError, "rung 1 would train 1 steps", "4-step proxy schedule");
}

TEST(AshaTest, ConfigParsingIsStrict) {
  const auto c = rung_config_from_json({{"eta", 4}, {"levels", 2}, {"min_fraction", 0.2}});
  EXPECT_EQ(c.eta, 4);
  EXPECT_EQ(c.levels, 2);
  EXPECT_EQ(c.min_fraction, 0.2);
  EXPECT_EQ(to_json(rung_config_from_json(to_json(c))), to_json(c));
  EXPECT_EQ(rung_config_from_json(nlohmann::json::object()).eta, 3);
  EXPECT_THROW_MSG(rung_config_from_json({{"etta", 3}}), ConfigError, "unknown key 'rungs.etta'", "eta, levels");
  EXPECT_THROW_MSG(rung_config_from_json({{"eta", 1}}), ConfigError, "rungs.eta", ">= 2", "got 1");
  EXPECT_THROW_MSG(rung_config_from_json({{"eta", 2.5}}), ConfigError, "rungs.eta must be an integer");
  EXPECT_THROW_MSG(rung_config_from_json({{"levels", 1}}), ConfigError, "rungs.levels", "2..10");
  EXPECT_THROW_MSG(rung_config_from_json({{"min_fraction", 1.5}}), ConfigError, "rungs.min_fraction", "(0, 1)");
  // 0.5 x 3^(3-2) = 1.5: the middle rung would train more than the full proxy.
  EXPECT_THROW_MSG(rung_config_from_json({{"min_fraction", 0.5}}), ConfigError, "eta^(levels-2) must be < 1");
  EXPECT_THROW_MSG(rung_config_from_json(nlohmann::json::array()), ConfigError, "rungs must be a JSON object");
}

}  // namespace
}  // namespace mnas::search
