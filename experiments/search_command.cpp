#include "experiments/search_command.h"

#include "search/ppo_controller.h"
#ifdef MNAS_WITH_MPI
#include "search/mpi_role.h"
#endif

namespace mnas::experiments {

#ifdef MNAS_WITH_MPI

struct SearchProcess::Impl {
  search::MpiJob job;
};

SearchProcess::SearchProcess(int* argc, char*** argv)
    : impl_(std::make_unique<Impl>(Impl{search::join_mpi_job(argc, argv)})) {}

void SearchProcess::run(const SearchCommand& command) {
  const search::MpiJob& job = impl_->job;
  RunOptions r = command.run;
  search::MpiOptions mo;
  mo.worker_timeout_s = command.worker_timeout_s;
  if (job.role == search::MpiRole::kWorker) {
    if (r.device.empty()) r.device = search::cuda_device_for_local_rank(job.session->local_rank());
    search::set_torch_threads(r.threads);
    search::run_mpi_worker(*job.session, mo, [&](const nlohmann::json& cfg, const search::MpiSession&) {
      RunOptions worker = r;
      worker.delay_ms = cfg.at("delay_ms").get<int>();
      return make_accuracy_fn(stored_experiment_from_json(cfg.at("experiment")), worker);
    });
    return;
  }
  if (job.role == search::MpiRole::kController) {
    const search::MpiSession& session = *job.session;
    const bool quiet = r.quiet;
    const int delay_ms = r.delay_ms;
    auto on_output = r.on_output;
    auto on_event = command.on_mpi_event;
    r.make_evaluator = [&session, quiet, delay_ms, mo, on_output, on_event](
                           const ExperimentConfig& c, DeployLatency& lat) {
      if (!quiet && on_output) {
        on_output("mpi: controller + " + std::to_string(session.size() - 1) + " workers\n");
      }
      return std::unique_ptr<search::Evaluator>(std::make_unique<search::MpiEvaluator>(
          session, nlohmann::json{{"experiment", to_json(c)}, {"delay_ms", delay_ms}}, lat.fn,
          lat.params, mo, [on_event](const std::string& event) {
            if (on_event) on_event(event);
          }));
    };
  }
  run_search(command.overrides, r);
}

bool SearchProcess::is_controller() const { return impl_->job.role != search::MpiRole::kWorker; }

int SearchProcess::fail(int code) {
  if (impl_->job.session && !impl_->job.session->abandoned()) search::mpi_abort(code);
  return code;
}

#else

struct SearchProcess::Impl {};

SearchProcess::SearchProcess(int*, char***) : impl_(std::make_unique<Impl>()) {}

void SearchProcess::run(const SearchCommand& command) { run_search(command.overrides, command.run); }

int SearchProcess::fail(int code) { return code; }

bool SearchProcess::is_controller() const { return true; }

#endif

SearchProcess::~SearchProcess() = default;

}  // namespace mnas::experiments
