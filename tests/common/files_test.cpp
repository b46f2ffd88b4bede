#include "common/files.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace fs = std::filesystem;

namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mnas_files_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static void write(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

TEST_F(FilesTest, SameFileSeesThroughLinksAndSpellings) {
  const auto db = path("r.db");
  write(db, "sqlite");
  fs::create_symlink(db, path("link.db"));
  fs::create_hard_link(db, path("hard.db"));
  EXPECT_TRUE(mnas::same_file(db, db));
  EXPECT_TRUE(mnas::same_file(db, path("link.db")));
  EXPECT_TRUE(mnas::same_file(db, path("hard.db")));
  EXPECT_TRUE(mnas::same_file(db, (dir_ / "." / "r.db").string()));
  EXPECT_FALSE(mnas::same_file(db, path("other.db")));
  EXPECT_FALSE(mnas::same_file(db, ""));
}

TEST_F(FilesTest, OutputOverAnInputIsRefused) {
  const auto db = path("r.db");
  write(db, "sqlite");
  fs::create_symlink(db, path("link.html"));
  EXPECT_THROW(mnas::check_output_path(db, {db}, "--out"), mnas::ConfigError);
  EXPECT_THROW(mnas::check_output_path(path("link.html"), {db}, "--out"), mnas::ConfigError);
  EXPECT_THROW(mnas::check_output_path(dir_.string(), {db}, "--out"), mnas::ConfigError);
  EXPECT_THROW(mnas::check_output_path("", {db}, "--out"), mnas::ConfigError);
  EXPECT_NO_THROW(mnas::check_output_path(path("report.html"), {db, ""}, "--out"));
  EXPECT_EQ(slurp(db), "sqlite");
  try {
    mnas::check_output_path(db, {db}, "--out");
  } catch (const mnas::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--out"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("input"), std::string::npos) << e.what();
  }
}

TEST_F(FilesTest, AtomicWriteReplacesWholeAndLeavesNoTemporary) {
  const auto out = path("a.json");
  write(out, "old");
  mnas::write_file_atomically(out, "new contents");
  EXPECT_EQ(slurp(out), "new contents");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(FilesTest, UncommittedTemporaryIsRemoved) {
  const auto out = path("model.onnx");
  {
    mnas::AtomicFile f(out);
    write(f.temp_path(), "unverified");
    EXPECT_TRUE(fs::exists(f.temp_path()));
  }  // an exception on the way: no commit
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(FilesTest, DirectoryAsOutputLeavesNothingBehind) {
  EXPECT_THROW(mnas::write_file_atomically(dir_.string(), "x"), mnas::ConfigError);
  EXPECT_TRUE(fs::is_empty(dir_));
  EXPECT_FALSE(fs::exists(dir_.string() + ".tmp"));
}

TEST_F(FilesTest, ReadFileNamesADirectoryOrAMissingFile) {
  try {
    mnas::read_file(dir_.string(), "config");
    FAIL() << "a directory was read";
  } catch (const mnas::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mnas::read_file(path("missing.json"), "config"), mnas::ConfigError);
  write(path("x.json"), "{}");
  EXPECT_EQ(mnas::read_file(path("x.json"), "config"), "{}");
}

}  // namespace
