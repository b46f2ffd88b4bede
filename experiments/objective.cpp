// What a trial is evaluated with: the strategy an experiment names, the
// accuracy side (synthetic score or proxy child trainer), the latency side
// (synthetic latency or the predictor of the deploy configuration) and the
// evaluator that combines them.
#include <memory>

#include "common/error.h"
#include "experiments/search_run.h"
#include "latency/measure.h"
#include "search/ppo_controller.h"
#include "search/synthetic.h"
#include "train/child_trainer.h"

namespace mnas::experiments {

uint64_t trial_seed(uint64_t experiment_seed, int64_t index) {
  uint64_t z = experiment_seed + 0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(index) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::unique_ptr<search::Strategy> make_strategy(const ExperimentConfig& c) {
  const auto sizes = c.space.choice_sizes();
  // The strategy's RNG stream differs from the child seeds (trial_seed).
  const uint64_t seed = trial_seed(c.seed, -1);
  if (c.strategy.name == "ppo") {
    // Choices that decode alike (equal labels: repeats 1 + {-1, 0}) are
    // masked, so each architecture has one decision path.
    return std::make_unique<search::PpoController>(sizes, c.strategy.ppo, seed,
                                                   search::canonical_choices(c.space));
  }
  if (c.strategy.name == "random") return std::make_unique<search::RandomSearch>(sizes, seed);
  if (c.strategy.name == "evolution") {
    return std::make_unique<search::RegularizedEvolution>(sizes, c.strategy.evolution, seed);
  }
  throw ConfigError("unknown strategy '" + c.strategy.name + "' (expected ppo, random or evolution)");
}

search::AccuracyFn make_accuracy_fn(const ExperimentConfig& c, const RunOptions& options) {
  if (c.objective == "synthetic") {
    return search::synthetic_accuracy_fn(search::synthetic_deploy_params(c.space), options.delay_ms);
  }
  if (c.objective != "proxy") {
    throw ConfigError("unknown objective '" + c.objective + "' (expected synthetic or proxy)");
  }
  train::ProxyConfig proxy = c.proxy;
  proxy.threads = options.threads;
  if (!options.device.empty()) proxy.device = options.device;
  train::validate(proxy);
  return [proxy](const space::ArchSpec& arch, uint64_t seed, const search::ChildStage& stage) {
    train::ProxyConfig p = proxy;
    p.seed = seed;
    // Rung 0 starts from scratch (a stale file of an earlier run is
    // overwritten); a promotion resumes from the rung below's checkpoint.
    train::ChildStage s;
    s.max_steps = stage.max_steps;
    s.checkpoint = stage.checkpoint;
    s.resume = stage.rung > 0;
    const train::ChildResult r = train::train_child(arch, p, s);
    search::ChildOutcome out;
    out.status = r.status;
    out.accuracy = r.top1;
    out.loss = r.loss;
    out.steps = r.steps;
    out.train_seconds = r.train_seconds;
    out.eval_seconds = r.eval_seconds;
    out.message = r.message;
    return out;
  };
}

DeployLatency make_latency_fn(const ExperimentConfig& c, db::Database& db, const RunOptions& options) {
  if (c.objective == "synthetic") {
    const auto deploy = search::synthetic_deploy_params(c.space);
    return {search::synthetic_latency_fn(deploy), deploy};
  }
  const space::GlobalParams params = c.space.global_params(latency::apply_deploy({}, c.deploy));
  LayerLatencyFn layers = make_layer_latency_fn(c.space, c.deploy, db, options.quiet);
  return {[layers, params](const space::ArchSpec& arch) {
            return layers(space::expand_layers(arch, params));
          },
          params};
}

LayerLatencyFn make_layer_latency_fn(const space::SearchSpace& space,
                                     const latency::DeployConfig& deploy, db::Database& db,
                                     bool quiet) {
  if (latency::uses_profile(deploy)) {
    // A device profile (pixel1): an estimate from the layer list, with no
    // table to profile and nothing measured.
    auto profile = std::make_shared<const latency::DeviceProfile>(latency::deploy_profile(deploy));
    return [profile](const std::vector<space::LayerSpec>& layers) {
      return profile->predict_ms(layers);
    };
  }
  auto predictor =
      std::make_shared<latency::Predictor>(latency::ensure_predictor(db, space, deploy, quiet));
  return [predictor](const std::vector<space::LayerSpec>& layers) {
    return predictor->predict_ms(layers);
  };
}

std::unique_ptr<search::Evaluator> make_evaluator(const ExperimentConfig& c, db::Database& db,
                                                  const RunOptions& options) {
  auto accuracy = make_accuracy_fn(c, options);
  auto latency = make_latency_fn(c, db, options);
  if (options.make_evaluator) return options.make_evaluator(c, latency);
  return std::make_unique<search::InProcessEvaluator>(std::move(accuracy), std::move(latency.fn),
                                                      latency.params, "local");
}

}  // namespace mnas::experiments
