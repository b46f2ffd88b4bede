// Error types shared by every mnas library.
//
// The libraries throw and the apps catch (STYLE.md habit 9): LibTorch already
// throws c10::Error, so a second error channel (status codes) would double the
// paths. Every message names the bad input and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace mnas {

// Base of every error mnas throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// A block string, model name or other textual input is malformed.
class ParseError : public Error {
 public:
  using Error::Error;
};

// A configuration (options, JSON file, flags) is invalid or inconsistent.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace mnas
