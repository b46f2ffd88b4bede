// The proxy child trainer (train/child_trainer.h): a short training run of
// child_train_config whose failures all become statuses.
#include "train/child_trainer.h"

#include "common/error.h"

#include "train/torch_support.h"
#include "train/trainer.h"

namespace mnas::train {

ChildResult train_child(const space::ArchSpec& arch, const ProxyConfig& proxy) {
  return train_child(arch, proxy, ChildStage{});
}

ChildResult train_child(const space::ArchSpec& arch, const ProxyConfig& proxy, const ChildStage& stage) {
  ChildResult out;
  try {
    validate(proxy);
    if (stage.max_steps < 0) throw ConfigError("child stage max_steps must be >= 0 (0 = all)");
    if (stage.resume && stage.checkpoint.empty()) {
      throw ConfigError("child stage: resume needs a checkpoint path");
    }
    TrainConfig c = child_train_config(arch, proxy);
    c.max_steps = stage.max_steps;
    c.checkpoint = stage.checkpoint;
    // Saved at the end of the stage (and at epoch ends); not on a timer.
    c.checkpoint_minutes = 1e9;
    const TrainResult r = train(c, stage.resume);
    out.status = r.status;
    out.message = r.message;
    // A timeout (the safety net) is evaluated with the weights it has; the
    // status says that it did not finish its steps.
    const bool evaluated = r.status == TrialStatus::kOk || r.status == TrialStatus::kTimeout;
    out.top1 = evaluated ? r.val.top1 : 0.0;
    out.loss = r.val.loss;
    if (r.status == TrialStatus::kTimeout) {
      out.message += "; held-out top-1 " + std::to_string(r.val.top1) + " with the weights at that step";
    }
    out.train_seconds = r.train_seconds;
    out.eval_seconds = r.val.seconds;
    out.images_seen = r.images_seen;
    out.steps = r.steps;
  } catch (const c10::Error& e) {
    out.status = TrialStatus::kFailed;
    out.message = std::string(is_oom(e.what()) ? "out of memory: " : "") + first_line(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    out.status = TrialStatus::kFailed;
    out.message = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    out.status = TrialStatus::kFailed;
    out.message = first_line(e.what());
  }
  return out;
}

nlohmann::json to_json(const ChildResult& r) {
  return {{"status", to_string(r.status)},
          {"top1", r.top1},
          {"loss", r.loss},
          {"train_seconds", r.train_seconds},
          {"eval_seconds", r.eval_seconds},
          {"images_seen", r.images_seen},
          {"steps", r.steps},
          {"message", r.message}};
}

}  // namespace mnas::train
