#include "experiments/search_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "db/experiment_store.h"
#include "db/writer_lock.h"
#include "experiments/report.h"
#include "search/ppo_controller.h"
#include "search/reward.h"
#include "search/synthetic.h"
#include "latency/deploy_config.h"
#include "latency/measure.h"
#include "train/child_trainer.h"
#include "space/block_codec.h"

namespace mnas::experiments {

uint64_t trial_seed(uint64_t experiment_seed, int64_t index) {
  uint64_t z = experiment_seed + 0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(index) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

space::GlobalParams synthetic_deploy_params(const space::SearchSpace& space) {
  space::GlobalParams base;
  base.image_size = 224;
  base.num_classes = 1000;
  base.input_channels = 3;
  return space.global_params(base);
}

std::unique_ptr<search::Strategy> make_strategy(const ExperimentConfig& c) {
  const auto sizes = c.space.choice_sizes();
  // The strategy's RNG stream differs from the child seeds (trial_seed).
  const uint64_t seed = trial_seed(c.seed, -1);
  if (c.strategy.name == "ppo") {
    return std::make_unique<search::PpoController>(sizes, c.strategy.ppo, seed);
  }
  if (c.strategy.name == "random") return std::make_unique<search::RandomSearch>(sizes, seed);
  if (c.strategy.name == "evolution") {
    return std::make_unique<search::RegularizedEvolution>(sizes, c.strategy.evolution, seed);
  }
  throw ConfigError("unknown strategy '" + c.strategy.name + "' (expected ppo, random or evolution)");
}

search::AccuracyFn make_accuracy_fn(const ExperimentConfig& c, const RunOptions& options) {
  if (c.objective == "synthetic") {
    return search::synthetic_accuracy_fn(synthetic_deploy_params(c.space), options.delay_ms);
  }
  if (c.objective != "proxy") {
    throw ConfigError("unknown objective '" + c.objective + "' (expected synthetic or proxy)");
  }
  train::ProxyConfig proxy = train::proxy_config_from_json(c.proxy);
  proxy.threads = options.threads;
  if (!options.device.empty()) proxy.device = options.device;
  train::validate(proxy);
  return [proxy](const space::ArchSpec& arch, uint64_t seed) {
    train::ProxyConfig p = proxy;
    p.seed = seed;
    const train::ChildResult r = train::train_child(arch, p);
    search::ChildOutcome out;
    out.status = r.status;
    out.accuracy = r.top1;
    out.loss = r.loss;
    out.train_seconds = r.train_seconds;
    out.eval_seconds = r.eval_seconds;
    out.message = r.message;
    return out;
  };
}

DeployLatency make_latency_fn(const ExperimentConfig& c, db::Database& db, const RunOptions& options) {
  if (c.objective == "synthetic") {
    const auto deploy = synthetic_deploy_params(c.space);
    return {search::synthetic_latency_fn(deploy), deploy};
  }
  const latency::DeployConfig deploy = latency::deploy_config_from_json(c.deploy);
  const space::GlobalParams params = c.space.global_params(latency::apply_deploy({}, deploy));
  auto predictor = std::make_shared<latency::Predictor>(
      latency::ensure_predictor(db, c.space, deploy, options.quiet));
  return {[predictor](const space::ArchSpec& arch) { return predictor->predict_ms(arch); }, params};
}

std::unique_ptr<search::Evaluator> make_evaluator(const ExperimentConfig& c, db::Database& db,
                                                  const RunOptions& options) {
  auto accuracy = make_accuracy_fn(c, options);
  auto latency = make_latency_fn(c, db, options);
  if (options.make_evaluator) return options.make_evaluator(c, latency);
  return std::make_unique<search::InProcessEvaluator>(std::move(accuracy), std::move(latency.fn),
                                                      latency.params, "local");
}

namespace {

std::string fmt(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60) os << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else os << s << "s";
  return os.str();
}

std::string describe(const ExperimentConfig& c) {
  std::ostringstream os;
  os << "strategy " << c.strategy.name << ", objective " << c.objective << ", budget " << c.budget
     << " trials, target " << fmt(c.reward.target_ms, 1) << " ms (" << search::to_string(c.reward.kind)
     << " reward, alpha " << c.reward.alpha << ", beta " << c.reward.beta << "), seed " << c.seed
     << ", space 10^" << fmt(c.space.log10_size(), 1) << " architectures";
  return os.str();
}

// Finds the experiment to resume or checks that a new one may start; throws
// ConfigError before anything is written. `existing` is nullopt for a new one.
ExperimentConfig check_experiment(db::ExperimentStore& store, const ConfigOverrides& overrides,
                                  const RunOptions& options,
                                  std::optional<db::ExperimentRecord>& existing) {
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
    existing.reset();
    return build_config(overrides);
  }
  if (all.empty()) {
    throw ConfigError("--resume: '" + options.db_path + "' holds no experiment to resume");
  }
  existing = all.back();
  const auto stored = parse_json(existing->config, "the configuration stored in '" + options.db_path + "'");
  ExperimentConfig config = experiment_from_json(stored);
  if (overrides.any()) {
    // Flags and files on --resume must agree with what the experiment is:
    // apply them on top of the stored (or given) configuration and compare.
    ConfigOverrides o = overrides;
    ExperimentConfig wanted = o.config_file ? experiment_from_file(*o.config_file) : config;
    if (o.target_latency) wanted.reward.target_ms = search::parse_latency_ms(*o.target_latency);
    if (o.budget) wanted.budget = *o.budget;
    if (o.strategy) wanted.strategy.name = *o.strategy;
    if (o.objective) wanted.objective = *o.objective;
    if (o.seed) wanted.seed = *o.seed;
    if (o.reward) {
      if (*o.reward != "soft" && *o.reward != "hard") {
        throw ConfigError("--reward must be soft or hard, got '" + *o.reward + "'");
      }
      wanted.reward = search::with_preset(wanted.reward, search::reward_kind_from_string(*o.reward));
    }
    if (o.alpha || o.beta) {
      wanted.reward.kind = search::RewardKind::kCustom;
      if (o.alpha) wanted.reward.alpha = *o.alpha;
      if (o.beta) wanted.reward.beta = *o.beta;
    }
    validate(wanted);
    const auto diff = first_difference(stored, to_json(wanted));
    if (!diff.empty()) {
      std::string pointer = "/" + diff;
      for (auto& ch : pointer) {
        if (ch == '.' || ch == '[') ch = '/';
      }
      pointer.erase(std::remove(pointer.begin(), pointer.end(), ']'), pointer.end());
      const nlohmann::json::json_pointer ptr(pointer);
      const auto value = [&ptr](const nlohmann::json& j) {
        return j.contains(ptr) ? j.at(ptr).dump() : std::string("(absent)");
      };
      throw ConfigError("the given configuration contradicts experiment " +
                        std::to_string(existing->id) + " stored in '" + options.db_path +
                        "' at '" + diff + "' (stored " + value(stored) + ", given " +
                        value(to_json(wanted)) +
                        "); resume without config flags, or start a new search with another --db");
    }
  }
  return config;
}

// The best `k` successful trials by reward that have no measured latency yet
// are measured end to end on the deploy configuration (interleaved, in the
// units of the latency table), recorded in one transaction and printed.
void measure_final_candidates(db::ExperimentStore& store, db::Database& db,
                              const ExperimentConfig& c, int64_t exp, int k, std::ostream& out) {
  if (k <= 0 || c.objective == "synthetic") return;
  const latency::DeployConfig deploy = latency::deploy_config_from_json(c.deploy);
  if (latency::is_remote(deploy)) return;
  std::vector<db::TrialRecord> todo;
  for (auto& t : best_trials(store.trials(exp), k)) {
    if (!t.measured_latency_ms) todo.push_back(t);
  }
  if (todo.empty()) return;
  const space::GlobalParams params = c.space.global_params(latency::apply_deploy({}, deploy));
  std::vector<latency::ModelToMeasure> models;
  for (const auto& t : todo) {
    models.push_back({space::decode_arch(space::split_block_strings(t.arch)), params});
  }
  latency::MeasureOptions o;
  o.reference_ms = latency::table_reference_ms(db, deploy);
  const auto ms = latency::measure_many(models, deploy, o, latency::kRounds, /*quiet=*/true);
  store.transaction([&] {
    for (size_t i = 0; i < todo.size(); ++i) {
      store.set_measured_latency(exp, todo[i].index, ms[i].median_ms);
    }
  });
  out << "\nthe best " << todo.size() << " measured end to end (" << deploy.device << ", "
      << ms[0].engine << ", " << deploy.threads << " thread(s), " << deploy.image_size << " px):\n";
  for (size_t i = 0; i < todo.size(); ++i) {
    const double pred = todo[i].latency_ms.value_or(0.0);
    out << "  trial " << todo[i].index << ": measured " << fmt(ms[i].median_ms, 2)
        << " ms, predicted " << fmt(pred, 2) << " ms";
    if (pred > 0) out << " (" << fmt((pred / ms[i].median_ms - 1.0) * 100.0, 1) << "%)";
    out << "\n";
  }
}

}  // namespace

namespace {

// Everything about a configuration that can be refused without a database:
// the experiment itself, the strategy, the child trainer (proxy config,
// device) and the deploy configuration.
void check_runnable(const ExperimentConfig& config, const RunOptions& options) {
  make_strategy(config);
  if (config.objective == "proxy") {
    make_accuracy_fn(config, options);
    latency::deploy_config_from_json(config.deploy);
  }
}

// Removes a database file this run created when the run fails before its
// experiment is stored: a refused configuration leaves no empty database.
class CreatedDbGuard {
 public:
  explicit CreatedDbGuard(const std::string& path)
      : path_(path), created_(!std::filesystem::exists(path)) {}
  ~CreatedDbGuard() {
    if (!created_ || kept_) return;
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_ + suffix, ec);
    }
  }
  void keep() { kept_ = true; }

 private:
  std::string path_;
  bool created_;
  bool kept_ = false;
};

}  // namespace

RunResult run_search(const ConfigOverrides& overrides, const RunOptions& options,
                     std::ostream& out) {
  if (options.db_path.empty()) throw ConfigError("--db: the database path is empty; expected a file name");
  if (options.resume && !std::filesystem::exists(options.db_path)) {
    throw ConfigError("--resume: no database '" + options.db_path + "'");
  }
  if (!options.train_config_path.empty()) {
    std::vector<std::string> inputs{options.db_path};
    if (overrides.config_file) inputs.push_back(*overrides.config_file);
    check_output_path(options.train_config_path, inputs, "--train-config");
  }
  // Flag and file errors before the db is touched (created, or locked).
  if (!options.resume) check_runnable(build_config(overrides), options);
  search::set_torch_threads(options.threads);

  // One writer per database, held until the run ends: a second search (or a
  // profile) on this file is refused here, before anything is written.
  db::WriterLock lock(options.db_path, "mnas_search");
  CreatedDbGuard created(options.db_path);
  db::Database database(options.db_path);
  db::ExperimentStore store(database);
  std::optional<db::ExperimentRecord> existing;
  const ExperimentConfig config = check_experiment(store, overrides, options, existing);
  // Everything that can refuse the configuration runs before the first write.
  auto strategy = make_strategy(config);
  if (config.objective == "proxy" && !options.quiet) {
    out << "latency: predictor for deploy "
        << latency::to_json(latency::deploy_config_from_json(config.deploy)).dump()
        << " (its lookup table is profiled into the db on first use, ~2-3 min; cached after)\n"
        << std::flush;
  }
  auto evaluator = make_evaluator(config, database, options);
  int64_t exp = 0;
  if (!existing) {
    const std::string json = to_json(config).dump();
    store.transaction([&] {
      exp = store.create_experiment(json, static_cast<int64_t>(config.seed), config.strategy.name,
                                    config.budget);
      store.save_checkpoint(exp, 0, strategy->state().dump(), strategy->weights());
    });
    created.keep();
  } else {
    exp = existing->id;
    const auto ckpt = store.checkpoint(exp);
    if (!ckpt) throw db::DbError("experiment " + std::to_string(exp) + " has no strategy checkpoint");
    strategy->restore(nlohmann::json::parse(ckpt->state), ckpt->weights);
  }
  RunResult result;
  result.experiment_id = exp;
  result.resumed = options.resume;

  int requeued = 0;
  store.transaction([&] { requeued = store.requeue_interrupted(exp); });
  std::vector<db::TrialRecord> queued = store.trials(exp, "queued");
  int64_t proposed = store.count_trials(exp);
  int64_t finished = store.count_finished(exp);
  double best = -1;
  int64_t best_index = -1;
  for (const auto& t : store.trials(exp, "done")) {
    if (t.reward && *t.reward > best) best = *t.reward, best_index = t.index;
  }
  if (!options.quiet) {
    out << (options.resume ? "resuming" : "starting") << " experiment " << exp << " in "
        << options.db_path << ": " << describe(config) << "\n";
    if (config.objective == "proxy") {
      // Each child stops at the proxy's time limit, so the budget bounds the
      // wall time (plus ~5 s evaluation per child).
      const auto proxy = train::proxy_config_from_json(config.proxy);
      if (proxy.time_limit_s > 0) {
        const double worst = (config.budget - finished) * (proxy.time_limit_s + 5) /
                             std::max(1, evaluator->capacity());
        out << "  " << config.budget - finished << " trials to run, each child trains at most "
            << fmt(proxy.time_limit_s, 0) << " s: at most " << duration(worst) << " from now\n";
      }
    }
    if (options.resume) {
      out << "  " << finished << "/" << config.budget << " trials finished, " << requeued
          << " interrupted trial(s) re-queued\n";
    }
    out.flush();
  }

  const int64_t budget = config.budget;
  const auto session_start = std::chrono::steady_clock::now();
  std::map<int64_t, db::TrialRecord> in_flight;
  size_t next_queued = 0;
  while (finished < budget) {
    while (evaluator->in_flight() < evaluator->capacity() &&
           (next_queued < queued.size() || proposed < budget)) {
      db::TrialRecord t;
      if (next_queued < queued.size()) {
        t = queued[next_queued++];
      } else {
        const auto p = strategy->propose(proposed);
        const auto arch = config.space.decode(p.decisions);
        t.experiment_id = exp;
        t.index = proposed;
        t.arch = space::arch_to_string(arch);
        t.decisions = nlohmann::json(p.decisions).dump();
        t.seed = static_cast<int64_t>(trial_seed(config.seed, proposed));
        t.status = "queued";
        if (std::isfinite(p.entropy)) t.entropy = p.entropy;
        store.transaction([&] {
          store.insert_trial(t);
          store.save_checkpoint(exp, proposed + 1, strategy->state().dump(), std::nullopt);
        });
        ++proposed;
      }
      store.transaction([&] { store.mark_running(exp, t.index, "local"); });
      search::TrialRequest req{t.index, t.arch, static_cast<uint64_t>(t.seed), t.attempts + 1};
      in_flight[t.index] = t;
      evaluator->submit(req);
    }
    if (evaluator->in_flight() == 0) break;  // nothing left to run (cannot happen with budget)

    const search::TrialResult r = evaluator->poll();
    auto it = in_flight.find(r.trial);
    if (it == in_flight.end()) throw Error("evaluator returned unknown trial " + std::to_string(r.trial));
    db::TrialRecord t = it->second;
    in_flight.erase(it);

    const bool ok = r.status == search::TrialStatus::kOk;
    const double rw = ok ? search::reward(r.accuracy, r.latency_ms, config.reward) : 0.0;
    const auto decisions = nlohmann::json::parse(t.decisions).get<std::vector<int>>();
    const bool updated = strategy->observe(t.index, decisions, rw);
    t.status = ok ? "done" : search::to_string(r.status);
    if (ok || r.accuracy > 0) t.accuracy = r.accuracy;
    if (ok) t.loss = r.loss;
    t.latency_ms = r.latency_ms;
    t.measured_latency_ms = r.measured_latency_ms;
    t.reward = rw;
    t.params = r.params;
    t.macs = r.macs;
    t.train_seconds = r.train_seconds;
    t.eval_seconds = r.eval_seconds;
    t.seconds = r.seconds;
    t.worker = r.worker;
    t.message = r.message;
    const int64_t finished_now = finished + 1;
    store.transaction([&] {
      store.finish_trial(t);
      std::optional<std::string> weights;
      if (updated) weights = strategy->weights();
      store.save_checkpoint(exp, proposed, strategy->state().dump(), weights);
      if (updated) {
        const auto stats = strategy->last_update();
        store.log_update(exp, stats.value("update", int64_t{0}), finished_now, stats.dump());
      }
    });
    finished = finished_now;
    ++result.trials_run;
    if (ok && rw > best) best = rw, best_index = t.index;

    if (!options.quiet) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
      const double eta = elapsed / static_cast<double>(result.trials_run) *
                         static_cast<double>(budget - finished);
      const int width = static_cast<int>(std::to_string(budget).size());
      out << "[" << std::setw(width) << finished << "/" << budget << "] trial " << std::setw(width)
          << t.index << " " << arch_summary(t.arch) << "  ";
      if (ok) {
        out << "acc " << fmt(r.accuracy, 4) << " lat " << fmt(r.latency_ms, 1) << "ms reward "
            << fmt(rw, 4);
      } else {
        out << t.status << " (" << r.message << ")";
      }
      out << "  best " << (best_index >= 0 ? fmt(best, 4) + " (#" + std::to_string(best_index) + ")" : "-")
          << "  ETA " << duration(eta);
      if (updated) out << "  [policy update " << strategy->last_update().value("update", 0) << "]";
      out << "\n";
      out.flush();
    }
  }
  store.transaction([&] { store.set_experiment_status(exp, "done"); });
  result.trials_finished = finished;
  measure_final_candidates(store, database, config, exp, options.measure_top, out);

  const auto record = *store.experiment(exp);
  out << summary_text(store, record, options.top_k);
  if (!options.train_config_path.empty()) {
    const auto best_list = best_trials(store.trials(exp), 1);
    if (best_list.empty()) throw Error("no successful trial: no mnas_train configuration to write");
    write_file_atomically(options.train_config_path,
                          train_config(best_list.front(), record, options.db_path).dump(2) + "\n");
    out << "wrote the mnas_train configuration of trial " << best_list.front().index << " to "
        << options.train_config_path << "\n";
  }
  return result;
}

}  // namespace mnas::experiments
