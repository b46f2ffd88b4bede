// Driver for the MPI evaluator, run under mpirun by tests/search/mpi_evaluator_test
// (also a quick check that MPI works across the hosts of a cluster):
// rank 0 submits trials of random architectures (odd ones as rung-1
// promotions of 52 steps) and prints every result (one
// JSON object per line, "result" or "event"); worker ranks train with the
// synthetic objective and, when asked, one rank dies (SIGKILL): a worker
// half-way through trial KILL_AT, rank 0 once it has KILL_AT results, either
// right after MPI_Init when KILL_AT is "start" (before a worker has its
// config). The worker config is padded to CONFIG_BYTES (default 64 KiB, above
// OpenMPI's eager limit, like mnas_search's). A worker that loses the
// controller prints {"worker_error": ...} and exits 3.
//
//   mpirun --oversubscribe --enable-recovery -np 3 mpi_driver TRIALS KILL_RANK KILL_AT [CONFIG_BYTES]
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "search/mpi_evaluator.h"
#include "search/synthetic.h"
#include "space/block_codec.h"
#include "space/search_space.h"

using namespace mnas;

int main(int argc, char** argv) {
  search::MpiSession mpi(&argc, &argv);
  const int trials = argc > 1 ? std::atoi(argv[1]) : 10;
  const int kill_rank = argc > 2 ? std::atoi(argv[2]) : -1;
  const bool kill_at_start = argc > 3 && std::string(argv[3]) == "start";
  const int kill_trial = argc > 3 && !kill_at_start ? std::atoi(argv[3]) : -1;
  const size_t config_bytes = argc > 4 ? static_cast<size_t>(std::atol(argv[4])) : 65536;
  if (kill_at_start && mpi.rank() == kill_rank) std::raise(SIGKILL);
  const space::GlobalParams deploy;
  search::MpiOptions options;
  options.worker_timeout_s = 3.0;
  if (mpi.rank() > 0) {
    try {
      search::run_mpi_worker(mpi, options, [&](const nlohmann::json& config, const search::MpiSession& s) {
        const int delay = config.at("delay_ms").get<int>();
        auto inner = search::synthetic_accuracy_fn(deploy, delay);
        const int rank = s.rank();
        return search::AccuracyFn([=](const space::ArchSpec& arch, uint64_t seed, const search::ChildStage& stage) {
          // Dies half-way through the chosen trial (seed = trial index here).
          if (rank == kill_rank && static_cast<int>(seed) == kill_trial) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay / 2));
            std::raise(SIGKILL);
          }
          return inner(arch, seed, stage);
        });
      });
    } catch (const std::exception& e) {
      std::cout << nlohmann::json({{"worker_error", e.what()}}).dump() << std::endl;
      return 3;
    }
    return 0;
  }
  search::MpiEvaluator eval(
      mpi, {{"delay_ms", 200}, {"padding", std::string(config_bytes, 'x')}},
      search::synthetic_latency_fn(deploy), deploy, options,
      [](const std::string& e) { std::cout << nlohmann::json({{"event", e}}).dump() << std::endl; });
  const auto space = space::SearchSpace::mnasnet_default();
  std::mt19937 rng(1);
  int submitted = 0, done = 0;
  while (done < trials) {
    while (submitted < trials && eval.in_flight() < eval.capacity()) {
      std::vector<int> actions;
      for (int n : space.choice_sizes()) actions.push_back(std::uniform_int_distribution<int>(0, n - 1)(rng));
      search::TrialRequest req;
      req.trial = submitted;
      req.seed = static_cast<uint64_t>(submitted);
      req.arch = space::arch_to_string(space.decode(actions));
      // Every odd trial is a promotion (rung 1 to 52 steps): just another job.
      if (submitted % 2 == 1) req.stage = {1, 52, ""};
      eval.submit(req);
      ++submitted;
    }
    const auto r = eval.poll();
    std::cout << nlohmann::json({{"result", search::to_json(r)}}).dump() << std::endl;
    ++done;
    if (mpi.rank() == kill_rank && done == kill_trial) std::raise(SIGKILL);
  }
  return 0;
}
