#include "db/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/error.h"

namespace mnas::db {
namespace {

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

// What the holder wrote ("pid 123 on host h, mnas_search started ..."),
// bounded and printable; "" when the file is empty.
std::string holder_text(int fd) {
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s;
  for (ssize_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(buf[i]);
    if (c == '\n') break;
    s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return s;
}

}  // namespace

std::string lock_path_for(const std::string& db_path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(db_path, ec), ec);
  if (ec || p.empty()) p = db_path;
  return p.string() + ".lock";
}

WriterLock::WriterLock(const std::string& db_path, const std::string& tool) {
  if (db_path.empty()) throw ConfigError("database path is empty; expected a file name");
  lock_path_ = lock_path_for(db_path);
  // Another writer may remove the file between our open and our flock (a
  // clean release unlinks it): then the lock we got is on a dead inode, so
  // check that the path still names what we locked, and retry if not.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw DbError("cannot create the writer lock '" + lock_path_ + "' of database '" + db_path +
                    "': " + std::strerror(errno) + " (the database needs a writable folder)");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      std::string holder = holder_text(fd);
      ::close(fd);
      if (err != EWOULDBLOCK) {
        throw DbError("cannot lock '" + lock_path_ + "': " + std::strerror(err));
      }
      if (holder.empty()) holder = "another process (it has not written its name yet)";
      throw LockedError("database '" + db_path + "' is in use by another writer: " + holder +
                        "; wait for it to finish or stop it (readers such as mnas_report may "
                        "use the database meanwhile; lock file '" + lock_path_ + "')");
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) != 0 || ::stat(lock_path_.c_str(), &named) != 0 ||
        held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    const std::string text = "pid " + std::to_string(::getpid()) + " on host " + host_name() +
                             ", " + tool + " started " + now_utc() + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
      // The lock holds regardless; only the holder's description is missing.
    }
    fd_ = fd;
    return;
  }
  throw DbError("cannot lock '" + lock_path_ + "': the lock file keeps being replaced");
}

WriterLock::~WriterLock() {
  if (fd_ < 0) return;
  // Unlink while holding the lock: a writer that opened the old file finds
  // it unlinked after its flock and retries on a fresh one.
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

}  // namespace mnas::db
