// ONNX Runtime through node and tools/onnxruntime/run.js (train/onnxruntime_runner.h).
#include "train/onnxruntime_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

extern char** environ;

namespace mnas::onnxruntime {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary folder, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/mnas_onnxruntime_XXXXXX";
    if (!mkdtemp(tmpl.data())) throw Error("cannot create a temporary folder '" + tmpl + "': " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace

const char* const kSetupHint = "run scripts/setup.sh (installs node, npm and onnxruntime-node)";

std::string node_binary() {
  const char* n = std::getenv("MNAS_NODE");
  return n && *n ? n : "node";
}

std::string checked_script(const std::string& name) {
  const std::string dir = package_dir();
  const std::string script = dir + "/" + name;
  if (!fs::is_regular_file(script)) {
    const char* env = std::getenv("MNAS_ONNXRUNTIME_DIR");
    throw Error("ONNX Runtime runner '" + script + "' not found (" +
                (env && *env ? "MNAS_ONNXRUNTIME_DIR is set to '" + dir + "'"
                             : "the source tree's tools/onnxruntime; MNAS_ONNXRUNTIME_DIR overrides it") +
                "): " + kSetupHint);
  }
  if (!fs::is_regular_file(dir + "/node_modules/onnxruntime-node/package.json")) {
    throw Error("ONNX Runtime (npm onnxruntime-node) is not installed in '" + dir + "/node_modules': " + kSetupHint);
  }
  return script;
}

namespace {

struct Exit {
  int code = -1;
  std::string out, err;
};

// Runs node with `args`, stdout and stderr to files of `tmp`.
Exit run_node(const std::vector<std::string>& args, const TempDir& tmp) {
  const std::string node = node_binary();
  std::vector<std::string> all{node};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = tmp.file("stdout"), err = tmp.file("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, node.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw Error("cannot start '" + node + "' to run ONNX Runtime: " + std::strerror(rc) +
                (rc == ENOENT ? std::string(" (node is not installed or not on PATH: ") + kSetupHint + ")" : ""));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(std::string("waiting for node (ONNX Runtime): ") + std::strerror(errno));
  }
  Exit e;
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.out = slurp(out);
  e.err = slurp(err);
  if (e.code == 127) throw Error("cannot start '" + node + "' to run ONNX Runtime: " + kSetupHint);
  return e;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.rfind("run.js: ", 0) == 0) s.erase(0, 8);
  return s;
}

nlohmann::json parse_reply(const Exit& e) {
  try {
    return nlohmann::json::parse(e.out);
  } catch (const nlohmann::json::exception&) {
    throw Error("ONNX Runtime runner printed no JSON: '" + e.out.substr(0, 200) + "' " + trimmed(e.err));
  }
}

}  // namespace

std::string package_dir() {
  const char* d = std::getenv("MNAS_ONNXRUNTIME_DIR");
  return d && *d ? d : MNAS_ONNXRUNTIME_SOURCE_DIR;
}

bool installed() {
  const std::string dir = package_dir();
  return fs::is_regular_file(dir + "/run.js") &&
         fs::is_regular_file(dir + "/node_modules/onnxruntime-node/package.json");
}

std::string version() {
  const std::string script = checked_script("run.js");
  TempDir tmp;
  const Exit e = run_node({script, "--version"}, tmp);
  if (e.code != 0) throw Error("ONNX Runtime: " + trimmed(e.err));
  return parse_reply(e).value("onnxruntime", "");
}

void validate(const Settings& s) {
  if (s.threads < 1) throw ConfigError("ONNX Runtime threads must be >= 1, got " + std::to_string(s.threads));
  if (s.opt_level != "disabled" && s.opt_level != "basic" && s.opt_level != "extended" && s.opt_level != "all") {
    throw ConfigError("ONNX Runtime graph optimisation level must be disabled, basic, extended or all, got '" +
                      s.opt_level + "'");
  }
  if (s.execution_mode != "sequential" && s.execution_mode != "parallel") {
    throw ConfigError("ONNX Runtime execution mode must be sequential or parallel, got '" + s.execution_mode + "'");
  }
}

Result run(const std::string& model, const Tensor& input, const Settings& s, int repeat, int warmup) {
  validate(s);
  if (repeat < 0 || warmup < 0) throw ConfigError("ONNX Runtime repeat and warmup must be >= 0");
  size_t count = input.shape.empty() ? 0 : 1;
  std::string shape;
  for (const int64_t d : input.shape) {
    if (d < 1) throw ConfigError("ONNX Runtime input dimensions must be >= 1");
    count *= static_cast<size_t>(d);
    shape += (shape.empty() ? "" : ",") + std::to_string(d);
  }
  const size_t values = input.is_int8() ? input.int8.size() : input.data.size();
  if (count == 0 || values == 0 || values % count != 0) {
    throw ConfigError("ONNX Runtime input has " + std::to_string(values) + " values, not a multiple of the " +
                      std::to_string(count) + " its shape [" + shape + "] needs");
  }
  if (!fs::is_regular_file(model)) throw Error("ONNX file '" + model + "' not found");
  const std::string script = checked_script("run.js");
  TempDir tmp;
  const std::string in = tmp.file("input.f32"), out = tmp.file("output.f32");
  {
    std::ofstream f(in, std::ios::binary);
    if (input.is_int8()) {
      f.write(reinterpret_cast<const char*>(input.int8.data()), static_cast<std::streamsize>(input.int8.size()));
    } else {
      f.write(reinterpret_cast<const char*>(input.data.data()),
              static_cast<std::streamsize>(input.data.size() * sizeof(float)));
    }
    if (!f) throw Error("cannot write the ONNX Runtime input '" + in + "'");
  }
  const Exit e = run_node({script, model, "--input", in, "--input-type", input.is_int8() ? "int8" : "float32",
                           "--shape", shape, "--output", out, "--threads", std::to_string(s.threads), "--opt-level",
                           s.opt_level, "--execution-mode", s.execution_mode, "--repeat", std::to_string(repeat),
                           "--warmup", std::to_string(warmup)},
                          tmp);
  if (e.code != 0) throw Error(trimmed(e.err));
  const auto j = parse_reply(e);
  Result r;
  r.version = j.value("onnxruntime", "");
  r.input_name = j.at("input").value("name", "");
  r.output_name = j.at("output").value("name", "");
  r.output.shape = j.at("output").at("shape").get<std::vector<int64_t>>();
  r.run_ms = j.at("run_ms").get<std::vector<double>>();
  const bool int8_out = j.at("output").value("type", "float32") == "int8";
  const size_t element = int8_out ? 1 : sizeof(float);
  const std::string bytes = slurp(out);
  size_t n = 1;
  for (const int64_t d : r.output.shape) n *= static_cast<size_t>(d);
  if (bytes.size() != n * element) {
    throw Error("ONNX Runtime output of '" + model + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
                std::to_string(n * element));
  }
  if (int8_out) {
    r.output.int8.resize(n);
    std::memcpy(r.output.int8.data(), bytes.data(), bytes.size());
  } else {
    r.output.data.resize(n);
    std::memcpy(r.output.data.data(), bytes.data(), bytes.size());
  }
  return r;
}

}  // namespace mnas::onnxruntime
