#include "search/mpi_role.h"

#include <cstdlib>

namespace mnas::search {

MpiJob join_mpi_job(int* argc, char*** argv) {
  MpiJob job;
  const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!n || std::atoi(n) <= 1) return job;
  job.session = std::make_unique<MpiSession>(argc, argv);
  job.role = job.session->rank() > 0 ? MpiRole::kWorker : MpiRole::kController;
  return job;
}

}  // namespace mnas::search
