// mnas_decode end to end: exit codes, stdout/stderr discipline, JSON output.
#include <gtest/gtest.h>

#include "run_app.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

RunResult run_decode(const std::string& args) { return run_app("mnas_decode", args); }

TEST(MnasDecode, NamedModelTableHasTotals) {
  const auto r = run_decode("mnasnet-a1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3,887,038 params"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("311,579,072 MACs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("7x7x320"), std::string::npos);
}

TEST(MnasDecode, JsonHasTotalsAndLayers) {
  const auto r = run_decode("mnasnet-b1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("params").get<int64_t>(), 4383312);
  EXPECT_EQ(j.at("macs").get<int64_t>(), 314415872);
  // stem + 17 block layers + head + classifier
  EXPECT_EQ(j.at("layers").size(), 20u);
  EXPECT_EQ(j.at("layers")[0].at("kind"), "stem");
  EXPECT_EQ(j.at("blocks").size(), 7u);
}

TEST(MnasDecode, BlockStringsWithOptions) {
  const auto r = run_decode("r1_k3_s11_e1_i32_o16 r2_k3_s22_e6_i16_o24 --image-size 96 "
                            "--num-classes 10 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j.at("layers");
  EXPECT_EQ(layers[0].at("output_shape"), nlohmann::json({48, 48, 32}));
  EXPECT_EQ(layers.back().at("out_channels"), 10);
  EXPECT_EQ(j.at("global_params").at("image_size"), 96);
}

TEST(MnasDecode, DepthMultiplierRoundsWidths) {
  const auto r = run_decode("mnasnet-a1 --depth-multiplier 0.5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Reference section 3: a1 x0.5 stem 16, last stage 80 -> 160, head 1280.
  EXPECT_EQ(j.at("layers")[0].at("out_channels"), 16);
  const auto& layers = j.at("layers");
  EXPECT_EQ(layers[layers.size() - 3].at("out_channels"), 160);
  EXPECT_EQ(layers[layers.size() - 2].at("out_channels"), 1280);
}

TEST(MnasDecode, EncodePrintsCanonicalStrings) {
  const auto r = run_decode("r1_o16_k3_i32_s11_e1_noskip ds_r2_e1_k5_s22_i16_o24 --encode");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "r1_k3_s11_e1_i32_o16_noskip\nds_r2_k5_s22_i16_o24\n");
}

TEST(MnasDecode, BadBlockStringExits2WithMessageAndNoStdout) {
  const auto r = run_decode("r1_k4_s11_e1_i32_o16");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("r1_k4_s11_e1_i32_o16"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'k4'"), std::string::npos) << r.err;
}

TEST(MnasDecode, UnknownModelListsKnownOnes) {
  const auto r = run_decode("mnasnet-a9");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("mnasnet-a9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mnasnet-a1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mobilenet-v2"), std::string::npos) << r.err;
}

TEST(MnasDecode, BadOptionValuesExit2) {
  for (const char* args : {"mnasnet-a1 --image-size 0", "mnasnet-a1 --depth-multiplier -1",
                           "mnasnet-a1 --image-size abc", "mnasnet-a1 --no-such-flag", ""}) {
    const auto r = run_decode(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_TRUE(r.out.empty()) << args << ": " << r.out;
    EXPECT_FALSE(r.err.empty()) << args;
  }
}

TEST(MnasDecode, HelpAndList) {
  const auto help = run_decode("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--depth-multiplier"), std::string::npos);
  const auto list = run_decode("--list");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("mnasnet-d1-320"), std::string::npos);
}

}  // namespace

namespace {

TEST(MnasDecode, DescribesSearchSpace) {
  const auto r = run_decode(std::string("--space ") + MNAS_SOURCE_DIR + "/experiments/space-mnasnet.json --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("num_decisions"), 42);
  EXPECT_NEAR(j.at("log10_size").get<double>(), 7 * std::log10(432.0), 1e-9);
  const auto table = run_decode(std::string("--space ") + MNAS_SOURCE_DIR + "/experiments/space-mnasnet.json");
  EXPECT_NE(table.out.find("block6.repeats"), std::string::npos);
  const auto bad = run_decode("--space /nonexistent.json");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_NE(bad.err.find("/nonexistent.json"), std::string::npos);
}

// The pixel1 profile from the command line; golden values are the published
// Pixel-1 figures (MnasNet paper Table 1: A1 78 ms, MobileNetV2 1.0 75 ms).
TEST(MnasDecode, LatencyOnThePixel1Profile) {
  for (const auto& [model, published] : {std::pair<std::string, double>{"mnasnet-a1", 78},
                                         {"mobilenet-v2", 75}}) {
    const auto r = run_decode(model + " --latency pixel1 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto latency = nlohmann::json::parse(r.out).at("latency");
    EXPECT_EQ(latency.at("device"), "pixel1");
    EXPECT_TRUE(latency.at("estimate").get<bool>());
    EXPECT_NEAR(latency.at("predicted_ms").get<double>(), published, 0.05 * published) << model;
  }
  const auto table = run_decode("mnasnet-a1 --latency pixel1");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("ms on pixel1 (estimate"), std::string::npos) << table.out;

  const auto bad = run_decode("mnasnet-a1 --latency pixel2");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_NE(bad.err.find("'pixel2'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("pixel1"), std::string::npos) << bad.err;
}

}  // namespace
