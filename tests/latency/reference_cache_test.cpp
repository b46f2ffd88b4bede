// Where the host's reference constant is cached: the environment's order.
#include "latency/reference_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace mnas::latency {
namespace {

// Sets (or unsets, with nullopt) an environment variable for a scope.
class EnvScope {
 public:
  EnvScope(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvScope() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ReferenceCache, PrefersMnasCacheDirThenXdgThenHome) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(::testing::TempDir()) / "mnas_reference_cache_test";
  fs::remove_all(root);
  {
    EnvScope mnas("MNAS_CACHE_DIR", (root / "mnas").string());
    EnvScope xdg("XDG_CACHE_HOME", (root / "xdg").string());
    EnvScope home("HOME", (root / "home").string());
    EXPECT_EQ(reference_cache_db(), (root / "mnas" / "reference.db").string());
    EXPECT_TRUE(fs::is_directory(root / "mnas"));
  }
  {
    EnvScope mnas("MNAS_CACHE_DIR", std::string());  // empty counts as unset
    EnvScope xdg("XDG_CACHE_HOME", (root / "xdg").string());
    EXPECT_EQ(reference_cache_db(), (root / "xdg" / "mnas" / "reference.db").string());
  }
  {
    EnvScope mnas("MNAS_CACHE_DIR", std::nullopt);
    EnvScope xdg("XDG_CACHE_HOME", std::nullopt);
    EnvScope home("HOME", (root / "home").string());
    EXPECT_EQ(reference_cache_db(), (root / "home" / ".cache" / "mnas" / "reference.db").string());
  }
  {
    EnvScope mnas("MNAS_CACHE_DIR", std::nullopt);
    EnvScope xdg("XDG_CACHE_HOME", std::nullopt);
    EnvScope home("HOME", std::nullopt);
    EXPECT_EQ(reference_cache_db(), "");
  }
  {
    // A directory that cannot be created: no cache.
    const fs::path file = root / "a_file";
    { std::FILE* f = std::fopen(file.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
    EnvScope mnas("MNAS_CACHE_DIR", (file / "sub").string());
    EXPECT_EQ(reference_cache_db(), "");
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace mnas::latency
