// mnas_search after its arguments are parsed: one process of a search, alone
// or as one rank of an mpirun job (docs/distributed.md). Rank 0 runs the
// search (run_search) with an MpiEvaluator; ranks >= 1 train the children it
// sends. Without MNAS_WITH_MPI every process runs alone.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "experiments/experiment_config.h"
#include "experiments/search_run.h"

namespace mnas::experiments {

struct SearchCommand {
  ConfigOverrides overrides;
  RunOptions run;
  // Under mpirun: seconds a worker may stay silent on one trial before it is
  // written off (search::MpiOptions::worker_timeout_s).
  double worker_timeout_s = 3600;
  // Under mpirun, on the controller: what happened to a worker (written off,
  // its trial re-queued), one line of text without '\n'.
  std::function<void(const std::string& event)> on_mpi_event;
};

class SearchProcess {
 public:
  // Joins the mpirun job when this process is a rank of one
  // (search::join_mpi_job). Construct it first thing in main: MPI_Init may
  // read argc/argv, and errors are reported through fail() from then on.
  SearchProcess(int* argc, char*** argv);
  ~SearchProcess();
  SearchProcess(const SearchProcess&) = delete;
  SearchProcess& operator=(const SearchProcess&) = delete;

  // Runs `command` in this process's role: the search (alone, or as the
  // controller, which first reports "mpi: controller + N workers" through
  // command.run.on_output unless quiet), or on a worker the worker loop until
  // the controller says stop (the device defaults to one GPU per local rank
  // when CUDA is available). Throws what run_search throws.
  void run(const SearchCommand& command);

  // The exit status of a failed process: under mpirun a failing rank first
  // takes the job down with `code` (workers would otherwise wait for work
  // forever); a worker that lost its controller just ends (the controller may
  // only have been slow: it writes the worker off and goes on).
  int fail(int code);

  // True in a process that runs the search itself (alone, or rank 0 of an
  // mpirun job): the one that may run what follows it (the final stage).
  bool is_controller() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnas::experiments
