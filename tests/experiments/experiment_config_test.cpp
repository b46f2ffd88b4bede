#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../space/expect_throw_msg.h"
#include "common/error.h"
#include "experiments/experiment_config.h"

namespace mnas::experiments {
namespace {

TEST(ExperimentConfigTest, DefaultsAreThePapers) {
  const ExperimentConfig c;
  EXPECT_EQ(c.reward.target_ms, 75);
  EXPECT_EQ(c.reward.alpha, -0.07);
  EXPECT_EQ(c.reward.beta, -0.07);
  EXPECT_EQ(c.strategy.name, "ppo");
  EXPECT_EQ(c.strategy.ppo.lstm_hidden, 100);
  EXPECT_EQ(c.strategy.ppo.baseline_decay, 0.95);
  EXPECT_EQ(c.strategy.ppo.init_range, 0.1);
  EXPECT_EQ(c.space.decisions().size(), 42u);
  // Issue #18: the controller's learning constants are chosen for 100-500
  // trials (search/ppo_config.h); the paper's live in search-paper.json.
  EXPECT_EQ(search::to_json(c.strategy.ppo), search::to_json(search::PpoConfig{}));
  const auto paper = experiment_from_file(std::string(MNAS_SOURCE_DIR) + "/experiments/search-paper.json");
  EXPECT_EQ(paper.strategy.ppo.learning_rate, 0.00035);
  EXPECT_EQ(paper.strategy.ppo.entropy_weight, 1e-5);
  EXPECT_EQ(paper.strategy.ppo.batch_size, 20);
  EXPECT_FALSE(paper.strategy.ppo.normalize_advantages);
  EXPECT_EQ(paper.strategy.ppo.max_grad_norm, 0);
  EXPECT_EQ(paper.strategy.ppo.target_kl, 0);
  EXPECT_FALSE(paper.strategy.ppo.per_decision_ratio);
  EXPECT_EQ(paper.budget, 8000);
  // The file of the embedded default is the embedded default.
  const auto file = experiment_from_file(std::string(MNAS_SOURCE_DIR) + "/experiments/search-default.json");
  EXPECT_EQ(search::to_json(file.strategy.ppo), search::to_json(c.strategy.ppo));
  EXPECT_EQ(file.proxy.time_limit_s, kDefaultChildSeconds);
  EXPECT_TRUE(file.strategy.ppo.per_decision_ratio);
  // Canonical JSON round-trips.
  EXPECT_EQ(to_json(experiment_from_json(to_json(c))), to_json(c));
}

// Issue #16: the default experiment predicts Pixel-1 latency (the paper's
// target); the host is one flag away.
TEST(ExperimentConfigTest, DefaultLatencyDeviceIsPixel1) {
  EXPECT_EQ(ExperimentConfig{}.deploy.device, "pixel1");
  EXPECT_TRUE(latency::uses_profile(build_config({}).deploy));
  const auto file = experiment_from_file(std::string(MNAS_SOURCE_DIR) + "/experiments/search-default.json");
  EXPECT_EQ(file.deploy.device, "pixel1");
  EXPECT_EQ(to_json(file.deploy), to_json(ExperimentConfig{}.deploy));
  // A deploy object without "device" is the host, as DeployConfig reads it.
  EXPECT_EQ(experiment_from_json({{"deploy", {{"threads", 2}}}}).deploy.device, "cpu");

  ConfigOverrides o;
  o.latency_device = "cpu";
  const auto cpu = build_config(o);
  EXPECT_EQ(cpu.deploy.device, "cpu");
  EXPECT_EQ(cpu.deploy.engine, "auto");
  EXPECT_TRUE(o.any());
  o.latency_device = "pixel2";
  EXPECT_THROW_MSG(build_config(o), ConfigError, "unknown device 'pixel2'", "pixel1", "cpu");
  // Switching kind of device resets an engine that only meant something there.
  ExperimentConfig host;
  host.deploy.device = "cpu";
  host.deploy.engine = "onednn";
  o.latency_device = "pixel1";
  EXPECT_EQ(apply_overrides(host, o).deploy.engine, "auto");
  o.latency_device = "cuda";
  host.deploy.engine = "eager";
  EXPECT_EQ(apply_overrides(host, o).deploy.engine, "eager");
}

TEST(ExperimentConfigTest, StrictKeysNamed) {
  EXPECT_THROW_MSG(experiment_from_json({{"budgett", 3}}), ConfigError, "'budgett'");
  EXPECT_THROW_MSG(experiment_from_json({{"strategy", {{"nme", "ppo"}}}}), ConfigError,
                   "strategy.nme");
  EXPECT_THROW_MSG(experiment_from_json({{"strategy", {{"ppo", {{"lr", 1}}}}}}), ConfigError,
                   "strategy.ppo.lr");
  EXPECT_THROW_MSG(experiment_from_json({{"reward", {{"alpha", -1}}}}), ConfigError, "custom");
  EXPECT_THROW_MSG(experiment_from_json({{"strategy", {{"name", "bayes"}}}}), ConfigError,
                   "unknown strategy 'bayes'");
  EXPECT_THROW_MSG(experiment_from_json({{"objective", "imagenet"}}), ConfigError, "imagenet");
  EXPECT_THROW_MSG(experiment_from_json({{"budget", 0}}), ConfigError, "budget");
  EXPECT_THROW_MSG(experiment_from_json({{"seed", -1}}), ConfigError, "seed");
  // proxy and deploy are parsed here, once, by their libraries' parsers.
  EXPECT_EQ(experiment_from_json({{"proxy", {{"epochs", 2}}}}).proxy.epochs, 2);
  EXPECT_EQ(experiment_from_json({{"deploy", {{"threads", 4}}}}).deploy.threads, 4);
  EXPECT_THROW_MSG(experiment_from_json({{"proxy", {{"epoch", 2}}}}), ConfigError, "epoch");
  EXPECT_THROW_MSG(experiment_from_json({{"proxy", {{"batch_size", 0}}}}), ConfigError, "batch_size");
  EXPECT_THROW_MSG(experiment_from_json({{"deploy", {{"engine", "tensorrt"}}}}), ConfigError,
                   "tensorrt");
  EXPECT_THROW_MSG(experiment_from_json({{"deploy", 3}}), ConfigError, "deploy");
}

// Databases written before proxy and deploy were typed store them as given
// (the embedded default: {"time_limit_s": 70} and {}). They parse to the same
// configuration as the canonical form, and the canonical form is what the old
// parser read: any object there, then train::proxy_config_from_json and
// latency::deploy_config_from_json.
// The embedded deploy device was then the host ("cpu"; now "pixel1"), and
// {} still reads as the host, so those experiments resume on their table.
TEST(ExperimentConfigTest, OldRawProxyAndDeployFormsParseAlike) {
  ExperimentConfig c;
  c.deploy.device = "cpu";
  c.proxy.time_limit_s = 70;  // the embedded default of that time (now 300 s)
  nlohmann::json old = to_json(c);
  old["proxy"] = {{"time_limit_s", 70}};
  old["deploy"] = nlohmann::json::object();
  EXPECT_EQ(to_json(experiment_from_json(old)), to_json(c));
  const nlohmann::json canonical = to_json(c);
  EXPECT_EQ(train::to_json(train::proxy_config_from_json(canonical.at("proxy"))),
            canonical.at("proxy"));
  EXPECT_EQ(latency::to_json(latency::deploy_config_from_json(canonical.at("deploy"))),
            canonical.at("deploy"));
  // The safety net of today's default is generous (issue #18).
  EXPECT_GE(kDefaultChildSeconds, 300);
  EXPECT_EQ(ExperimentConfig{}.proxy.time_limit_s, kDefaultChildSeconds);
}

TEST(ExperimentConfigTest, FilesResolveTheSpaceNextToThem) {
  const auto dir = std::filesystem::temp_directory_path() / "mnas_experiment_config_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "space.json") << R"({"skeleton": [{"filters": 16, "repeats": 1, "stride": 1},
      {"filters": 24, "repeats": 2, "stride": 2}]})";
    std::ofstream(dir / "exp.json") << R"({"space": "space.json", "budget": 7,
      "strategy": {"name": "evolution", "evolution": {"population_size": 4, "sample_size": 2}}})";
    std::ofstream(dir / "bad.json") << R"({"budget": 7,})";
  }
  const auto c = experiment_from_file((dir / "exp.json").string());
  EXPECT_EQ(c.space.decisions().size(), 12u);
  EXPECT_EQ(c.budget, 7);
  EXPECT_EQ(c.strategy.evolution.population_size, 4);
  EXPECT_THROW_MSG(experiment_from_file((dir / "bad.json").string()), ConfigError, "bad.json");
  EXPECT_THROW_MSG(experiment_from_file((dir / "none.json").string()), ConfigError, "none.json");
  std::filesystem::remove_all(dir);
}

TEST(ExperimentConfigTest, HostileFilesAreRefusedWithTheirPath) {
  // Issue 14: nesting 100,000 deep overflowed the stack; a directory gave
  // "internal error: basic_filebuf..."; duplicate keys kept the last one.
  const auto dir = std::filesystem::temp_directory_path() / "mnas_experiment_config_hostile";
  std::filesystem::create_directories(dir);
  const int depth = 100000;
  std::ofstream(dir / "deep.json") << "{\"budget\": " << std::string(depth, '[')
                                   << std::string(depth, ']') << "}";
  std::ofstream(dir / "dup.json") << R"({"budget": 3, "budget": 4})";
  std::ofstream(dir / "big.json") << R"({"budget": ")" << std::string(100000, 'x') << R"("})";
  EXPECT_THROW_MSG(experiment_from_file((dir / "deep.json").string()), ConfigError, "deep.json",
                   "nested deeper than 64");
  EXPECT_THROW_MSG(experiment_from_file((dir / "dup.json").string()), ConfigError, "dup.json",
                   "duplicate key");
  EXPECT_THROW_MSG(experiment_from_file(dir.string()), ConfigError, "is a directory");
  try {
    experiment_from_file((dir / "big.json").string());
    ADD_FAILURE() << "did not throw";
  } catch (const ConfigError& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u) << "the message should bound the value";
  }
  std::filesystem::remove_all(dir);
}

TEST(ExperimentConfigTest, FlagsOverrideAndAreChecked) {
  ConfigOverrides o;
  EXPECT_FALSE(o.any());
  o.target_latency = "0.08s";
  o.budget = 12;
  o.strategy = "random";
  o.reward = "hard";
  const auto c = build_config(o);
  EXPECT_TRUE(o.any());
  EXPECT_EQ(c.reward.target_ms, 80);
  EXPECT_EQ(c.reward.beta, -1);
  EXPECT_EQ(c.budget, 12);
  EXPECT_EQ(c.strategy.name, "random");

  ConfigOverrides custom;
  custom.alpha = -0.1;
  EXPECT_EQ(build_config(custom).reward.kind, search::RewardKind::kCustom);
  EXPECT_EQ(build_config(custom).reward.beta, -0.07);

  auto bad = [](auto set) {
    ConfigOverrides b;
    set(b);
    return b;
  };
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.target_latency = "75"; })), ConfigError,
                   "unit is missing");
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.target_latency = "-1ms"; })), ConfigError,
                   "> 0");
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.strategy = "grid"; })), ConfigError, "grid");
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.reward = "custom"; })), ConfigError,
                   "--reward");
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.beta = 0.5; })), ConfigError, "beta");
  EXPECT_THROW_MSG(build_config(bad([](auto& b) { b.reward = "soft", b.alpha = -0.07; })),
                   ConfigError, "exclude each other");
}

// --resume layers the flags on the stored configuration with the same
// function as a new search (apply_overrides), checks included.
TEST(ExperimentConfigTest, FlagsLayerOnAnyBase) {
  ExperimentConfig stored;
  stored.budget = 9;
  stored.reward.kind = search::RewardKind::kCustom;
  ConfigOverrides o;
  o.seed = 3;
  const auto c = apply_overrides(stored, o);
  EXPECT_EQ(c.budget, 9);
  EXPECT_EQ(c.seed, 3u);
  o.reward = "soft";
  o.alpha = -0.07;
  EXPECT_THROW_MSG(apply_overrides(stored, o), ConfigError, "exclude each other");
}

TEST(ExperimentConfigTest, FirstDifferenceNamesThePath) {
  const nlohmann::json a = {{"reward", {{"target_ms", 75}}}, {"list", {1, 2, 3}}, {"x", 1}};
  EXPECT_EQ(first_difference(a, a), "");
  auto b = a;
  b["reward"]["target_ms"] = 80;
  EXPECT_EQ(first_difference(a, b), "reward.target_ms");
  b = a;
  b["list"][2] = 4;
  EXPECT_EQ(first_difference(a, b), "list[2]");
  b = a;
  b["x"] = 1.0;  // same number
  EXPECT_EQ(first_difference(a, b), "");
  b["y"] = 0;
  EXPECT_EQ(first_difference(a, b), "y");
}

// Issue #18: "rungs" (multi-fidelity children). Absent = single fidelity,
// and the canonical form of such an experiment is what it was before rungs
// existed (old databases resume as before); the embedded default has rungs.
// A configuration stored before strategy.ppo.per_decision_ratio existed
// (every other key explicit, as to_json writes them) resumes and reports with
// the per-architecture ratio it ran with; a file without the key gets the
// default, and a stored configuration with it keeps it.
TEST(ExperimentConfigTest, StoredConfigurationsWithoutPerDecisionRatioKeepThePerArchitectureOne) {
  ASSERT_TRUE(search::PpoConfig{}.per_decision_ratio);
  nlohmann::json stored = to_json(ExperimentConfig{});
  stored["strategy"]["ppo"].erase("per_decision_ratio");
  EXPECT_FALSE(stored_experiment_from_json(stored).strategy.ppo.per_decision_ratio);
  EXPECT_TRUE(experiment_from_json(stored).strategy.ppo.per_decision_ratio);
  stored["strategy"]["ppo"]["per_decision_ratio"] = true;
  EXPECT_TRUE(stored_experiment_from_json(stored).strategy.ppo.per_decision_ratio);
  // Everything else is read as experiment_from_json reads it, errors too.
  EXPECT_EQ(to_json(stored_experiment_from_json(stored)), to_json(experiment_from_json(stored)));
  stored["strategy"]["ppo"]["per_decision_ratio"] = "yes";
  EXPECT_THROW_MSG(stored_experiment_from_json(stored), ConfigError, "per_decision_ratio");
  EXPECT_THROW(stored_experiment_from_json(nlohmann::json::array()), ConfigError);
}

TEST(ExperimentConfigTest, RungsAreOptionalStrictAndInTheDefault) {
  const auto plain = experiment_from_json({{"objective", "synthetic"}});
  EXPECT_FALSE(plain.rungs.has_value());
  EXPECT_FALSE(to_json(plain).contains("rungs"));
  EXPECT_FALSE(ExperimentConfig{}.rungs.has_value());
  const auto withr = experiment_from_json({{"rungs", {{"eta", 2}, {"levels", 4}}}});
  ASSERT_TRUE(withr.rungs.has_value());
  EXPECT_EQ(withr.rungs->eta, 2);
  EXPECT_EQ(withr.rungs->levels, 4);
  EXPECT_EQ(to_json(experiment_from_json(to_json(withr))), to_json(withr));
  EXPECT_THROW_MSG(experiment_from_json({{"rungs", {{"eta", 0}}}}), ConfigError, "rungs.eta", ">= 2");
  EXPECT_THROW_MSG(experiment_from_json({{"rungs", {{"levels", 3}, {"et", 3}}}}), ConfigError,
                   "unknown key 'rungs.et'");
  // Rungs need distinct step budgets: 8 levels of eta 3 on a 156-step proxy cannot.
  EXPECT_THROW_MSG(experiment_from_json({{"rungs", {{"eta", 3}, {"levels", 8}}}}), ConfigError,
                   "would train", "156-step proxy schedule");

  const auto def = build_config({});
  ASSERT_TRUE(def.rungs.has_value());
  EXPECT_EQ(search::to_json(*def.rungs), search::to_json(default_rungs()));
  const auto file = experiment_from_file(std::string(MNAS_SOURCE_DIR) + "/experiments/search-default.json");
  ASSERT_TRUE(file.rungs.has_value());
  EXPECT_EQ(to_json(file), to_json(def));  // the file of the embedded default is the embedded default
  // The issue's target: >= 100 architectures, >= 15 policy updates.
  EXPECT_GE(def.budget, 100);
  EXPECT_GE(def.budget / def.strategy.ppo.batch_size, 15);
}

}  // namespace
}  // namespace mnas::experiments
