// The role of this process in a search: alone, or one rank of an mpirun job
// (docs/distributed.md). Detected once, from the environment OpenMPI's
// mpirun gives every rank, before anything else reads argv.
#pragma once

#include <memory>

#include "search/mpi_evaluator.h"

namespace mnas::search {

enum class MpiRole {
  kSingle,      // not under mpirun, or a job of one process
  kController,  // rank 0 of a job with workers: runs the search loop
  kWorker,      // ranks >= 1: train the children rank 0 sends (run_mpi_worker)
};

// This process's place in the job; `session` is null for kSingle.
struct MpiJob {
  std::unique_ptr<MpiSession> session;
  MpiRole role = MpiRole::kSingle;
};

// Under mpirun with more than one process (OMPI_COMM_WORLD_SIZE > 1) starts
// MPI (MpiSession, for the program's lifetime) and returns the rank's role;
// otherwise {nullptr, kSingle} without touching MPI. Call at the top of main:
// MPI_Init may read argc/argv.
MpiJob join_mpi_job(int* argc, char*** argv);

}  // namespace mnas::search
