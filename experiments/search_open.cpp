// Opening a search: what is refused before the database is touched, the
// experiment to start or resume, and storing or restoring it.
#include <algorithm>
#include <filesystem>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "experiments/search_steps.h"
#include "latency/deploy_config.h"
#include "latency/engine.h"

namespace mnas::experiments {

namespace {

// Everything about a configuration that can be refused without a database:
// the experiment itself (validated when built), the strategy and the child
// trainer with the run's threads and device.
void check_runnable(const ExperimentConfig& config, const RunOptions& options) {
  make_strategy(config);
  if (config.objective == "proxy") make_accuracy_fn(config, options);
}

// "reward.target_ms" -> the JSON pointer "/reward/target_ms".
nlohmann::json::json_pointer pointer_of(const std::string& path) {
  std::string pointer = "/" + path;
  for (auto& ch : pointer) {
    if (ch == '.' || ch == '[') ch = '/';
  }
  pointer.erase(std::remove(pointer.begin(), pointer.end(), ']'), pointer.end());
  return nlohmann::json::json_pointer(pointer);
}

}  // namespace

void check_before_db(const ConfigOverrides& overrides, const RunOptions& options) {
  if (options.db_path.empty()) throw ConfigError("--db: the database path is empty; expected a file name");
  if (options.resume && !std::filesystem::exists(options.db_path)) {
    throw ConfigError("--resume: no database '" + options.db_path + "'");
  }
  if (!options.train_config_path.empty()) {
    std::vector<std::string> inputs{options.db_path};
    if (overrides.config_file) inputs.push_back(*overrides.config_file);
    check_output_path(options.train_config_path, inputs, "--train-config");
  }
  if (!options.resume) check_runnable(build_config(overrides), options);
}

CreatedDbGuard::CreatedDbGuard(const std::string& path)
    : path_(path), created_(!std::filesystem::exists(path)) {}

CreatedDbGuard::~CreatedDbGuard() {
  if (!created_ || kept_) return;
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path_ + suffix, ec);
  }
}

OpenedExperiment open_experiment(db::ExperimentStore& store, const ConfigOverrides& overrides,
                                 const RunOptions& options) {
  const auto all = store.experiments();
  if (!options.resume) {
    if (!all.empty()) {
      const auto& e = all.back();
      throw ConfigError("'" + options.db_path + "' already holds experiment " +
                        std::to_string(e.id) + " (" + e.strategy + ", " +
                        std::to_string(store.count_finished(e.id)) + "/" +
                        std::to_string(e.budget) +
                        " trials); pass --resume to continue it, or choose another --db");
    }
    ExperimentConfig config = build_config(overrides);
    // "auto" names the fastest exact engine on this host, which changes when
    // an engine is installed (ONNX Runtime) or removed; resolved once, here,
    // and stored, a resumed search keeps its engine and its latency table.
    if (config.deploy.engine == "auto" && !latency::is_remote(config.deploy) &&
        !latency::uses_profile(config.deploy)) {
      config.deploy.engine = latency::resolve_engine(config.deploy);
    }
    return {config, std::nullopt};
  }
  if (all.empty()) {
    throw ConfigError("--resume: '" + options.db_path + "' holds no experiment to resume");
  }
  OpenedExperiment opened{ExperimentConfig{}, all.back()};
  const auto& existing = *opened.existing;
  opened.config = stored_experiment_from_json(
      parse_json(existing.config, "the configuration stored in '" + options.db_path + "'"));
  if (overrides.any()) {
    // Flags and files on --resume must agree with what the experiment is:
    // layer them on top of the stored configuration and compare. Both sides
    // in the canonical form: databases written before proxy and deploy were
    // typed hold them as given (partial objects).
    const nlohmann::json stored = to_json(opened.config);
    const nlohmann::json wanted = to_json(apply_overrides(opened.config, overrides));
    const auto diff = first_difference(stored, wanted);
    if (!diff.empty()) {
      const auto ptr = pointer_of(diff);
      const auto value = [&ptr](const nlohmann::json& j) {
        return j.contains(ptr) ? j.at(ptr).dump() : std::string("(absent)");
      };
      throw ConfigError("the given configuration contradicts experiment " +
                        std::to_string(existing.id) + " stored in '" + options.db_path +
                        "' at '" + diff + "' (stored " + value(stored) + ", given " +
                        value(wanted) +
                        "); resume without config flags, or start a new search with another --db");
    }
  }
  return opened;
}

int64_t start_experiment(db::ExperimentStore& store, const OpenedExperiment& opened,
                         search::Strategy& strategy) {
  const ExperimentConfig& config = opened.config;
  if (!opened.existing) {
    const std::string json = to_json(config).dump();
    int64_t exp = 0;
    store.transaction([&] {
      exp = store.create_experiment(json, static_cast<int64_t>(config.seed), config.strategy.name,
                                    config.budget);
      store.save_checkpoint(exp, 0, strategy.state().dump(), strategy.weights());
    });
    return exp;
  }
  const int64_t exp = opened.existing->id;
  const auto ckpt = store.checkpoint(exp);
  if (!ckpt) throw db::DbError("experiment " + std::to_string(exp) + " has no strategy checkpoint");
  strategy.restore(nlohmann::json::parse(ckpt->state), ckpt->weights);
  return exp;
}

}  // namespace mnas::experiments
