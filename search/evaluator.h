// Evaluation as a service (DESIGN.md): the search loop submits trials and
// polls results, so the same loop drives the in-process evaluator here and,
// later, MPI workers (rank 0 controller, ranks 1..N evaluators; issue 6).
// Requests and results are small value types with a JSON form so that they
// can cross a process boundary as text and be logged. No LibTorch.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/trial_status.h"
#include "space/block_args.h"
#include "space/global_params.h"

namespace mnas::search {

// The budget of one evaluation of a child (multi-fidelity rungs,
// search/asha.h). Rung 0 trains from scratch; rung r > 0 is a promotion: it
// resumes from `checkpoint` (written by the rung below) and trains on to
// `max_steps`. The checkpoint path is a file the controller chose (next to
// its database): MPI workers must share that filesystem with the controller.
struct ChildStage {
  int rung = 0;
  int64_t max_steps = 0;   // steps of the proxy's schedule to reach; 0 = all of it
  std::string checkpoint;  // where the child's weights are kept; empty = nowhere
};

// What a worker needs to evaluate one architecture. The architecture travels
// as its canonical block string (space::arch_to_string), never as a pointer.
struct TrialRequest {
  int64_t trial = 0;       // trial index within the experiment (0-based)
  std::string arch;        // canonical block strings, space separated
  uint64_t seed = 0;       // child seed (initialisation, data order)
  int attempt = 1;         // 1 for the first run, +1 for each re-run
  ChildStage stage;        // single fidelity: rung 0, all steps, no checkpoint
};

// The one status enum (common/trial_status.h), shared with train/.
using mnas::TrialStatus;
using mnas::to_string;
using mnas::trial_status_from_string;

struct TrialResult {
  int64_t trial = 0;
  int rung = 0;           // the request's stage.rung
  int64_t steps = 0;      // optimizer steps the child reached (0 when unknown)
  TrialStatus status = TrialStatus::kFailed;
  double accuracy = 0;    // proxy validation top-1, fraction in [0, 1]
  double loss = 0;        // proxy validation loss
  double latency_ms = 0;  // predicted latency at the deploy configuration
  std::optional<double> measured_latency_ms;  // when measured on the device
  int64_t params = 0;     // at the deploy configuration
  int64_t macs = 0;       // at the deploy configuration
  double train_seconds = 0;
  double eval_seconds = 0;
  double seconds = 0;     // wall time of the whole evaluation
  std::string worker;     // who evaluated it ("local", "rank3", ...)
  std::string message;    // why, when status != kOk
};

// JSON forms. The *_from_json functions are strict: a missing or unknown key
// or a wrong type throws ParseError naming the key. The stage travels flat in
// the request: "rung", "max_steps", "checkpoint".
nlohmann::json to_json(const TrialRequest& r);
TrialRequest trial_request_from_json(const nlohmann::json& j);
nlohmann::json to_json(const TrialResult& r);
TrialResult trial_result_from_json(const nlohmann::json& j);

// The evaluation service. Contract for the search loop:
// - capacity() trials may be in flight at once; submit() never blocks for
//   longer than handing the request over;
// - poll() blocks until some submitted trial finishes and returns its result
//   (in any order); REQUIRES: in_flight() > 0;
// - a bad child is a result (status + message), never an exception; poll()
//   throws only when the service itself is broken.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual int capacity() const = 0;
  virtual int in_flight() const = 0;
  virtual void submit(const TrialRequest& request) = 0;
  virtual TrialResult poll() = 0;
};

// What an accuracy callback returns (mirrors train::ChildResult).
struct ChildOutcome {
  TrialStatus status = TrialStatus::kFailed;
  double accuracy = 0;
  double loss = 0;
  int64_t steps = 0;  // optimizer steps reached (0 when unknown)
  double train_seconds = 0;
  double eval_seconds = 0;
  std::string message;
};

// Trains (or scores) one child: architecture + child seed + budget -> outcome.
using AccuracyFn =
    std::function<ChildOutcome(const space::ArchSpec&, uint64_t seed, const ChildStage& stage)>;
// Latency of one architecture at the deploy configuration, in milliseconds.
using LatencyFn = std::function<double(const space::ArchSpec&)>;

// Fills r.params, r.macs (space::model_cost under `deploy`) and r.latency_ms
// (`latency`) for `arch`. Throws what the callbacks throw.
void add_deploy_metrics(TrialResult& r, const space::ArchSpec& arch, const LatencyFn& latency,
                        const space::GlobalParams& deploy);

// Runs trials in the calling process, one at a time: submit() queues, poll()
// evaluates the oldest queued request (decode the string, latency, params and
// MACs under `deploy`, then accuracy) and returns its result. Exceptions from
// the callbacks become status kFailed with the message. capacity() is 1.
class InProcessEvaluator : public Evaluator {
 public:
  InProcessEvaluator(AccuracyFn accuracy, LatencyFn latency, space::GlobalParams deploy,
                     std::string worker = "local");
  int capacity() const override { return 1; }
  int in_flight() const override { return static_cast<int>(queue_.size()); }
  void submit(const TrialRequest& request) override;
  TrialResult poll() override;

 private:
  AccuracyFn accuracy_;
  LatencyFn latency_;
  space::GlobalParams deploy_;
  std::string worker_;
  std::deque<TrialRequest> queue_;
};

}  // namespace mnas::search
