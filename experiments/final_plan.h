// What a search's final stage trains (experiments/final_stage.h runs it): the
// final recipe, the hand-designed baselines, and the list of models -- the
// top-K distinct architectures of the search (optionally its Pareto front)
// and the baselines -- each with the key under which its row and files are
// stored. Torch-free, so that read-only tools can name the same things.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/experiment_store.h"
#include "db/final_store.h"
#include "experiments/experiment_config.h"
#include "train/train_config.h"

namespace mnas::experiments {

// The built-in final recipe (= experiments/final-fashion.json): Fashion-MNIST
// at 32 px, all 60,000 training images for 2 epochs, SGD with Nesterov
// momentum 0.9, lr 0.1 per 128 images, cosine, label smoothing 0.1, weight
// decay 4e-4, flip augmentation, no EMA; the test split (10,000 images) is
// evaluated at the end. Sized for a 2-core machine: about 1-3 minutes per
// model (docs/search.md gives the figures). The arch, seed, threads and
// checkpoint are set per model.
train::TrainConfig default_final_recipe();

// A recipe's identity: 16 hex digits of a 64-bit FNV-1a hash of its JSON form
// without the keys that do not change what is learnt (arch, depth
// multiplier, stem and divisor, seed, threads, device, checkpoint and its
// interval, time limit, logging, source). Baselines trained under one key
// are reused by every search that uses the same recipe.
std::string final_recipe_key(const train::TrainConfig& recipe);

// A hand-designed model trained next to the found ones: a name from
// space::named_arch_names() at a depth multiplier (1 = the model's own).
struct Baseline {
  std::string arch;
  double depth_multiplier = 1;
};

// MobileNetV2 at 0.35, 0.5, 0.75, 1.0 and 1.4 (the paper's Figure 5 curve),
// mnasnet-a1, mnasnet-b1 and mnasnet-small.
std::vector<Baseline> default_baselines();

// "all" (the defaults), "none", or a comma-separated list of NAME or
// NAME@MULTIPLIER ("mobilenet-v2@0.5,mnasnet-a1"). Throws ConfigError naming
// the bad item (unknown model, multiplier not in (0, 4]).
std::vector<Baseline> parse_baselines(const std::string& text);

// "mobilenet-v2 x0.5", "mnasnet-a1".
std::string baseline_name(const Baseline& b);

struct FinalModel {
  db::FinalRecord record;          // key, name, trial, recipe JSON, the search's figures
  train::TrainConfig config;       // the complete training configuration (checkpoint unset)
  std::string dir_name;            // the model's folder under the final stage's folder
};

struct FinalPlanOptions {
  int top_k = 3;          // distinct architectures of the search, by reward
  bool pareto = false;    // also every architecture on the accuracy/latency front
  int seeds = 1;          // found models are trained with seeds recipe.seed .. + seeds - 1
  std::vector<Baseline> baselines = default_baselines();
  train::TrainConfig recipe = default_final_recipe();
  int threads = 2;
};

// The models to train for `experiment`: found ones first (by reward), then
// the baselines (with seed recipe.seed). A found architecture is trained with
// the search space's stem width and divisor. Throws ConfigError when
// top_k < 0, seeds < 1, or the recipe is refused for an architecture.
std::vector<FinalModel> plan_final_models(const db::ExperimentRecord& experiment,
                                          const std::vector<db::TrialRecord>& trials,
                                          const FinalPlanOptions& options);

}  // namespace mnas::experiments
