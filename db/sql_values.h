// Optional values in SQLiteCpp statements and columns: NULL <-> nullopt.
// Internal to the db library's stores.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>

namespace mnas::db::detail {

template <class T>
void bind_opt(SQLite::Statement& s, int i, const std::optional<T>& v) {
  if (v) {
    s.bind(i, *v);
  } else {
    s.bind(i);
  }
}

inline std::optional<double> opt_double(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

inline std::optional<int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

// kNow: the current UTC time in SQL, ISO 8601 with milliseconds.
inline constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

}  // namespace mnas::db::detail
