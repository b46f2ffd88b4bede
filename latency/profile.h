// Per-layer profiling into a latency table (Torch-free header; LibTorch
// behind it in profile.cpp).
#pragma once

#include <vector>

#include "db/database.h"
#include "latency/arch_list.h"
#include "latency/deploy_config.h"
#include "latency/progress.h"
#include "space/global_params.h"
#include "space/layer_spec.h"

namespace mnas::latency {

// Per-layer profiling for the lookup table. The run and time budgets are per
// layer, over all rounds.
struct ProfileOptions {
  int warmup = 3;
  int min_runs = 9;
  int max_runs = 60;
  double min_time_ms = 25;  // per layer
  int rounds = 3;           // interleaved passes over each chunk
  int chunk = 300;          // layers per chunk (one committed transaction)
  bool normalize = true;    // reference normalisation with the table's constant
};

// Times every layer of `layers` whose key is missing from the db table of
// `deploy` (engine resolved) and stores it. The missing layers are taken in
// a fixed pseudo-random order, `chunk` at a time: a chunk's layers are
// compiled, then timed in `rounds` round-robin passes (as measure_many does
// for models), and the chunk is committed in one transaction, so an
// interrupted run resumes at the chunk where it stopped. Each layer's median
// is over the runs of all its rounds, which lie seconds apart: a slow phase
// of a shared host then shifts one round of many layers a little instead of
// all runs of a few layers a lot. On oneDNN every layer but the stem is timed
// in context: after an exact identity 1x1 convolution, so that its input
// arrives in oneDNN's blocked layout as from the previous layer of a network,
// and that prologue's median (timed in the same rounds, once per input shape
// of the chunk) is subtracted. With normalisation, each round of a layer's
// runs is scaled by one run of the reference network right after it.
// `progress` hears of each committed chunk ("profiling <table> layers",
// layers done of those missing). Returns how many layers it measured.
// `params` are the GlobalParams the layers were expanded under.
int profile_layers(db::Database& db, const std::vector<space::LayerSpec>& layers,
                   const space::GlobalParams& params, const DeployConfig& deploy,
                   const ProfileOptions& options = {}, const ProgressFn& progress = {});

// profile_layers over the layers of every architecture of `entries` (each
// expanded under its own params), with default options: what `mnas_latency
// profile --archs FILE` does. Returns how many layers it measured.
int profile_archs(db::Database& db, const std::vector<ArchEntry>& entries,
                  const DeployConfig& deploy, const ProgressFn& progress = {});

}  // namespace mnas::latency
