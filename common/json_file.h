// Strict JSON for every file and flag mnas reads (configs, search spaces,
// latency tables, checkpoints' metadata).
//
// nlohmann::json alone is lenient where a tool should not be and recursive
// where hostile input can hurt: it keeps the last of two duplicate keys, stops
// at a NUL byte, and both parsing and dumping recurse once per nesting level
// (a config nested 100,000 deep overflowed the stack). parse_json() rejects
// duplicate keys, NUL bytes and nesting deeper than kMaxJsonDepth before the
// document is built, with a message that names the input and the position.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mnas {

// Deeper than any mnas file needs (the search space nests 4 levels).
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; `what` names the input in errors ("config 'a.json'").
// Throws ConfigError: invalid JSON, a duplicate key, a NUL byte, or nesting
// deeper than kMaxJsonDepth.
nlohmann::json parse_json(const std::string& text, const std::string& what);

// Reads and parses a file (read_file + parse_json); errors name the path.
nlohmann::json load_json_file(const std::string& path, const std::string& what);

// A short rendering of a value for error messages: at most `max_chars`
// characters, never recursing deeper than the value's depth allows.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

}  // namespace mnas
