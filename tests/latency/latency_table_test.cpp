#include "latency/latency_table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "space/expect_throw_msg.h"

namespace mnas::latency {
namespace {

const char* kKeyA = "block:mbconv:k3:s22:e6:f96:se0:none:112x112x16:o24";
const char* kKeyB = "stem:k3:s22:224x224x3:o32";

LatencyTable sample_table() {
  LatencyTable t;
  t.id = {"cpu", "onednn", 1, 224, 1};
  t.layers[kKeyA] = {0.5, 0.45, 0.6, 20};
  t.layers[kKeyB] = {0.25, 0.25, 0.25, 1};
  t.calibration.push_back({"r1_k3_s11_e1_i32_o16_noskip r2_k3_s22_e6_i16_o24", {6.5, 6.4, 6.7, 30}});
  return t;
}

void expect_same(const LatencyTable& a, const LatencyTable& b) {
  EXPECT_EQ(a.id, b.id);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (const auto& [k, v] : a.layers) {
    ASSERT_TRUE(b.layers.count(k)) << k;
    EXPECT_DOUBLE_EQ(b.layers.at(k).median_ms, v.median_ms);
    EXPECT_DOUBLE_EQ(b.layers.at(k).p10_ms, v.p10_ms);
    EXPECT_DOUBLE_EQ(b.layers.at(k).p90_ms, v.p90_ms);
    EXPECT_EQ(b.layers.at(k).runs, v.runs);
  }
  ASSERT_EQ(a.calibration.size(), b.calibration.size());
  EXPECT_EQ(a.calibration[0].arch, b.calibration[0].arch);
  EXPECT_DOUBLE_EQ(a.calibration[0].timing.median_ms, b.calibration[0].timing.median_ms);
}

TEST(LatencyTable, JsonRoundTrip) {
  const auto t = sample_table();
  expect_same(t, table_from_json(table_to_json(t)));
}

TEST(LatencyTable, CsvRoundTrip) {
  const auto t = sample_table();
  std::istringstream in(table_to_csv(t));
  expect_same(t, table_from_csv(in));
}

TEST(LatencyTable, CsvAsAUserWouldWriteIt) {
  // The documented phone workflow: optional columns left empty.
  std::istringstream in(
      "# measured on my phone\n"
      "kind,device,engine,threads,image_size,batch,key,median_ms,p10_ms,p90_ms,runs\n"
      "layer,remote:pixel1,tflite,1,224,1,stem:k3:s22:224x224x3:o32,1.5,,,\n"
      "\n"
      "layer,remote:pixel1,tflite,1,224,1,classifier:7x7x1280:o1000,0.2,0.19,0.22,50\r\n");
  const auto t = table_from_csv(in);
  EXPECT_EQ(to_string(t.id), "remote:pixel1/tflite/1t/224px/b1");
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_DOUBLE_EQ(t.layers.at("stem:k3:s22:224x224x3:o32").p90_ms, 1.5);
  EXPECT_EQ(t.layers.at("stem:k3:s22:224x224x3:o32").runs, 1);
  EXPECT_EQ(t.layers.at("classifier:7x7x1280:o1000").runs, 50);
}

TEST(LatencyTable, CsvRejectsCorruptInputNamingTheLine) {
  const std::string header =
      "kind,device,engine,threads,image_size,batch,key,median_ms,p10_ms,p90_ms,runs\n";
  auto parse = [&](const std::string& body) {
    std::istringstream in(header + body);
    return table_from_csv(in);
  };
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,abc,,,\n"), ParseError,
                   "line 2", "median_ms 'abc'");
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,-1,,,\n"), ParseError,
                   "line 2", "> 0");
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,not-a-key,1,,,\n"), ParseError, "'not-a-key'",
                   "not a layer key");
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,1,,,\n"
                         "layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,2,,,\n"),
                   ParseError, "line 3", "duplicate");
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,1,,,\n"
                         "layer,cpu,onednn,1,192,1,head:k1:s11:7x7x320:o1280,2,,,\n"),
                   ParseError, "line 3", "one table per file");
  EXPECT_THROW_MSG(parse("layer,tpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,1,,,\n"), ParseError,
                   "unknown device 'tpu'");
  EXPECT_THROW_MSG(parse("layer,cpu,onednn,1,224,1,stem:k3:s22:224x224x3:o32,1\n"), ParseError,
                   "11 columns");
  EXPECT_THROW_MSG(parse("calibration,cpu,onednn,1,224,1,r1_k4,1,,,\n"), ParseError,
                   "bad calibration architecture");
  EXPECT_THROW_MSG(parse(""), ParseError, "no rows");
  std::istringstream no_header("layer,cpu,onednn,1,224,1,x,1,,,\n");
  EXPECT_THROW_MSG(table_from_csv(no_header), ParseError, "expected the header");
}

TEST(LatencyTable, JsonRejectsCorruptInputNamingTheEntry) {
  auto j = table_to_json(sample_table());
  auto bad = j;
  bad["layers"][1]["median"] = 1.0;
  EXPECT_THROW_MSG(table_from_json(bad), ParseError, "layers[1]", "unknown key 'median'");
  bad = j;
  bad["format"] = "something-else";
  EXPECT_THROW_MSG(table_from_json(bad), ParseError, "format");
  bad = j;
  bad["table"]["engine"] = "tensorrt";
  EXPECT_THROW_MSG(table_from_json(bad), ParseError, "unknown engine 'tensorrt'");
  bad = j;
  bad["table"].erase("image_size");
  EXPECT_THROW_MSG(table_from_json(bad), ParseError, "table.image_size");
  bad = j;
  bad["layers"][0]["median_ms"] = "fast";
  EXPECT_THROW_MSG(table_from_json(bad), ParseError, "layers[0]", "number");
}

TEST(LatencyTable, FilesByExtension) {
  const std::string dir = ::testing::TempDir();
  const auto t = sample_table();
  for (const char* ext : {".json", ".csv"}) {
    const std::string path = dir + "/mnas_table_test" + ext;
    write_table_file(t, path);
    expect_same(t, read_table_file(path));
    std::remove(path.c_str());
  }
  EXPECT_THROW_MSG(write_table_file(t, dir + "/table.txt"), ConfigError, ".json or .csv");
  {
    std::ofstream out(dir + "/corrupt.json");
    out << "{\"format\": \"mnas-latency-table\", ";
  }
  EXPECT_THROW_MSG(read_table_file(dir + "/corrupt.json"), ParseError, "corrupt.json", "invalid JSON");
  EXPECT_THROW_MSG(read_table_file(dir + "/does-not-exist.csv"), ParseError, "cannot read");
}

TEST(LatencyTable, MissingLayersAreListedOnceInOrder) {
  const auto t = sample_table();
  space::GlobalParams p;
  const auto stem = space::stem_layer(p);  // 224x224x3 -> 32: in the table
  const auto head = space::head_layer(320, 7, 7, p);
  const auto fc = space::classifier_layer(7, 7, p);
  EXPECT_EQ(missing_layers(t, {stem, head, fc, head}),
            (std::vector<std::string>{"head:k1:s11:7x7x320:o1280", "classifier:7x7x1280:o1000"}));
}

}  // namespace
}  // namespace mnas::latency
