#include "latency/reference_cache.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace mnas::latency {

std::string reference_cache_db() {
  namespace fs = std::filesystem;
  fs::path dir;
  if (const char* d = std::getenv("MNAS_CACHE_DIR"); d && *d) {
    dir = d;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    dir = fs::path(x) / "mnas";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    dir = fs::path(h) / ".cache" / "mnas";
  } else {
    return "";
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "";
  return (dir / "reference.db").string();
}

}  // namespace mnas::latency
