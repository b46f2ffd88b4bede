// Distributed evaluation over MPI (OpenMPI): rank 0 is the controller that
// owns the experiment database and runs the search loop with an MpiEvaluator;
// ranks 1..N-1 are workers (run_mpi_worker) that receive trial requests
// (canonical arch string + seed, as JSON text), train the child on the proxy
// task and send the outcome back. The paper's asynchronous global work queue:
// the controller keeps every worker busy and the search loop updates the
// strategy as results arrive, in any order.
//
// Faults: a worker that does not answer within `worker_timeout_s` of being
// handed a trial (it died, hung or its host went away, before or after it got
// the worker config) is written off: its trial is re-queued to another worker
// (attempt + 1) and the event is reported through `on_event`. The search goes
// on with the remaining workers and fails only when none is left. Launch with
// `mpirun --enable-recovery` so that OpenMPI does not abort the whole job when
// one rank dies. The controller never blocks on a worker: every send is
// non-blocking (a send to a dead rank may never complete) and results are
// polled.
//
// The controller's liveness: rank 0's MpiSession sends a heartbeat to every
// worker every 0.25 s from a thread of its own (MPI_THREAD_MULTIPLE), from
// MPI_Init to MPI_Finalize, whatever the main thread is doing. A worker that
// waits for the controller (for its config, its next trial, or for its result
// to be taken) and hears nothing for `worker_timeout_s` (at most 60 s) concludes
// that the controller is gone and throws; it does not wait in MPI_Finalize
// (which waits for rank 0).
//
// Latency, parameters and MACs are computed by the controller (it holds the
// latency table); workers only train.
#pragma once

#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "search/evaluator.h"

namespace mnas::search {

// MPI_Init / MPI_Finalize for the program's lifetime. Sets MPI_ERRORS_RETURN
// on MPI_COMM_WORLD so that a dead peer is an error code, not an abort. On
// rank 0 of a job with workers, runs the heartbeat thread (see above). Throws
// Error when the MPI library cannot give MPI_THREAD_MULTIPLE. MPI_Finalize
// is given 10 s: its barrier can wait forever for a rank that died (OpenMPI
// 4.1 with a rank killed during start-up), and past that the process ends
// at once with status 0 (only the shutdown handshake is skipped; a program
// that ends with an error calls mpi_abort instead).
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Rank among the processes on this host (OMPI_COMM_WORLD_LOCAL_RANK), for
  // picking one GPU per rank; 0 when unknown.
  int local_rank() const { return local_rank_; }
  std::string host() const;

  // Skips MPI_Finalize at destruction: for a worker whose controller is gone
  // (MPI_Finalize would wait for it forever). Set by run_mpi_worker.
  void abandon() const { abandoned_ = true; }
  bool abandoned() const { return abandoned_; }

 private:
  void heartbeat_loop();

  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  mutable bool abandoned_ = false;
  std::thread heartbeat_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

// Ends every rank of the job with `code` (MPI_Abort).
[[noreturn]] void mpi_abort(int code);

struct MpiOptions {
  // A worker silent this long after being handed a trial is written off; a
  // worker that hears nothing from the controller this long (at most 60 s)
  // gives up on it. > 0 and finite (ConfigError otherwise).
  double worker_timeout_s = 3600;
};

// Throws ConfigError unless `timeout_s` is > 0 and finite; `what` names it.
void check_worker_timeout(double timeout_s, const std::string& what);

class MpiEvaluator : public Evaluator {
 public:
  // Controller side (rank 0). Sends `worker_config` (opaque JSON: what a
  // worker needs to build its child trainer) to every worker first, without
  // waiting for them to take it: a worker that is dead already is written off
  // when its first trial times out.
  MpiEvaluator(const MpiSession& session, const nlohmann::json& worker_config, LatencyFn latency,
               space::GlobalParams deploy, MpiOptions options,
               std::function<void(const std::string&)> on_event);
  // Tells every worker (written-off ones too) to stop; does not wait for them.
  ~MpiEvaluator() override;

  int capacity() const override;
  int in_flight() const override;
  void submit(const TrialRequest& request) override;
  TrialResult poll() override;

  int live_workers() const { return capacity(); }

 private:
  struct Assignment {
    TrialRequest request;
    std::chrono::steady_clock::time_point since;
  };
  void dispatch();
  void write_off_stale_workers();
  // Non-blocking send; the text is kept until the send completes.
  void post(std::string text, int dest, int tag);
  void reap_sends();

  struct Outgoing {
    std::unique_ptr<std::string> text;
    MPI_Request request;
  };

  LatencyFn latency_;
  space::GlobalParams deploy_;
  MpiOptions options_;
  std::function<void(const std::string&)> on_event_;
  std::vector<int> idle_;                 // live workers without a trial
  std::map<int, Assignment> busy_;        // worker rank -> its trial
  std::vector<int> dead_;
  std::deque<TrialRequest> pending_;      // submitted, not yet handed out
  std::map<int64_t, std::string> notes_;  // trial -> what happened to it (lost workers)
  std::vector<Outgoing> sends_;           // not yet completed
};

// Worker side (ranks >= 1): receives the worker config, builds the accuracy
// function with `make_accuracy(config, session)`, then evaluates requests until
// the controller says stop, and returns. Throws Error when the controller has
// been silent for options.worker_timeout_s, at most 60 s (it died): the
// session is then abandoned (no MPI_Finalize); the caller ends the process.
void run_mpi_worker(const MpiSession& session, const MpiOptions& options,
                    const std::function<AccuracyFn(const nlohmann::json&, const MpiSession&)>& make_accuracy);

}  // namespace mnas::search
