#include "latency/builtin_profiles.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "common/error.h"
#include "common/json_file.h"

namespace mnas::latency {
namespace detail {
// Generated: embedded_profiles.cpp in the build tree.
const std::vector<std::pair<const char*, const char*>>& embedded_profiles();
}  // namespace detail

namespace {

std::string known_names() {
  std::string known;
  for (const auto& n : builtin_profile_names()) known += (known.empty() ? "" : ", ") + n;
  return known;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : detail::embedded_profiles()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_builtin_profile(std::string_view name) {
  for (const auto& [n, text] : detail::embedded_profiles()) {
    if (name == n) return true;
  }
  return false;
}

const DeviceProfile& builtin_profile(std::string_view name) {
  static std::mutex mutex;
  static std::map<std::string, DeviceProfile, std::less<>> parsed;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = parsed.find(name); it != parsed.end()) return it->second;
  for (const auto& [n, text] : detail::embedded_profiles()) {
    if (name != n) continue;
    const std::string what = "built-in profile '" + std::string(n) + "'";
    DeviceProfile p = profile_from_json(parse_json(text, what), what);
    if (p.name != n) throw ConfigError(what + ": its name is '" + p.name + "'");
    return parsed.emplace(std::string(n), std::move(p)).first->second;
  }
  throw ConfigError("unknown device profile '" + std::string(name) + "' (known: " + known_names() + ")");
}

DeviceProfile load_profile(const std::string& name_or_path) {
  if (is_builtin_profile(name_or_path)) return builtin_profile(name_or_path);
  if (ends_with(name_or_path, ".json")) return read_profile_file(name_or_path);
  throw ConfigError("device profile '" + name_or_path + "' is neither a built-in profile (" +
                    known_names() + ") nor a .json file");
}

}  // namespace mnas::latency
