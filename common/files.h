// Files an mnas tool writes: atomically, and never over one of its inputs.
//
// Every output (checkpoint, export, report, config, latency table) is written
// to a temporary file beside the destination and renamed into place, so a
// crash or kill at any moment leaves either the old file or the new one,
// never half of one, and never a stray temporary. An output that resolves to
// one of the run's inputs (the same path, a hard link or a symbolic link to
// it) is refused before anything is written: `mnas_report --db r.db --out
// r.db` must not turn the database into HTML.
#pragma once

#include <string>
#include <vector>

namespace mnas {

// True when `a` and `b` name the same file: the same inode when both exist
// (through any links), else the same lexically normalised absolute path.
bool same_file(const std::string& a, const std::string& b);

// Throws ConfigError when `output` is empty, names a directory, or is the
// same file as one of `inputs` (empty inputs are skipped). `what` names the
// output in the message ("--out", "--onnx").
void check_output_path(const std::string& output, const std::vector<std::string>& inputs,
                       const std::string& what);

// A temporary file beside `path` that becomes `path` on commit(). The
// destructor removes the temporary when commit() was not reached (an
// exception on the way), so a failed write leaves nothing under either name.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write: "<dir>/.<name>.tmp-<pid>" (same file system as `path`).
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  // fsyncs the temporary and renames it over `path`. Throws Error naming
  // both paths when that fails (the temporary is removed).
  void commit();

 private:
  std::string path_;
  std::string temp_;
  bool committed_ = false;
};

// Writes `text` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, const std::string& text);

// The whole file as bytes. Throws ConfigError naming the path when it is
// missing, a directory or unreadable; `what` names the file's role ("config").
std::string read_file(const std::string& path, const std::string& what);

}  // namespace mnas
