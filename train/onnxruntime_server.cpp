// The ONNX Runtime server client (train/onnxruntime_server.h).
#include "train/onnxruntime_server.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
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
using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.rfind("serve.js: ", 0) == 0) s.erase(0, 10);
  return s;
}

}  // namespace

Server::Server() {
  const std::string script = checked_script("serve.js");
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/mnas_ort_server_XXXXXX";
  if (!mkdtemp(tmpl.data())) throw Error("cannot create a temporary folder '" + tmpl + "': " + std::strerror(errno));
  dir_ = tmpl;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    throw Error(std::string("cannot create pipes to node (ONNX Runtime): ") + std::strerror(errno));
  }
  const std::string node = node_binary();
  std::vector<std::string> all{node, script};
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string err = dir_ + "/stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int rc = posix_spawnp(&pid_, node.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    pid_ = -1;
    fs::remove_all(dir_);
    throw Error("cannot start '" + node + "' to run ONNX Runtime: " + std::strerror(rc) +
                (rc == ENOENT ? std::string(" (node is not installed or not on PATH: ") + kSetupHint + ")" : ""));
  }
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  try {
    version_ = json::parse(request(json{{"op", "version"}}.dump())).value("onnxruntime", "");
  } catch (...) {
    shutdown();
    throw;
  }
}

Server::~Server() { shutdown(); }

void Server::shutdown() {
  // NOTE: SIGPIPE would kill us when node has died; the write fails instead.
  if (to_) {
    struct sigaction ignore {}, old {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &old);
    std::fputs("{\"op\":\"quit\"}\n", to_);
    std::fclose(to_);
    sigaction(SIGPIPE, &old, nullptr);
    to_ = nullptr;
  }
  if (from_) {
    std::fclose(from_);
    from_ = nullptr;
  }
  if (pid_ > 0) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string Server::request(const std::string& line) {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  const bool sent = std::fputs((line + "\n").c_str(), to_) >= 0 && std::fflush(to_) == 0;
  sigaction(SIGPIPE, &old, nullptr);
  std::string reply;
  if (sent) {
    char buf[1 << 16];
    while (std::fgets(buf, sizeof buf, from_)) {
      reply += buf;
      if (!reply.empty() && reply.back() == '\n') break;
    }
  }
  if (reply.empty() || reply.back() != '\n') {
    std::string why = trimmed(slurp(dir_ + "/stderr"));
    if (why.find("onnxruntime-node") != std::string::npos) why += std::string(" (") + kSetupHint + ")";
    throw Error("the ONNX Runtime server (node " + package_dir() + "/serve.js) stopped: " +
                (why.empty() ? std::string("no message") : why));
  }
  json j;
  try {
    j = json::parse(reply);
  } catch (const json::exception&) {
    throw Error("the ONNX Runtime server replied with no JSON: '" + reply.substr(0, 200) + "'");
  }
  if (!j.value("ok", false)) throw Error("ONNX Runtime: " + j.value("error", std::string("unknown error")));
  return reply;
}

void Server::load(const std::string& name, const std::string& path, const Settings& s,
                  const std::vector<int64_t>& shape) {
  validate(s);
  if (!fs::is_regular_file(path)) throw Error("ONNX file '" + path + "' not found");
  json r{{"op", "load"},        {"name", name}, {"path", path}, {"threads", s.threads}, {"opt_level", s.opt_level},
         {"execution_mode", s.execution_mode}};
  if (!shape.empty()) r["shape"] = shape;
  request(r.dump());
}

void Server::unload(const std::vector<std::string>& names) {
  request(json{{"op", "unload"}, {"names", names}}.dump());
}

Tensor Server::run(const std::string& name, const Tensor& input) {
  const std::string in = dir_ + "/input.f32", out = dir_ + "/output.f32";
  {
    std::ofstream f(in, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(input.data.data()),
            static_cast<std::streamsize>(input.data.size() * sizeof(float)));
    if (!f) throw Error("cannot write the ONNX Runtime input '" + in + "'");
  }
  const json j = json::parse(request(json{{"op", "run"}, {"name", name}, {"input", in}, {"output", out}}.dump()));
  Tensor t;
  t.shape = j.at("shape").get<std::vector<int64_t>>();
  size_t n = 1;
  for (const int64_t d : t.shape) n *= static_cast<size_t>(d);
  const std::string bytes = slurp(out);
  if (bytes.size() != n * sizeof(float)) {
    throw Error("ONNX Runtime output of model '" + name + "' has " + std::to_string(bytes.size()) +
                " bytes, expected " + std::to_string(n * sizeof(float)));
  }
  t.data.resize(n);
  std::memcpy(t.data.data(), bytes.data(), bytes.size());
  return t;
}

namespace {

// The affinity of every thread of a process, pinned to one CPU while it lives
// and restored by the destructor (threads that started in between inherit the
// pin from their creator and are left as they are).
class PinnedProcess {
 public:
  PinnedProcess(pid_t pid, int cpu) {
    if (cpu < 0) return;
    if (cpu >= CPU_SETSIZE) throw ConfigError("ONNX Runtime timing: CPU " + std::to_string(cpu) + " does not exist");
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
      const pid_t tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
      cpu_set_t old;
      if (sched_getaffinity(tid, sizeof old, &old) != 0) continue;  // the thread has ended
      if (sched_setaffinity(tid, sizeof one, &one) != 0) {
        const int err = errno;
        restore();
        if (err == EINVAL) {
          throw ConfigError("ONNX Runtime timing: CPU " + std::to_string(cpu) + " is not one this process may use");
        }
        continue;  // ESRCH: the thread has ended
      }
      saved_.push_back({tid, old});
    }
  }
  ~PinnedProcess() { restore(); }
  PinnedProcess(const PinnedProcess&) = delete;
  PinnedProcess& operator=(const PinnedProcess&) = delete;

 private:
  void restore() {
    for (const auto& [tid, mask] : saved_) sched_setaffinity(tid, sizeof mask, &mask);
    saved_.clear();
  }
  std::vector<std::pair<pid_t, cpu_set_t>> saved_;
};

}  // namespace

std::vector<std::vector<TimedRound>> Server::time(const TimingRequest& q) {
  if (q.models.empty()) throw ConfigError("ONNX Runtime timing: no models given");
  if (q.rounds < 1 || q.min_runs < 1 || q.max_runs < 1 || q.warmup < 0 || q.round_warmup < 0 ||
      !(q.min_time_ms >= 0)) {
    throw ConfigError("ONNX Runtime timing: rounds, min_runs and max_runs must be >= 1, warmups and "
                      "min_time_ms >= 0");
  }
  const json r{{"op", "time"},         {"models", q.models},         {"reference", q.reference},
               {"per_run", q.per_run}, {"rounds", q.rounds},         {"warmup", q.warmup},
               {"round_warmup", q.round_warmup}, {"min_runs", q.min_runs}, {"max_runs", q.max_runs},
               {"min_time_ms", q.min_time_ms}};
  PinnedProcess pinned(pid_, q.cpu);
  const json j = json::parse(request(r.dump()));
  std::vector<std::vector<TimedRound>> out;
  for (const auto& model : j.at("rounds")) {
    auto& rounds = out.emplace_back();
    for (const auto& round : model) {
      rounds.push_back({round.at("run_ms").get<std::vector<double>>(),
                        round.at("reference_ms").get<std::vector<double>>()});
    }
  }
  return out;
}

}  // namespace mnas::onnxruntime
