// The public entry points of training (train/trainer.h): set-up, the guard
// that turns LibTorch failures into a failed run, the final evaluations, and
// checkpoint evaluation. The loop itself is train/loop.cpp.
#include "train/trainer.h"

#include <filesystem>
#include <optional>

#include "common/error.h"
#include "common/malloc_tuning.h"
#include "train/checkpoint_io.h"
#include "train/loop.h"

namespace mnas::train {
namespace {

TrainResult failed(std::string message) {
  TrainResult r;
  r.status = TrialStatus::kFailed;
  r.message = std::move(message);
  return r;
}

// Undecodable images skipped so far (train and test splits).
void count_bad_images(TrainResult& r, const Data& data) {
  r.bad_images = (data.train.bad_images ? data.train.bad_images->count() : 0) +
                 (data.test.bad_images ? data.test.bad_images->count() : 0);
}

// Validation (held-out split) and test evaluations of a finished run.
void evaluate_finished(TrainResult& r, Run& run, const Data& data, const TrainConfig& config,
                       const WarningFn& on_warning) {
  count_bad_images(r, data);
  if (r.status == TrialStatus::kDiverged) return;
  // A run stopped by its time limit is still evaluated with the weights it
  // has (the search records it as a timeout with that accuracy).
  if (data.has_val && (r.status == TrialStatus::kOk || r.status == TrialStatus::kTimeout)) {
    r.val = evaluate(run.eval_net(), data.val, config, run.device(), on_warning);
  }
  if (config.eval_test && r.status == TrialStatus::kOk &&
      (config.max_steps == 0 || r.steps >= r.total_steps)) {
    r.test = evaluate(run.eval_net(), data.test, config, run.device(), on_warning);
  }
  count_bad_images(r, data);
}

}  // namespace

TrainResult train(const TrainConfig& config, bool resume, const TrainCallbacks& callbacks) {
  validate(config);
  keep_freed_buffers();  // also applied at start-up (common/malloc_tuning_init.cpp)
  torch::set_num_threads(config.threads);
  torch::manual_seed(config.seed);
  const Data data = load_data(config);
  // A network too large to build (or to run) is a failed run with LibTorch's
  // first line, not an exception with a backtrace.
  std::optional<Run> run;
  try {
    run.emplace(config, data);
  } catch (const c10::Error& e) {
    return failed(std::string(is_oom(e.what()) ? "out of memory: " : "") + "cannot build the model: " +
                  first_line(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return failed("out of memory (std::bad_alloc) building the model");
  }
  if (resume) {
    if (config.checkpoint.empty()) throw ConfigError("--resume needs a checkpoint path");
    if (std::filesystem::exists(config.checkpoint)) {
      run->restore(config.checkpoint);
      if (!config.quiet && callbacks.on_resumed) callbacks.on_resumed(config.checkpoint);
    }
  }
  TrainResult r;
  try {
    r = run->run(callbacks);
  } catch (const c10::Error& e) {
    return failed(std::string(is_oom(e.what()) ? "out of memory: " : "") + first_line(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return failed("out of memory (std::bad_alloc)");
  }
  evaluate_finished(r, *run, data, config, callbacks.on_warning);
  return r;
}

TrainResult train(const TrainConfig& config, bool resume, const WarningFn& on_warning) {
  TrainCallbacks callbacks;
  callbacks.on_warning = on_warning;
  return train(config, resume, callbacks);
}

EvalResult evaluate_checkpoint(const std::string& path, const TrainConfig& data_config, int image_size) {
  keep_freed_buffers();
  torch::set_num_threads(data_config.threads);
  CheckpointInfo info;
  model::MnasNet net = load_checkpoint_model(path, /*use_ema=*/true, &info);
  TrainConfig c = data_config;
  c.image_size = image_size > 0 ? image_size : info.train_image_size;
  if (c.image_size < 8 || c.image_size > 4096) {
    throw ConfigError("evaluation image size " + std::to_string(c.image_size) + " px: expected 8..4096");
  }
  const torch::Device device = parse_device(c.device);
  const Dataset test = load_dataset(c.dataset, c.data_path, /*train=*/false, info.params.num_classes);
  if (test.num_classes != info.params.num_classes || test.channels != info.params.input_channels) {
    throw ConfigError("checkpoint '" + path + "' expects " + std::to_string(info.params.num_classes) +
                      " classes and " + std::to_string(info.params.input_channels) + " channels; dataset " +
                      c.dataset + " has " + std::to_string(test.num_classes) + " and " +
                      std::to_string(test.channels));
  }
  net->to(device);
  if (c.channels_last) model::to_channels_last(*net);
  return evaluate(net, test, c, device);
}

}  // namespace mnas::train
