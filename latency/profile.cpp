// Per-layer profiling (see latency/profile.h).
#include "latency/profile.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "common/error.h"
#include "latency/engine.h"
#include "latency/engine_internal.h"
#include "latency/onnxruntime_engine.h"
#include "latency/statistics.h"
#include "latency/table_store.h"
#include "latency/timing.h"
#include "latency/timing_internal.h"

namespace mnas::latency {

using namespace internal;

namespace {

constexpr uint64_t kProfileOrderSeed = 0x6d6e6173;  // "mnas"

// The layers of `layers` missing from `have`, each key once, in a fixed
// pseudo-random order.
// NOTE: enumeration order groups similar layers (stage by stage, op by
// op), so a slow phase of a shared host lasting seconds would bias a whole
// class of layers the same way, and every architecture using that class.
// In a fixed pseudo-random order a phase hits unrelated layers, and the
// errors of an architecture's ~20 layers average out instead of adding up.
std::vector<const space::LayerSpec*> missing_in_profile_order(const LatencyTable& have,
                                                              const std::vector<space::LayerSpec>& layers) {
  std::vector<const space::LayerSpec*> todo;
  std::set<std::string> seen;
  for (const auto& l : layers) {
    const std::string key = space::layer_key(l);
    if (!have.layers.count(key) && seen.insert(key).second) todo.push_back(&l);
  }
  std::shuffle(todo.begin(), todo.end(), std::mt19937_64(kProfileOrderSeed));
  return todo;
}

using Shape = std::tuple<int, int, int>;  // (c, h, w)

// A chunk compiled: its layers, then one identity prologue per input shape
// that an in-context layer of the chunk has; all timed in the same rounds.
struct Chunk {
  std::vector<Runner> runners;
  std::vector<torch::Tensor> inputs;
  std::vector<std::optional<Shape>> layer_shape;  // per layer; set for in-context layers
  std::map<Shape, size_t> prologue_of;             // -> runner index
};

Chunk compile_chunk(const std::vector<const space::LayerSpec*>& layers, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine, torch::Device device) {
  Chunk c;
  for (const auto* layer : layers) {
    const auto& l = *layer;
    torch::manual_seed(0);
    const bool in_context = profile_in_context(l, engine);
    c.runners.push_back(make_layer_runner(l, params, engine, device, in_context));
    c.inputs.push_back(timed_input(deploy.batch, l.in_channels, l.in_h, l.in_w, device, engine));
    c.layer_shape.push_back(in_context ? std::optional<Shape>(Shape{l.in_channels, l.in_h, l.in_w}) : std::nullopt);
    if (in_context) c.prologue_of.emplace(*c.layer_shape.back(), 0);
  }
  for (auto& [shape, index] : c.prologue_of) {
    const auto [ch, h, w] = shape;
    index = c.runners.size();
    c.runners.push_back(make_prologue_runner(ch, engine, device));
    c.inputs.push_back(timed_input(deploy.batch, ch, h, w, device, engine));
  }
  return c;
}

// Times every runner of `c` in o.rounds round-robin passes and returns each
// layer's timing (less its prologue's median when in context), in order.
std::vector<Timing> time_chunk(const Chunk& c, const ProfileOptions& o, torch::Device device,
                               const Reference* ref) {
  const int per_round_min = std::max(1, (o.min_runs + o.rounds - 1) / o.rounds);
  const int per_round_max = std::max(per_round_min, o.max_runs / o.rounds);
  std::vector<std::vector<double>> times(c.runners.size());
  for (int r = 0; r < o.rounds; ++r) {
    for (size_t i = 0; i < c.runners.size(); ++i) {
      // The layer's runs of this round, then (normalised) one run of the
      // reference network that scales them all.
      std::vector<double> window;
      sample_runner(c.runners[i], c.inputs[i], device, r == 0 ? o.warmup : 1, per_round_min,
                    per_round_max, o.min_time_ms / o.rounds, window);
      const double scale = ref ? ref->ms / std::max(ref->timed_ms(), 1e-6) : 1.0;
      for (double t : window) times[i].push_back(t * scale);
    }
  }
  std::vector<Timing> timings;
  for (auto& t : times) timings.push_back(summarize(std::move(t)));
  std::vector<Timing> layers;
  for (size_t i = 0; i < c.layer_shape.size(); ++i) {
    Timing t = timings[i];
    if (const auto& shape = c.layer_shape[i]) {
      t = subtract_prologue(t, timings[c.prologue_of.at(*shape)].median_ms);  // the layer's share
    }
    layers.push_back(t);
  }
  return layers;
}

}  // namespace

int profile_layers(db::Database& db, const std::vector<space::LayerSpec>& layers,
                   const space::GlobalParams& params, const DeployConfig& deploy,
                   const ProfileOptions& o, const ProgressFn& progress) {
  validate(deploy);
  check_params(params, deploy);
  if (o.rounds < 1 || o.chunk < 1) {
    throw ConfigError("profile: rounds and chunk should be >= 1, got " + std::to_string(o.rounds) + " and " +
                      std::to_string(o.chunk));
  }
  const std::string engine = resolve_engine(deploy);
  const TableId id = table_id(deploy, engine);
  const auto todo = missing_in_profile_order(load_table(db, id), layers);
  if (todo.empty()) return 0;
  const torch::Device device = to_device(deploy);
  const double ref_ms = o.normalize && device.is_cpu() ? table_reference_ms(db, deploy) : 0.0;
  const bool ort = engine == "onnxruntime";
  ThreadScope threads(deploy.threads, true);
  torch::InferenceMode guard;
  std::optional<Reference> ref;
  if (ref_ms > 0 && !ort) ref = make_reference(deploy, engine, device, ref_ms);
  const auto start = Clock::now();
  const std::string what = "profiling " + to_string(id) + " layers";
  const OrtLayerBudget budget{o.warmup, o.min_runs, o.max_runs, o.rounds, o.min_time_ms};
  for (size_t begin = 0; begin < todo.size(); begin += static_cast<size_t>(o.chunk)) {
    const size_t end = std::min(todo.size(), begin + static_cast<size_t>(o.chunk));
    const std::vector<const space::LayerSpec*> chunk(todo.begin() + begin, todo.begin() + end);
    const auto timings = ort ? onnxruntime_time_layers(chunk, params, deploy, budget, ref_ms)
                             : time_chunk(compile_chunk(chunk, params, deploy, engine, device), o, device,
                                          ref ? &*ref : nullptr);
    std::vector<std::pair<std::string, Timing>> batch;
    for (size_t i = 0; i < chunk.size(); ++i) batch.emplace_back(space::layer_key(*chunk[i]), timings[i]);
    store_layers(db, id, batch);
    report(progress, {what, static_cast<int>(end), static_cast<int>(todo.size()), ms_since(start) / 1000.0});
  }
  return static_cast<int>(todo.size());
}

int profile_archs(db::Database& db, const std::vector<ArchEntry>& entries,
                  const DeployConfig& deploy, const ProgressFn& progress) {
  if (entries.empty()) return 0;
  std::vector<space::LayerSpec> layers;
  for (const auto& e : entries) {
    for (auto& l : space::expand_layers(e.arch, e.params)) layers.push_back(l);
  }
  // Geometry only: layers carry their own widths, so any entry's params do.
  return profile_layers(db, layers, entries[0].params, deploy, {}, progress);
}

}  // namespace mnas::latency
