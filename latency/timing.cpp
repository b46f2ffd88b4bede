// Timed runs and reference normalisation (see latency/timing.h).
#include "latency/timing.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "common/error.h"
#include "latency/engine.h"
#include "latency/onnxruntime_engine.h"
#include "latency/statistics.h"
#include "latency/table_store.h"
#include "latency/timing_internal.h"
#include "space/block_codec.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace internal {
namespace {

// NOTE: copies of the reference network, run in turn. A compiled instance's
// speed relative to other models varies from process to process (where its
// buffers land: in one analysis binary, 4-9% std between processes with one
// copy, half that with three; `validate` over 20 architectures, 4 processes:
// 0.55% against 1.08%, 2026-12-02). Three copies average that out for ~0.3 s
// of compilation and ~50 MB.
constexpr int kReferenceCopies = 3;

}  // namespace

Reference make_reference(const DeployConfig& deploy, const std::string& engine, torch::Device device,
                         double ms) {
  Reference r;
  r.ms = ms;
  const ModelToMeasure net = reference_network(deploy);
  for (int c = 0; c < kReferenceCopies; ++c) {
    torch::manual_seed(0);
    r.copies.push_back(make_model_runner(net.arch, net.params, engine, device, nullptr));
    r.inputs.push_back(timed_input(deploy.batch, deploy.input_channels, deploy.image_size,
                                   deploy.image_size, device, engine));
  }
  return r;
}

// NOTE: per-run ratios, not the ratio of the window's medians: tried
// (2026-12-01), the table-to-table spread of layers did not shrink (6.2%
// against 5.3% std) and repeated model measurements spread more; with the
// reference network (2026-12-02 trace, 45-run windows) 0.8-1.7% std per-run
// against 1.6-2.5% for the ratio of medians: the host's noise is correlated
// over a few milliseconds, so the reference run must be the adjacent one.
void sample_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, std::vector<double>& times,
                   const Reference* ref, std::vector<double>* raw) {
  torch::InferenceMode guard;
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  for (int i = 0; i < warmup; ++i) {
    run(x);
    if (ref) ref->run();
  }
  sync();
  const auto start = Clock::now();
  double reference_total_ms = 0.0;
  for (int n = 0; n < max_runs && (n < min_runs || ms_since(start) - reference_total_ms < min_time_ms); ++n) {
    const auto t0 = Clock::now();
    auto y = run(x);
    sync();
    double t = ms_since(t0);
    if (raw) raw->push_back(t);
    if (ref) {
      const double tr = ref->timed_ms();
      reference_total_ms += tr;
      t *= ref->ms / std::max(tr, 1e-6);
    }
    times.push_back(t);
  }
}

Timing time_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, const Reference* ref) {
  std::vector<double> times;
  sample_runner(run, x, device, warmup, min_runs, max_runs, min_time_ms, times, ref);
  return summarize(std::move(times));
}

}  // namespace internal

using namespace internal;

namespace {

constexpr const char* kReferenceNetwork = "mnasnet-b1";

// The 10th percentile of the reference's runs over `seconds`, alone.
double measure_reference(const DeployConfig& deploy, const std::string& engine, double seconds) {
  if (engine == "onnxruntime") return onnxruntime_reference_p10(deploy, seconds);
  const torch::Device device = to_device(deploy);
  ThreadScope threads(deploy.threads, true);
  torch::InferenceMode guard;
  const Reference ref = make_reference(deploy, engine, device, 0.0);
  const Runner run = [&ref](const torch::Tensor&) { return ref.run(); };
  return time_runner(run, ref.inputs[0], device, 20, 50, 1 << 30, seconds * 1000.0).p10_ms;
}

}  // namespace

ModelToMeasure reference_network(const DeployConfig& deploy) {
  const auto& named = space::named_arch(kReferenceNetwork);
  return {space::decode_arch(named.block_strings), apply_deploy(named.params, deploy)};
}

std::string reference_workload(const DeployConfig& deploy) {
  return std::string("network:") + kReferenceNetwork + ":" + std::to_string(deploy.image_size) + "x" +
         std::to_string(deploy.image_size) + "x" + std::to_string(deploy.input_channels) + ":o" +
         std::to_string(deploy.num_classes);
}

double reference_ms(const DeployConfig& deploy, double seconds) {
  validate(deploy);
  const std::string engine = resolve_engine(deploy);
  const std::string key = to_string(table_id(deploy, engine)) + " " + reference_workload(deploy);
  static std::mutex mutex;
  static std::map<std::string, double> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  const double ms = measure_reference(deploy, engine, seconds);
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(key, ms).first->second;
}

double table_reference_ms(db::Database& db, const DeployConfig& deploy) {
  validate(deploy);
  const std::string engine = resolve_engine(deploy);
  const TableId id = table_id(deploy, engine);
  const std::string workload = reference_workload(deploy);
  std::string stored_workload;
  const double stored = load_reference_ms(db, id, &stored_workload);
  if (stored > 0) {
    if (stored_workload != workload) {
      throw ConfigError("latency table " + to_string(id) + " in '" + db.path() +
                        "' is normalised by the reference " + stored_workload + ", but this deploy "
                        "configuration needs " + workload + " (other classes or input channels): "
                        "use another --db for it");
    }
    return stored;
  }
  const double ms = measure_reference(deploy, engine, 3.0);
  store_reference_ms(db, id, workload, ms);
  return ms;
}

double nominal_reference_ms(const DeployConfig& deploy, const MeasureOptions& o) {
  if (!o.normalize || !to_device(deploy).is_cpu()) return 0.0;
  return o.reference_ms > 0 ? o.reference_ms : reference_ms(deploy);
}

}  // namespace mnas::latency
