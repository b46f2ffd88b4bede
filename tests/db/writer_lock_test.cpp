#include "db/writer_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace mnas::db {
namespace {

std::string temp_db(const std::string& name) {
  const std::string path = ::testing::TempDir() + name + "-" + std::to_string(::getpid());
  std::filesystem::remove(path + ".lock");
  return path;
}

std::string refusal(const std::string& db) {
  try {
    WriterLock second(db, "test");
  } catch (const LockedError& e) {
    return e.what();
  }
  return "";
}

TEST(WriterLock, SecondWriterIsRefusedAndReleaseRemovesTheLockFile) {
  const auto db = temp_db("lock-inproc.db");
  {
    WriterLock first(db, "mnas_search");
    EXPECT_TRUE(std::filesystem::exists(db + ".lock"));
    const std::string msg = refusal(db);
    EXPECT_NE(msg.find("pid " + std::to_string(::getpid())), std::string::npos) << msg;
    EXPECT_NE(msg.find("mnas_search started "), std::string::npos) << msg;
    EXPECT_NE(msg.find("on host "), std::string::npos) << msg;
  }
  EXPECT_FALSE(std::filesystem::exists(db + ".lock"));
  WriterLock again(db, "mnas_search");  // free again
}

TEST(WriterLock, SymbolicLinkSharesTheLock) {
  const auto db = temp_db("lock-target.db");
  { Database create(db); }
  const auto link = temp_db("lock-link.db");
  std::filesystem::remove(link);
  std::filesystem::create_symlink(db, link);
  WriterLock first(db, "mnas_search");
  EXPECT_FALSE(refusal(link).empty());
  std::filesystem::remove(link);
  std::filesystem::remove(db);
}

TEST(WriterLock, KillNineOfTheHolderReleasesIt) {
  const auto db = temp_db("lock-kill.db");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    WriterLock held(db, "child");
    const char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  const std::string msg = refusal(db);
  EXPECT_NE(msg.find("pid " + std::to_string(pid) + " "), std::string::npos) << msg;
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  // The stale file stays; the lock does not.
  EXPECT_TRUE(std::filesystem::exists(db + ".lock"));
  WriterLock mine(db, "test");
}

TEST(WriterLock, EmptyPathIsRefused) {
  EXPECT_THROW(WriterLock("", "test"), ConfigError);
}

TEST(Database, EmptyPathIsRefused) {
  EXPECT_THROW(Database(""), ConfigError);
  EXPECT_THROW(Database("", Database::Mode::kReadOnly), ConfigError);
}

}  // namespace
}  // namespace mnas::db
