#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"

namespace fs = std::filesystem;

namespace mnas {

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool eq = fs::equivalent(a, b, ec);
    if (!ec) return eq;
  }
  const auto na = fs::weakly_canonical(fs::absolute(a, ec), ec).lexically_normal();
  const auto nb = fs::weakly_canonical(fs::absolute(b, ec), ec).lexically_normal();
  return na == nb;
}

void check_output_path(const std::string& output, const std::vector<std::string>& inputs,
                       const std::string& what) {
  if (output.empty()) throw ConfigError(what + ": the output path is empty; expected a file name");
  std::error_code ec;
  if (fs::is_directory(output, ec)) {
    throw ConfigError(what + " '" + output + "' is a directory; expected a file name");
  }
  for (const auto& in : inputs) {
    if (same_file(output, in)) {
      throw ConfigError(what + " '" + output + "' is the input file '" + in +
                        "'; writing it would destroy the input: choose another output path");
    }
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw ConfigError("output path is empty; expected a file name");
  std::error_code ec;
  if (fs::is_directory(path_, ec)) {
    throw ConfigError("output '" + path_ + "' is a directory; expected a file name");
  }
  const fs::path p(path_);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  temp_ = (dir / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  std::error_code ec;
  fs::remove(temp_, ec);
}

void AtomicFile::commit() {
  // fsync so that a power loss after the rename cannot leave an empty file.
  const int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd < 0) {
    throw Error("cannot write '" + path_ + "': temporary '" + temp_ + "' is missing: " +
                std::strerror(errno));
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) {
    fs::remove(temp_, ec);
    throw Error("cannot rename '" + temp_ + "' to '" + path_ + "': " + ec.message());
  }
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write '" + path + "' (temporary '" + file.temp_path() + "')");
    out << text;
    out.flush();
    if (!out) throw Error("cannot write '" + path + "': write failed (disk full?)");
  }
  file.commit();
}

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw ConfigError(what + " '" + path + "' is a directory; expected a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot open " + what + " '" + path + "': " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw ConfigError("cannot read " + what + " '" + path + "'");
  return s.str();
}

}  // namespace mnas
