// A long-lived ONNX Runtime process: one node running
// tools/onnxruntime/serve.js that loads many ONNX models and times them in
// interleaved rounds (the latency engine `onnxruntime`, latency/ of issue
// #20). Library mnas::onnxruntime, Torch-free. Node's start-up (0.3-0.5 s)
// is paid once per Server instead of once per model as with run()
// (train/onnxruntime_runner.h, same package folder and node binary).
//
// Not thread-safe: one request at a time (callers serialise).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

#include "train/onnxruntime_runner.h"

namespace mnas::onnxruntime {

// What to time (Server::time): `models` in `rounds` round-robin passes; in
// each a model gets `warmup` (first round) or `round_warmup` untimed runs,
// then timed runs until both `min_runs` and `min_time_ms` (of its own runs)
// are reached, or `max_runs`. With `reference` models, each timed run
// (per_run) or each round's window of runs (!per_run) is followed by one
// timed run of the next reference copy, for normalisation by the caller.
struct TimingRequest {
  std::vector<std::string> models;
  std::vector<std::string> reference;
  bool per_run = true;
  int rounds = 1;
  int warmup = 10;
  int round_warmup = 2;
  int min_runs = 30;
  int max_runs = 400;
  double min_time_ms = 400;
  // >= 0: every thread of the node process is pinned to this CPU for the
  // request (sched_setaffinity) and given back its own affinity afterwards,
  // as the LibTorch engines pin their single timing thread (latency/engine.h).
  // A CPU the process may not use: ConfigError.
  int cpu = -1;
};

// One model's runs in one round.
struct TimedRound {
  std::vector<double> run_ms;
  std::vector<double> reference_ms;  // per run (per_run) or one per round
};

class Server {
 public:
  // Starts node on serve.js of package_dir(). Throws mnas::Error naming
  // scripts/setup.sh when node, serve.js or the npm package is missing.
  Server();
  ~Server();  // asks the server to quit and waits for it
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& version() const { return version_; }
  pid_t pid() const { return pid_; }  // node's process id

  // Loads the ONNX file `path` as `name` (replacing a model of that name)
  // with `settings` and runs it once; timed runs feed it a fixed
  // pseudo-random input of `shape` (the model's own when empty) and write
  // into one output tensor allocated from that run, so that they time the
  // graph and not node's allocation of its output. Throws ConfigError for
  // bad settings and mnas::Error naming the file when ONNX Runtime rejects
  // the file or cannot run it on `shape`; the server keeps serving.
  void load(const std::string& name, const std::string& path, const Settings& settings,
            const std::vector<int64_t>& shape = {});
  void unload(const std::vector<std::string>& names);

  // Runs model `name` once on `input` (its input shape) and returns its first
  // output.
  Tensor run(const std::string& name, const Tensor& input);

  // Times models as `request` says; result[model][round].
  std::vector<std::vector<TimedRound>> time(const TimingRequest& request);

 private:
  std::string request(const std::string& line);
  void shutdown();  // one reply line (JSON), "ok" checked

  pid_t pid_ = -1;
  FILE* to_ = nullptr;    // node's stdin
  FILE* from_ = nullptr;  // node's stdout
  std::string dir_;       // private temporary folder (stderr, run() tensors)
  std::string version_;
};

}  // namespace mnas::onnxruntime
