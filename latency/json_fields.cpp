#include "latency/json_fields.h"

#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/json_file.h"

namespace mnas::latency {

JsonFields::JsonFields(const nlohmann::json& object, std::string what, std::string path)
    : object_(object), what_(std::move(what)), path_(std::move(path)) {
  if (!object_.is_object()) {
    throw ConfigError(what_ + ": " + (path_.empty() ? std::string("the document") : path_) +
                      " should be an object, got " + json_excerpt(object_));
  }
}

bool JsonFields::has(const char* key) const { return object_.contains(key); }

std::string JsonFields::path_of(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

void JsonFields::fail(const char* key, const std::string& expected) const {
  std::string got = object_.contains(key) ? ", got " + json_excerpt(object_.at(key)) : "";
  throw ConfigError(what_ + ": " + path_of(key) + " should be " + expected + got);
}

const nlohmann::json& JsonFields::value(const char* key, const char* expected) {
  if (!object_.contains(key)) {
    throw ConfigError(what_ + ": missing key '" + path_of(key) + "' (expected " + expected + ")");
  }
  used_.insert(key);
  return object_.at(key);
}

std::string JsonFields::string(const char* key) {
  const auto& v = value(key, "a string");
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

double JsonFields::number(const char* key) {
  const auto& v = value(key, "a number");
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "a finite number");
  return v.get<double>();
}

double JsonFields::non_negative(const char* key) {
  const auto& v = value(key, "a number >= 0");
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0.0) {
    fail(key, "a number >= 0");
  }
  return v.get<double>();
}

double JsonFields::positive(const char* key) {
  const auto& v = value(key, "a number > 0");
  if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0.0)) {
    fail(key, "a number > 0");
  }
  return v.get<double>();
}

int JsonFields::integer(const char* key, int min_value) {
  const std::string expected = "an integer >= " + std::to_string(min_value);
  const auto& v = value(key, expected.c_str());
  if (!v.is_number_integer()) fail(key, expected);
  const auto n = v.get<int64_t>();
  if (n < min_value || n > std::numeric_limits<int>::max()) fail(key, expected);
  return static_cast<int>(n);
}

std::string JsonFields::string_or(const char* key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

double JsonFields::positive_or(const char* key, double fallback) {
  return has(key) ? positive(key) : fallback;
}

void JsonFields::finish(const char* known) const {
  for (const auto& [k, v] : object_.items()) {
    (void)v;
    if (!used_.count(k)) {
      throw ConfigError(what_ + ": unknown key '" + path_of(k.c_str()) + "' (expected " + known + ")");
    }
  }
}

}  // namespace mnas::latency
