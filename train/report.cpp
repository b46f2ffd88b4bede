#include "train/report.h"

#include <cmath>
#include <cstdio>

#include "train/train_config.h"

namespace mnas::train {

using nlohmann::json;

json to_json(const EvalResult& e) {
  return {{"top1", e.top1},       {"top5", e.top5},       {"loss", e.loss},
          {"images", e.images},   {"seconds", e.seconds}, {"image_size", e.image_size},
          {"bad_images", e.bad_images}};
}

json train_result_json(const TrainResult& r, const TrainConfig& c) {
  json out = {{"status", to_string(r.status)},
              {"message", r.message},
              {"steps", r.steps},
              {"steps_run", r.steps_run},
              {"total_steps", r.total_steps},
              {"images_seen", r.images_seen},
              {"train_seconds", r.train_seconds},
              {"train_loss", std::isfinite(r.train_loss) ? json(r.train_loss) : json(nullptr)},
              {"bad_images", r.bad_images}};
  if (r.val.images > 0) out["val"] = to_json(r.val);
  if (r.test.images > 0) out["test"] = to_json(r.test);
  if (!c.checkpoint.empty()) out["checkpoint"] = c.checkpoint;
  if (!c.source.is_null()) out["source"] = c.source;
  return out;
}

std::string format_duration(double s) {
  const int64_t t = static_cast<int64_t>(s);
  char buf[64];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
  }
  return buf;
}

std::string format_progress(const StepProgress& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "epoch %.2f/%g  step %lld/%lld  loss %.4f  acc %.3f  lr %.5f  %d px  %.0f img/s  ETA %s", p.epoch,
                p.epochs, (long long)p.step, (long long)p.end_step, p.loss, p.accuracy, p.lr, p.image_size,
                p.images_per_second, format_duration(p.eta_seconds).c_str());
  return buf;
}

std::string format_epoch_eval(int64_t epoch, const EvalResult& e) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "epoch %lld  val top1 %.4f  top5 %.4f  loss %.4f", (long long)epoch, e.top1, e.top5,
                e.loss);
  return buf;
}

std::string format_resumed(const std::string& checkpoint) { return "resumed from " + checkpoint; }

}  // namespace mnas::train
