// A strict reader of one JSON object's fields, for the profile and
// measurement files (latency/device_profile.h, latency/profile_fit.h).
//
// Every getter names the field by its full path ("fit.points[3].name") and
// says what was expected; finish() rejects the keys nobody asked for. All
// errors are ConfigError prefixed with the input's name.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace mnas::latency {

class JsonFields {
 public:
  // `what`: the input ("profile 'pixel1.json'"); `path`: the object's own
  // path, empty at the top level. Throws when `object` is not an object.
  JsonFields(const nlohmann::json& object, std::string what, std::string path);

  bool has(const char* key) const;
  // Required fields (missing: "missing key 'x' (expected ...)").
  const nlohmann::json& value(const char* key, const char* expected);
  std::string string(const char* key);
  double number(const char* key);
  double non_negative(const char* key);  // finite and >= 0
  double positive(const char* key);      // finite and > 0
  int integer(const char* key, int min_value);
  // Optional fields: `fallback` when absent.
  std::string string_or(const char* key, const std::string& fallback);
  double positive_or(const char* key, double fallback);

  // "key" under this object's path, for messages ("fit.points[2].role").
  std::string path_of(const char* key) const;
  // Throws naming `key` and `expected`, with an excerpt of the value.
  [[noreturn]] void fail(const char* key, const std::string& expected) const;
  // Throws on the first key that no getter asked for, listing `known`.
  void finish(const char* known) const;
  const std::string& what() const { return what_; }

 private:
  const nlohmann::json& object_;
  std::string what_;
  std::string path_;
  std::set<std::string> used_;
};

}  // namespace mnas::latency
