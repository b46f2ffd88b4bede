#include "common/json_file.h"

#include <set>
#include <vector>

#include "common/error.h"
#include "common/files.h"

namespace mnas {
namespace {

// A SAX pass that builds nothing: it checks depth and duplicate keys so that
// the real parse (and any later dump) only ever sees a bounded document.
class Checker : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Checker(std::string what) : what_(std::move(what)) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return deeper();
  }
  bool key(string_t& k) override {
    if (!keys_.back().insert(k).second) {
      throw ConfigError(what_ + ": duplicate key \"" + k + "\" (strict JSON: each key once)");
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    keys_.emplace_back();
    return deeper();
  }
  bool end_array() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    throw ConfigError(what_ + ": invalid JSON at byte " + std::to_string(position) + ": " + e.what());
  }

 private:
  bool deeper() {
    if (++depth_ > kMaxJsonDepth) {
      throw ConfigError(what_ + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                        " levels; expected a configuration document");
    }
    return true;
  }

  std::string what_;
  int depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    throw ConfigError(what + ": NUL byte at offset " + std::to_string(nul) + "; expected JSON text");
  }
  Checker checker(what);
  nlohmann::json::sax_parse(text, &checker);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(what + ": invalid JSON: " + e.what());
  }
}

nlohmann::json load_json_file(const std::string& path, const std::string& what) {
  return parse_json(read_file(path, what), what + " '" + path + "'");
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  // Values that reach an error message were parsed by parse_json (bounded
  // depth) or built by code, so dump() is safe; only the length is cut.
  std::string s = value.dump();
  if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
  return s;
}

}  // namespace mnas
