// Distributed evaluation over MPI (OpenMPI): rank 0 is the controller that
// owns the experiment database and runs the search loop with an MpiEvaluator;
// ranks 1..N-1 are workers (run_mpi_worker) that receive trial requests
// (canonical arch string + seed, as JSON text), train the child on the proxy
// task and send the outcome back. The paper's asynchronous global work queue:
// the controller keeps every worker busy and the search loop updates the
// strategy as results arrive, in any order.
//
// Faults: a worker that does not answer within `worker_timeout_s` of being
// handed a trial (it died, hung or its host went away) is written off: its
// trial is re-queued to another worker (attempt + 1) and the event is
// reported through `on_event`. The search goes on with the remaining workers
// and fails only when none is left. Launch with `mpirun --enable-recovery`
// so that OpenMPI does not abort the whole job when one rank dies.
//
// Latency, parameters and MACs are computed by the controller (it holds the
// latency table); workers only train.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "search/evaluator.h"

namespace mnas::search {

// MPI_Init / MPI_Finalize for the program's lifetime. Sets MPI_ERRORS_RETURN
// on MPI_COMM_WORLD so that a dead peer is an error code, not an abort.
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

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
};

// Ends every rank of the job with `code` (MPI_Abort).
[[noreturn]] void mpi_abort(int code);

struct MpiOptions {
  // A worker silent this long after being handed a trial is written off.
  double worker_timeout_s = 3600;
};

class MpiEvaluator : public Evaluator {
 public:
  // Controller side (rank 0). Sends `worker_config` (opaque JSON: what a
  // worker needs to build its child trainer) to every worker first.
  MpiEvaluator(const MpiSession& session, const nlohmann::json& worker_config, LatencyFn latency,
               space::GlobalParams deploy, MpiOptions options,
               std::function<void(const std::string&)> on_event);
  // Tells every live worker to stop.
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

  LatencyFn latency_;
  space::GlobalParams deploy_;
  MpiOptions options_;
  std::function<void(const std::string&)> on_event_;
  std::vector<int> idle_;                 // live workers without a trial
  std::map<int, Assignment> busy_;        // worker rank -> its trial
  std::vector<int> dead_;
  std::deque<TrialRequest> pending_;      // submitted, not yet handed out
  std::map<int64_t, std::string> notes_;  // trial -> what happened to it (lost workers)
};

// Worker side (ranks >= 1): receives the worker config, builds the accuracy
// function with `make_accuracy(config, session)`, then evaluates requests until
// the controller says stop. Returns normally at the end.
void run_mpi_worker(const MpiSession& session,
                    const std::function<AccuracyFn(const nlohmann::json&, const MpiSession&)>& make_accuracy);

}  // namespace mnas::search
