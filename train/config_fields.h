// Strict JSON fields and range checks shared by the configurations of
// train/ (TrainConfig in train_config.cpp, ProxyConfig in child_config.cpp).
// Internal, Torch-free.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "train/train_config.h"

namespace mnas::train::detail {

using nlohmann::json;

// Sets `out` from `value`, throwing ConfigError "<what> key '<key>':
// expected ..., got ..." when the JSON type (or integer range) is wrong.
template <class T>
void assign(const std::string& what, const std::string& key, const json& value, T& out) {
  auto bad = [&](const char* expected) {
    throw ConfigError(what + " key '" + key + "': expected " + expected + ", got " + value.dump());
  };
  if constexpr (std::is_same_v<T, json>) {
    if (!value.is_object() && !value.is_null()) bad("a JSON object or null");
    out = value;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) bad("true or false");
    out = value.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) bad("a string");
    out = value.get<std::string>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!value.is_number_integer()) bad("an integer");
    if (std::is_unsigned_v<T> && value.is_number_integer() && !value.is_number_unsigned()) {
      bad("a non-negative integer");
    }
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) bad("a smaller integer");
      out = static_cast<T>(v);
    } else {
      const auto v = value.get<int64_t>();
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        bad("a smaller integer");
      }
      out = static_cast<T>(v);
    }
  } else {
    if (!value.is_number()) bad("a number");
    out = value.get<double>();
  }
}

// Reads every key of object `j` into the field of that name (`visit(c, f)`
// calls f(name, field) for each field); unknown keys throw ConfigError
// listing the known ones.
template <class C, class Visit>
void read_fields(const json& j, C& c, const std::string& what, Visit visit) {
  if (!j.is_object()) throw ConfigError(what + ": expected a JSON object, got " + j.dump());
  for (const auto& [key, value] : j.items()) {
    bool found = false;
    visit(c, [&](const char* name, auto& field) {
      if (key == name) {
        assign(what, key, value, field);
        found = true;
      }
    });
    if (!found) {
      std::string known;
      visit(c, [&](const char* name, auto&) { known += (known.empty() ? "" : ", ") + std::string(name); });
      throw ConfigError(what + ": unknown key '" + key + "' (known: " + known + ")");
    }
  }
}

inline void require(bool ok, const std::string& what, const std::string& field, const std::string& expected) {
  if (!ok) throw ConfigError(what + " '" + field + "': expected " + expected);
}

// "cpu", "cuda" or "cuda:N" (N a decimal device index).
inline bool is_device_name(const std::string& d) {
  if (d == "cpu" || d == "cuda") return true;
  if (d.rfind("cuda:", 0) != 0 || d.size() == 5 || d.size() > 8) return false;
  return std::all_of(d.begin() + 5, d.end(), [](unsigned char ch) { return std::isdigit(ch); });
}

inline void check_threads_and_device(const std::string& w, int threads, const std::string& device) {
  require(threads >= 1 && threads <= kMaxThreads, w, "threads",
          "1.." + std::to_string(kMaxThreads) + ", got " + std::to_string(threads));
  require(is_device_name(device), w, "device", "cpu | cuda | cuda:N, got '" + device + "'");
}

inline void check_one_of(const std::string& what, const std::string& field, const std::string& value,
                         std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw ConfigError(what + " '" + field + "': expected one of " + list + ", got '" + value + "'");
}

}  // namespace mnas::train::detail
