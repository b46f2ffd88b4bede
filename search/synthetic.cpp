#include "search/synthetic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

#include "space/block_codec.h"
#include "space/counters.h"
#include "space/layer_spec.h"

namespace mnas::search {

space::GlobalParams synthetic_deploy_params(const space::SearchSpace& space) {
  space::GlobalParams base;
  base.image_size = 224;
  base.num_classes = 1000;
  base.input_channels = 3;
  return space.global_params(base);
}

double synthetic_latency_ms(const space::ArchSpec& arch, const space::GlobalParams& deploy) {
  const auto layers = space::expand_layers(arch, deploy);
  const auto cost = space::model_cost(layers);
  int block_layers = 0;
  for (const auto& l : layers) block_layers += l.kind == space::LayerKind::kBlock;
  const double mm = 1e-6;
  return 2.0 + 0.145 * (cost.total.conv_macs + cost.total.fc_macs) * mm +
         0.725 * cost.total.depthwise_macs * mm + 48.0 * cost.total.se_macs * mm +
         0.25 * block_layers;
}

double synthetic_accuracy(const space::ArchSpec& arch, const space::GlobalParams& deploy) {
  const auto cost = space::model_cost(space::expand_layers(arch, deploy));
  double acc = 0.90 - 0.40 * std::exp(-static_cast<double>(cost.total.macs) * 1e-6 / 160.0);
  for (const auto& b : arch.blocks) {
    if (b.op == space::ConvOp::kMBConv) acc += b.expand_ratio >= 6 ? 0.004 : 0.002;
    if (b.op == space::ConvOp::kSepConv) acc -= 0.002;
    if (b.kernel_size >= 5) acc += 0.002;
    if (b.has_se()) acc += 0.003;
    if (b.skip == space::SkipOp::kIdentity) acc += 0.002;
    if (b.skip == space::SkipOp::kPool) acc += 0.001;
  }
  return std::clamp(acc, 0.0, 0.999);
}

AccuracyFn synthetic_accuracy_fn(const space::GlobalParams& deploy, int delay_ms) {
  return [deploy, delay_ms](const space::ArchSpec& arch, uint64_t /*seed*/, const ChildStage& stage) {
    const auto start = std::chrono::steady_clock::now();
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ChildOutcome out;
    out.status = TrialStatus::kOk;
    out.accuracy = synthetic_accuracy(arch, deploy);
    if (stage.max_steps > 0) {
      // A partial budget (a rung of search/asha.h): lower and noisier, the
      // noise a fixed function of (architecture, rung).
      const uint64_t h = std::hash<std::string>{}(space::arch_to_string(arch) + "#" +
                                                  std::to_string(stage.rung));
      const double u = static_cast<double>(h % 1000003) / 1000003.0;
      out.accuracy = std::clamp(out.accuracy - (0.03 + 0.02 * u) / (1 << std::min(stage.rung, 20)),
                                0.0, 0.999);
      out.steps = stage.max_steps;
    }
    out.loss = -std::log(std::max(out.accuracy, 1e-6));
    out.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  };
}

LatencyFn synthetic_latency_fn(const space::GlobalParams& deploy) {
  return [deploy](const space::ArchSpec& arch) { return synthetic_latency_ms(arch, deploy); };
}

}  // namespace mnas::search
