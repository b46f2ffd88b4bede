#include "common/json_file.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace {

std::string message_of(const std::string& text) {
  try {
    mnas::parse_json(text, "config 'x.json'");
  } catch (const mnas::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonFile, ParsesOrdinaryDocuments) {
  const auto j = mnas::parse_json(R"({"budget": 14, "space": {"blocks": [[1, 2], [3]]}})", "config");
  EXPECT_EQ(j.at("budget").get<int>(), 14);
  EXPECT_EQ(j.at("space").at("blocks").size(), 2u);
}

TEST(JsonFile, DeepNestingIsAnErrorNotACrash) {
  // 100,000 levels overflowed the stack in nlohmann's recursive parser/dump.
  const int depth = 100000;
  const std::string text = "{\"budget\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
  const auto m = message_of(text);
  EXPECT_NE(m.find("nested deeper than"), std::string::npos) << m;
  EXPECT_NE(m.find("x.json"), std::string::npos) << m;
  // At the limit it still parses.
  const std::string ok = std::string(mnas::kMaxJsonDepth, '[') + std::string(mnas::kMaxJsonDepth, ']');
  EXPECT_NO_THROW(mnas::parse_json(ok, "config"));
}

TEST(JsonFile, DuplicateKeysAreRejectedAtAnyLevel) {
  EXPECT_NE(message_of(R"({"budget": 1, "budget": 2})").find("duplicate key \"budget\""), std::string::npos);
  EXPECT_NE(message_of(R"({"a": {"k": 1, "k": 1}})").find("duplicate key \"k\""), std::string::npos);
  // The same key in sibling objects is fine.
  EXPECT_NO_THROW(mnas::parse_json(R"([{"k": 1}, {"k": 2}])", "config"));
}

TEST(JsonFile, BytesAfterANulAreNotIgnored) {
  const std::string text = std::string("{\"budget\": 1}") + '\0' + "garbage";
  EXPECT_NE(message_of(text).find("NUL byte at offset 13"), std::string::npos) << message_of(text);
}

TEST(JsonFile, InvalidJsonNamesTheInput) {
  const auto m = message_of("{\"budget\": }");
  EXPECT_NE(m.find("x.json"), std::string::npos) << m;
  EXPECT_NE(m.find("invalid JSON"), std::string::npos) << m;
}

TEST(JsonFile, ExcerptIsBounded) {
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) big.push_back(i);
  EXPECT_LE(mnas::json_excerpt(big, 20).size(), 23u);
}

}  // namespace
