// The "synthetic" objective: accuracy and latency as known, deterministic
// functions of the architecture, with no training and no measurement. It
// lets users compare strategies and reward settings in seconds and gives the
// tests a reward with known structure. Select it in an experiment file with
// "objective": "synthetic". No LibTorch.
//
// Both functions read the architecture expanded under the deploy
// GlobalParams (224 px, 1000 classes by default) and its analytical costs
// (space/counters.h), in millions of multiply-adds (MMACs):
//
//   latency_ms = 2.0 + 0.145 * conv_MMACs + 0.725 * depthwise_MMACs
//                + 48 * se_MMACs + 0.25 * (number of block layers)
//   accuracy   = 0.90 - 0.40 * exp(-MMACs / 160)
//                + sum over stages of a small bonus per choice:
//                  conv op mbconv6 +0.004, mbconv3 +0.002, sepconv -0.002,
//                  conv 0; kernel 5 +0.002; SE +0.003; identity skip +0.002,
//                  pool skip +0.001
//                clamped to [0, 0.999].
//
// Accuracy saturates with compute while latency grows with it, so under the
// soft reward the best architectures sit near the latency target, as in the
// paper's Fig. 6; per-choice bonuses cost latency (SE, kernel 5, wider
// expansion) so the trade-off is not a single knob. MnasNet-A1 scores 0.892
// at 77.9 ms (the constants were chosen so that A1 lands near the paper's
// 78 ms on a Pixel 1). The child seed is ignored: the objective is noise-free.
#pragma once

#include "search/evaluator.h"
#include "space/block_args.h"
#include "space/global_params.h"
#include "space/search_space.h"

namespace mnas::search {

// The deploy GlobalParams of the synthetic objective: the space's stem and
// divisor, 224 px, 3 channels, 1000 classes.
space::GlobalParams synthetic_deploy_params(const space::SearchSpace& space);

// The two formulas above for `arch` expanded under `deploy`.
double synthetic_latency_ms(const space::ArchSpec& arch, const space::GlobalParams& deploy);
double synthetic_accuracy(const space::ArchSpec& arch, const space::GlobalParams& deploy);

// Callbacks for InProcessEvaluator. delay_ms > 0 sleeps that long in each
// accuracy call (to test kills and progress output on a "slow" child). A
// stage with max_steps > 0 (a rung of multi-fidelity children) scores
// accuracy - (0.03 + 0.02 u) / 2^rung, u in [0, 1) a hash of (architecture,
// rung): lower and noisier at low rungs, so rankings can change as children
// are promoted. The full budget (max_steps 0) scores the formula above.
AccuracyFn synthetic_accuracy_fn(const space::GlobalParams& deploy, int delay_ms = 0);
LatencyFn synthetic_latency_fn(const space::GlobalParams& deploy);

}  // namespace mnas::search
