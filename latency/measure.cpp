// NOTE: the only LibTorch translation unit of latency/ (compile time).
#include "latency/measure.h"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/xnnpack_rewrite.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "common/error.h"
#include "common/malloc_tuning.h"
#include "latency/arch_list.h"
#include "latency/table_store.h"
#include "model/blocks.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/script_emitter.h"
#include "model/weights.h"
#include "space/block_codec.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kProfileOrderSeed = 0x6d6e6173;  // "mnas"
using Runner = std::function<torch::Tensor(const torch::Tensor&)>;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// oneDNN keeps the primitives it creates (JIT-compiled kernels) in a
// process-wide LRU cache of 1024 by default. Interleaved rounds over 60
// calibration models or a 300-layer profiling chunk need thousands, so each
// round evicted the others' kernels and re-created them at new addresses:
// the same model then measured differently from round to round and call to
// call (30 models measured 3 times in one process: 2.9% deviation from each
// model's mean, 1.5% with a 100000 capacity, 2026-12-02). A capacity the user
// set (ONEDNN_PRIMITIVE_CACHE_CAPACITY) is kept.
constexpr int kPrimitiveCacheCapacity = 1 << 16;
bool widen_primitive_cache() {
  static const bool done = [] {
    if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY")) {
      return false;
    }
    // LibTorch built against a shared oneDNN (Debian) exports the C API;
    // one with oneDNN linked in statically may hide it, and then reads the
    // variable when it first creates its cache (this runs at load time).
    using SetCapacity = int (*)(int);
    if (auto set = reinterpret_cast<SetCapacity>(dlsym(RTLD_DEFAULT, "dnnl_set_primitive_cache_capacity"))) {
      return set(kPrimitiveCacheCapacity) == 0;
    }
    return setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", std::to_string(kPrimitiveCacheCapacity).c_str(), 0) == 0;
  }();
  return done;
}
[[maybe_unused]] const bool kPrimitiveCacheWidened = widen_primitive_cache();

// Sets the thread count (and pins single-thread runs to the last allowed
// CPU) for its lifetime; restores both afterwards.
class ThreadScope {
 public:
  ThreadScope(int threads, bool pin) : old_threads_(torch::get_num_threads()) {
    keep_freed_buffers();
    widen_primitive_cache();
    torch::set_num_threads(threads);
    if (pin && threads == 1 && sched_getaffinity(0, sizeof(old_mask_), &old_mask_) == 0) {
      int last = -1;
      for (int c = 0; c < CPU_SETSIZE; ++c) if (CPU_ISSET(c, &old_mask_)) last = c;
      if (last >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(last, &one);
        pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
      }
    }
  }
  ~ThreadScope() {
    if (pinned_) sched_setaffinity(0, sizeof(old_mask_), &old_mask_);
    torch::set_num_threads(old_threads_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int old_threads_;
  cpu_set_t old_mask_{};
  bool pinned_ = false;
};

torch::Device to_device(const DeployConfig& d) {
  if (is_remote(d)) {
    throw ConfigError("device " + d.device + " is remote: mnas cannot measure on it; import a "
                      "table measured there (mnas_latency import)");
  }
  torch::Device dev(d.device);
  if (dev.is_cuda() && !torch::cuda::is_available()) {
    throw ConfigError("device " + d.device + " asked for, but CUDA is not available here");
  }
  return dev;
}

std::string num(double v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

// TorchScript of the layers, emitted over the eager module's weights (BN
// unfolded: the engines fold it), named "MnasLayers".
model::ScriptOptions script_options(const std::string& engine) {
  model::ScriptOptions o;
  o.dense_pool_skip = engine == "onednn";
  return o;
}

torch::jit::Module network_script(model::MnasNetImpl& net, const std::string& engine) {
  const model::ModuleWeights weights(net);
  model::ScriptEmitter e(weights, net.params().bn_epsilon, script_options(engine));
  model::emit_network(net.layers(), net.params().tf_same_padding, e, e.input());
  return e.build("MnasLayers");
}

// One layer, its weights in `module` (make_layer's); with `prologue`, after
// the emitter's identity_prologue.
torch::jit::Module layer_script(const space::LayerSpec& l, const space::GlobalParams& params,
                                torch::nn::Module& module, const std::string& engine, bool prologue) {
  const model::ModuleWeights weights(module);
  model::ScriptEmitter e(weights, params.bn_epsilon, script_options(engine));
  if (prologue) e.identity_prologue(l.in_channels);
  model::emit_steps(model::layer_steps(l, params.tf_same_padding), e, e.input());
  return e.build("MnasLayers");
}

// Turns the generated module into a runner for `engine`.
Runner compile(torch::jit::Module script, const std::string& engine, torch::Device device) {
  if (engine == "onednn") {
    // NOTE: torch::jit::freeze in LibTorch 1.13 runs the frozen-graph
    // optimisations (conv-BN folding, ...) on the graph of its *input*, not
    // of the frozen copy; freeze and optimise explicitly like Python's
    // torch.jit.freeze does.
    auto frozen = torch::jit::freeze_module(script);
    auto graph = frozen.get_method("forward").graph();
    torch::jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
    auto optimized = std::make_shared<torch::jit::Module>(torch::jit::optimize_for_inference(frozen));
    return [optimized](const torch::Tensor& x) {
      return optimized->forward({x.contiguous(torch::MemoryFormat::ChannelsLast)}).toTensor();
    };
  }
  if (engine == "xnnpack") {
    auto mobile = std::make_shared<torch::jit::Module>(torch::jit::optimizeForMobile(script));
    return [mobile](const torch::Tensor& x) { return mobile->forward({x}).toTensor(); };
  }
  (void)device;
  throw ConfigError("compile: engine '" + engine + "' is not a TorchScript engine");
}

// A runner for the whole network of `layers` under `engine` on `device`.
// `out_compile_ms` receives the build time.
Runner make_model_runner(const space::ArchSpec& arch, const space::GlobalParams& params,
                         const std::string& engine, torch::Device device, double* out_compile_ms) {
  const auto t0 = Clock::now();
  model::MnasNet net(arch, params);
  net->eval();
  Runner run;
  if (engine == "eager") {
    net->to(device);
    run = [net](const torch::Tensor& x) mutable { return net->forward(x); };
  } else {
    run = compile(network_script(*net, engine), engine, device);
  }
  if (out_compile_ms) *out_compile_ms = ms_since(t0);
  return run;
}

// With `prologue`, the layer runs after the identity prologue (TorchScript
// engines only).
Runner make_layer_runner(const space::LayerSpec& l, const space::GlobalParams& params,
                         const std::string& engine, torch::Device device, bool prologue = false) {
  auto m = model::make_layer(l, params);
  m.ptr()->eval();
  if (engine == "eager") {
    m.ptr()->to(device);
    return [m](const torch::Tensor& x) mutable { return m.forward(x); };
  }
  return compile(layer_script(l, params, *m.ptr(), engine, prologue), engine, device);
}

// The identity prologue alone, on an input of `channels` channels.
Runner make_prologue_runner(int channels, const std::string& engine, torch::Device device) {
  torch::nn::Module none;
  const model::ModuleWeights weights(none);
  model::ScriptEmitter e(weights, space::GlobalParams{}.bn_epsilon, script_options(engine));
  e.identity_prologue(channels);
  return compile(e.build("MnasLayers"), engine, device);
}

// NOTE: layers are profiled in context on oneDNN. A layer inside a network
// gets its input from the previous layer in oneDNN's blocked layout; alone,
// from a dense channels-last tensor. Layers whose first ops are not oneDNN
// convolutions (a pool skip's dense average pool) then cost more in the
// network than alone (three pool-skip stages: 0.75 ms measured, 0.24 ms in
// the table, 2026-12-02). So such a layer is timed after an identity 1x1
// convolution, and the prologue's own time (measured alongside, once per
// input shape) is subtracted. The stem reads the image, as in a network.
bool profile_in_context(const space::LayerSpec& l, const std::string& engine) {
  return engine == "onednn" && l.kind != space::LayerKind::kStem;
}

torch::Tensor random_input(int batch, int channels, int h, int w, torch::Device device) {
  torch::manual_seed(0);
  return torch::randn({batch, channels, h, w}).to(device);
}

// The input of timed runs: in the layout the engine computes in, so that a
// single layer's time does not include a layout copy that the whole network
// makes only once (the oneDNN runner's contiguous() is then a no-op).
torch::Tensor timed_input(int batch, int channels, int h, int w, torch::Device device,
                          const std::string& engine) {
  auto x = random_input(batch, channels, h, w, device);
  return engine == "onednn" ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

// NOTE: copies of the reference network, run in turn. A compiled instance's
// speed relative to other models varies from process to process (where its
// buffers land: in one analysis binary, 4-9% std between processes with one
// copy, half that with three; `validate` over 20 architectures, 4 processes:
// 0.55% against 1.08%, 2026-12-02). Three copies average that out for ~0.3 s
// of compilation and ~50 MB.
constexpr int kReferenceCopies = 3;

// The reference network, compiled, with its input and nominal latency.
struct Reference {
  std::vector<Runner> copies;  // run in turn
  std::vector<torch::Tensor> inputs;
  double ms = 0.0;
  mutable size_t next = 0;
  torch::Tensor run() const {
    const size_t i = next++ % copies.size();
    return copies[i](inputs[i]);
  }
  // One run, timed (CPU only: normalisation is off on CUDA).
  double timed_ms() const {
    const auto t0 = Clock::now();
    auto y = run();
    return ms_since(t0);
  }
};

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

// Appends the times of timed runs of `run` on `x` to `times` (after `warmup`
// untimed runs) until min_runs and min_time_ms are both reached, or max_runs.
// With a reference, each run is followed by one of the reference and its time
// is scaled by ref->ms / (the reference run's time); the reference runs do not
// count towards min_time_ms. `raw`, when given, receives the unscaled times.
// NOTE: per-run ratios, not the ratio of the window's medians: tried
// (2026-12-01), the table-to-table spread of layers did not shrink (6.2%
// against 5.3% std) and repeated model measurements spread more; with the
// reference network (2026-12-02 trace, 45-run windows) 0.8-1.7% std per-run
// against 1.6-2.5% for the ratio of medians: the host's noise is correlated
// over a few milliseconds, so the reference run must be the adjacent one.
void sample_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, std::vector<double>& times,
                   const Reference* ref = nullptr, std::vector<double>* raw = nullptr) {
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

Timing summarize(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  auto q = [&](double p) {
    const double pos = p * static_cast<double>(times.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double f = pos - static_cast<double>(i);
    return i + 1 < times.size() ? times[i] * (1 - f) + times[i + 1] * f : times[i];
  };
  return {q(0.5), q(0.1), q(0.9), static_cast<int>(times.size())};
}

Timing time_runner(const Runner& run, const torch::Tensor& x, torch::Device device, int warmup,
                   int min_runs, int max_runs, double min_time_ms, const Reference* ref = nullptr) {
  std::vector<double> times;
  sample_runner(run, x, device, warmup, min_runs, max_runs, min_time_ms, times, ref);
  return summarize(std::move(times));
}

double relative_error(const torch::Tensor& ref, const torch::Tensor& got) {
  const auto r = ref.to(torch::kCPU).to(torch::kDouble);
  const auto g = got.to(torch::kCPU).contiguous().to(torch::kDouble);
  TORCH_CHECK(r.sizes() == g.sizes(), "engine output shape ", g.sizes(), " differs from eager ",
              r.sizes());
  const double scale = std::max(1.0, r.abs().max().item<double>());
  return (r - g).abs().max().item<double>() / scale;
}

// A small network that uses every op, SE, both skips and a 5x5 kernel.
space::ArchSpec exactness_arch() {
  return space::decode_arch({"r1_k3_s11_e1_i32_o16_noskip", "ds_r2_k5_s22_i16_o24_se0.25",
                             "r2_k3_s22_e6_i24_o24_se0.25_poolskip", "cn_r1_k3_s11_i24_o32",
                             "r2_k5_s22_e3_i32_o32"});
}

void check_params(const space::GlobalParams& params, const DeployConfig& d) {
  if (params.image_size != d.image_size || params.num_classes != d.num_classes ||
      params.input_channels != d.input_channels) {
    throw ConfigError("model geometry (" + std::to_string(params.image_size) + " px, " +
                      std::to_string(params.num_classes) + " classes, " +
                      std::to_string(params.input_channels) +
                      " input channels) differs from the deploy configuration (" +
                      std::to_string(d.image_size) + " px, " + std::to_string(d.num_classes) +
                      " classes, " + std::to_string(d.input_channels) + " input channels)");
  }
}

// A progress line on stderr: redrawn in place on a terminal; in a log file
// (not a terminal) one line per tenth of the work instead of a line per item.
void progress(bool quiet, const std::string& what, int done, int total, Clock::time_point start) {
  if (quiet || total <= 0) return;
  static const bool tty = isatty(STDERR_FILENO) != 0;
  if (!tty && done != total && done * 10 / total == (done - 1) * 10 / total) return;
  const double s = ms_since(start) / 1000.0;
  const double eta = done > 0 ? s / done * (total - done) : 0.0;
  std::cerr << (tty ? "\r" : "") << what << " " << done << "/" << total << " (" << static_cast<int>(s)
            << " s, eta " << static_cast<int>(eta) << " s)" << (tty ? "   " : "\n") << std::flush;
  if (tty && done == total) std::cerr << "\n";
}

// The 10th percentile of the reference's runs over `seconds`, alone.
double measure_reference(const DeployConfig& deploy, const std::string& engine, double seconds) {
  const torch::Device device = to_device(deploy);
  ThreadScope threads(deploy.threads, true);
  torch::InferenceMode guard;
  const Reference ref = make_reference(deploy, engine, device, 0.0);
  const Runner run = [&ref](const torch::Tensor&) { return ref.run(); };
  return time_runner(run, ref.inputs[0], device, 20, 50, 1 << 30, seconds * 1000.0).p10_ms;
}

}  // namespace

// The nominal reference latency a measurement uses: 0 (raw) on CUDA or when
// normalisation is off, else the given one or the per-process one.
static double nominal_reference_ms(const DeployConfig& deploy, const MeasureOptions& o) {
  if (!o.normalize || !to_device(deploy).is_cpu()) return 0.0;
  return o.reference_ms > 0 ? o.reference_ms : reference_ms(deploy);
}

double engine_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine) {
  validate(deploy);
  const torch::Device device = to_device(deploy);
  ThreadScope threads(deploy.threads, false);
  torch::InferenceMode guard;
  torch::manual_seed(0);
  model::MnasNet net(arch, params);
  net->eval();
  net->to(device);
  const auto x = random_input(1, params.input_channels, params.image_size, params.image_size, device);
  const auto ref = net->forward(x);
  if (engine == "eager") return 0.0;
  torch::manual_seed(0);
  auto run = make_model_runner(arch, params, engine, device, nullptr);
  return relative_error(ref, run(x));
}

double engine_error(const space::LayerSpec& layer, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine, bool in_context) {
  validate(deploy);
  const torch::Device device = to_device(deploy);
  ThreadScope threads(deploy.threads, false);
  torch::InferenceMode guard;
  torch::manual_seed(0);
  auto m = model::make_layer(layer, params);
  m.ptr()->eval();
  m.ptr()->to(device);
  const auto x = random_input(1, layer.in_channels, layer.in_h, layer.in_w, device);
  const auto ref = m.forward(x);
  if (engine == "eager") return 0.0;
  return relative_error(ref, compile(layer_script(layer, params, *m.ptr(), engine, in_context), engine, device)(x));
}

std::string resolve_engine(const DeployConfig& deploy) {
  validate(deploy);
  const torch::Device device = to_device(deploy);
  static std::mutex mutex;
  static std::map<std::string, double> errors;  // "device/engine" -> error
  auto error_of = [&](const std::string& engine) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::string key = deploy.device + "/" + engine;
    auto it = errors.find(key);
    if (it != errors.end()) return it->second;
    space::GlobalParams p;
    p.image_size = 64;
    double e;
    try {
      e = engine_error(exactness_arch(), p, deploy, engine);
    } catch (const c10::Error&) {
      e = INFINITY;  // the engine does not run here
    }
    return errors[key] = e;
  };
  if (deploy.engine != "auto") {
    const double e = error_of(deploy.engine);
    if (!(e <= kExactTolerance)) {
      throw ConfigError("engine '" + deploy.engine + "' is not exact on " + deploy.device +
                        " (max relative difference from eager " + num(e) + " > " +
                        num(kExactTolerance) + ")");
    }
    return deploy.engine;
  }
  const std::vector<std::string> order =
      device.is_cpu() ? std::vector<std::string>{"onednn", "xnnpack", "eager"}
                      : std::vector<std::string>{"eager"};
  for (const auto& engine : order) {
    if (error_of(engine) <= kExactTolerance) return engine;
  }
  return "eager";
}

int onednn_primitive_cache_capacity() {
  widen_primitive_cache();
  using GetCapacity = int (*)(int*);
  auto get = reinterpret_cast<GetCapacity>(dlsym(RTLD_DEFAULT, "dnnl_get_primitive_cache_capacity"));
  int capacity = -1;
  if (!get || get(&capacity) != 0) return -1;
  return capacity;
}

namespace {
constexpr const char* kReferenceNetwork = "mnasnet-b1";
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

Measurement measure(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy) {
  return measure(arch, params, deploy, MeasureOptions{});
}

Measurement measure(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const MeasureOptions& o) {
  validate(deploy);
  check_params(params, deploy);
  const std::string engine = resolve_engine(deploy);
  const torch::Device device = to_device(deploy);
  const double ref_ms = nominal_reference_ms(deploy, o);
  ThreadScope threads(deploy.threads, o.pin);
  Measurement m;
  torch::InferenceMode guard;
  std::optional<Reference> ref;
  if (ref_ms > 0) ref = make_reference(deploy, engine, device, ref_ms);
  torch::manual_seed(0);
  auto run = make_model_runner(arch, params, engine, device, &m.compile_ms);
  const auto x = timed_input(deploy.batch, params.input_channels, params.image_size,
                             params.image_size, device, engine);
  std::vector<double> times, raw;
  sample_runner(run, x, device, o.warmup, o.min_runs, o.max_runs, o.min_time_ms, times,
                ref ? &*ref : nullptr, &raw);
  const Timing t = summarize(std::move(times));
  m.raw_median_ms = summarize(std::move(raw)).median_ms;
  m.reference_ms = ref_ms;
  m.median_ms = t.median_ms;
  m.p10_ms = t.p10_ms;
  m.p90_ms = t.p90_ms;
  m.runs = t.runs;
  m.engine = engine;
  m.device = deploy.device;
  m.threads = deploy.threads;
  m.batch = deploy.batch;
  m.image_size = deploy.image_size;
  return m;
}

std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& o,
                                      int rounds, bool quiet) {
  validate(deploy);
  if (rounds < 1) throw ConfigError("rounds should be >= 1, got " + std::to_string(rounds));
  for (const auto& m : models) check_params(m.params, deploy);
  const std::string engine = resolve_engine(deploy);
  const torch::Device device = to_device(deploy);
  const double ref_ms = nominal_reference_ms(deploy, o);
  ThreadScope threads(deploy.threads, o.pin);
  torch::InferenceMode guard;
  std::optional<Reference> ref;
  if (ref_ms > 0) ref = make_reference(deploy, engine, device, ref_ms);
  std::vector<Runner> runners;
  std::vector<Measurement> out(models.size());
  const auto start = Clock::now();
  for (size_t i = 0; i < models.size(); ++i) {
    torch::manual_seed(0);
    runners.push_back(make_model_runner(models[i].arch, models[i].params, engine, device,
                                        &out[i].compile_ms));
    progress(quiet, "compiling", static_cast<int>(i + 1), static_cast<int>(models.size()), start);
  }
  const auto x = timed_input(deploy.batch, deploy.input_channels, deploy.image_size,
                             deploy.image_size, device, engine);
  std::vector<std::vector<double>> times(models.size()), raw(models.size());
  const int per_round_min = std::max(1, o.min_runs / rounds);
  const int per_round_max = std::max(per_round_min, o.max_runs / rounds);
  const auto t_start = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < models.size(); ++i) {
      sample_runner(runners[i], x, device, r == 0 ? o.warmup : 2, per_round_min, per_round_max,
                    o.min_time_ms / rounds, times[i], ref ? &*ref : nullptr, &raw[i]);
      progress(quiet, "measuring (" + std::to_string(rounds) + " interleaved rounds)",
               static_cast<int>(r * models.size() + i + 1),
               static_cast<int>(rounds * models.size()), t_start);
    }
  }
  for (size_t i = 0; i < models.size(); ++i) {
    const Timing t = summarize(std::move(times[i]));
    out[i].median_ms = t.median_ms;
    out[i].p10_ms = t.p10_ms;
    out[i].p90_ms = t.p90_ms;
    out[i].runs = t.runs;
    out[i].raw_median_ms = summarize(std::move(raw[i])).median_ms;
    out[i].engine = engine;
    out[i].device = deploy.device;
    out[i].threads = deploy.threads;
    out[i].batch = deploy.batch;
    out[i].image_size = deploy.image_size;
    out[i].reference_ms = ref_ms;
  }
  return out;
}

int profile_layers(db::Database& db, const std::vector<space::LayerSpec>& layers,
                   const space::GlobalParams& params, const DeployConfig& deploy,
                   const ProfileOptions& o) {
  validate(deploy);
  check_params(params, deploy);
  if (o.rounds < 1 || o.chunk < 1) {
    throw ConfigError("profile: rounds and chunk should be >= 1, got " + std::to_string(o.rounds) + " and " +
                      std::to_string(o.chunk));
  }
  const std::string engine = resolve_engine(deploy);
  const TableId id = table_id(deploy, engine);
  const LatencyTable have = load_table(db, id);
  std::vector<const space::LayerSpec*> todo;
  std::set<std::string> seen;
  for (const auto& l : layers) {
    const std::string key = space::layer_key(l);
    if (!have.layers.count(key) && seen.insert(key).second) todo.push_back(&l);
  }
  if (todo.empty()) return 0;
  // NOTE: enumeration order groups similar layers (stage by stage, op by
  // op), so a slow phase of a shared host lasting seconds would bias a whole
  // class of layers the same way, and every architecture using that class.
  // In a fixed pseudo-random order a phase hits unrelated layers, and the
  // errors of an architecture's ~20 layers average out instead of adding up.
  std::shuffle(todo.begin(), todo.end(), std::mt19937_64(kProfileOrderSeed));
  const torch::Device device = to_device(deploy);
  const double ref_ms = o.normalize && device.is_cpu() ? table_reference_ms(db, deploy) : 0.0;
  ThreadScope threads(deploy.threads, true);
  torch::InferenceMode guard;
  std::optional<Reference> ref;
  if (ref_ms > 0) ref = make_reference(deploy, engine, device, ref_ms);
  const int per_round_min = std::max(1, (o.min_runs + o.rounds - 1) / o.rounds);
  const int per_round_max = std::max(per_round_min, o.max_runs / o.rounds);
  const auto start = Clock::now();
  const std::string what = "profiling " + to_string(id) + " layers";
  for (size_t begin = 0; begin < todo.size(); begin += static_cast<size_t>(o.chunk)) {
    const size_t end = std::min(todo.size(), begin + static_cast<size_t>(o.chunk));
    // The chunk's layers, then one identity prologue per input shape that an
    // in-context layer of the chunk has; all timed in the same rounds.
    std::vector<Runner> runners;
    std::vector<torch::Tensor> inputs;
    using Shape = std::tuple<int, int, int>;  // (c, h, w)
    std::vector<std::optional<Shape>> layer_shape;  // set for in-context layers
    std::map<Shape, size_t> prologue_of;             // -> runner index
    for (size_t i = begin; i < end; ++i) {
      const auto& l = *todo[i];
      torch::manual_seed(0);
      const bool in_context = profile_in_context(l, engine);
      runners.push_back(make_layer_runner(l, params, engine, device, in_context));
      inputs.push_back(timed_input(deploy.batch, l.in_channels, l.in_h, l.in_w, device, engine));
      layer_shape.push_back(in_context ? std::optional<Shape>(Shape{l.in_channels, l.in_h, l.in_w}) : std::nullopt);
      if (in_context) prologue_of.emplace(*layer_shape.back(), 0);
    }
    for (auto& [shape, index] : prologue_of) {
      const auto [c, h, w] = shape;
      index = runners.size();
      runners.push_back(make_prologue_runner(c, engine, device));
      inputs.push_back(timed_input(deploy.batch, c, h, w, device, engine));
    }
    std::vector<std::vector<double>> times(runners.size());
    for (int r = 0; r < o.rounds; ++r) {
      for (size_t i = 0; i < runners.size(); ++i) {
        // The layer's runs of this round, then (normalised) one run of the
        // reference network that scales them all.
        std::vector<double> window;
        sample_runner(runners[i], inputs[i], device, r == 0 ? o.warmup : 1, per_round_min,
                      per_round_max, o.min_time_ms / o.rounds, window);
        const double scale = ref ? ref->ms / std::max(ref->timed_ms(), 1e-6) : 1.0;
        for (double t : window) times[i].push_back(t * scale);
      }
    }
    std::vector<Timing> timings;
    for (auto& t : times) timings.push_back(summarize(std::move(t)));
    std::vector<std::pair<std::string, Timing>> batch;
    for (size_t i = begin; i < end; ++i) {
      Timing t = timings[i - begin];
      if (const auto& shape = layer_shape[i - begin]) {
        // The layer's share; a floor keeps a layer that costs next to
        // nothing (noise could make it negative) positive.
        const double pro = timings[prologue_of.at(*shape)].median_ms, floor = 0.02 * t.median_ms;
        t.median_ms = std::max(t.median_ms - pro, floor);
        t.p10_ms = std::max(t.p10_ms - pro, floor);
        t.p90_ms = std::max(t.p90_ms - pro, floor);
      }
      batch.emplace_back(space::layer_key(*todo[i]), t);
    }
    store_layers(db, id, batch);
    progress(o.quiet, what, static_cast<int>(end), static_cast<int>(todo.size()), start);
  }
  return static_cast<int>(todo.size());
}

int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy, bool quiet,
              const MeasureOptions& options) {
  const std::string engine = resolve_engine(deploy);
  const TableId id = table_id(deploy, engine);
  const LatencyTable have = load_table(db, id);
  std::set<std::string> done;
  for (const auto& c : have.calibration) done.insert(c.arch);
  std::vector<const space::ArchSpec*> todo;
  for (const auto& a : archs) {
    if (done.insert(space::arch_to_string(a)).second) todo.push_back(&a);
  }
  if (todo.empty()) return 0;
  DeployConfig concrete = deploy;
  concrete.engine = engine;
  std::vector<ModelToMeasure> models;
  for (const auto* a : todo) models.push_back({*a, params});
  if (!quiet) std::cerr << "calibrating " << to_string(id) << "\n";
  MeasureOptions o = options;
  if (o.normalize && o.reference_ms <= 0 && to_device(concrete).is_cpu()) {
    o.reference_ms = table_reference_ms(db, concrete);
  }
  const auto ms = measure_many(models, concrete, o, kRounds, quiet);
  std::vector<CalibrationPoint> points;
  for (size_t i = 0; i < todo.size(); ++i) {
    points.push_back({space::arch_to_string(*todo[i]),
                      {ms[i].median_ms, ms[i].p10_ms, ms[i].p90_ms, ms[i].runs}});
  }
  store_calibration(db, id, points);
  return static_cast<int>(todo.size());
}

Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, bool quiet) {
  PredictorOptions o;
  o.quiet = o.profile.quiet = quiet;
  return ensure_predictor(db, space, deploy, o);
}

Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, const PredictorOptions& o) {
  validate(deploy);
  const space::GlobalParams params = space.global_params(apply_deploy({}, deploy));
  const auto layers = space.enumerate_layers(params);
  if (is_remote(deploy)) {
    LatencyTable t = load_table(db, table_id(deploy, deploy.engine));
    const auto missing = missing_layers(t, layers);
    if (!missing.empty()) throw MissingLayerError(missing.front(), t.id);
    return make_predictor(std::move(t), params);
  }
  const std::string engine = resolve_engine(deploy);
  const TableId id = table_id(deploy, engine);
  {
    // Fast path: everything cached.
    LatencyTable t = load_table(db, id);
    if (missing_layers(t, layers).empty() &&
        static_cast<int>(t.calibration.size()) >= o.calibration_archs) {
      return make_predictor(std::move(t), params);
    }
  }
  DeployConfig concrete = deploy;
  concrete.engine = engine;
  profile_layers(db, layers, params, concrete, o.profile);
  calibrate(db, sample_archs(space, o.calibration_archs, o.calibration_seed), params, concrete,
            o.quiet, o.measure);
  return make_predictor(load_table(db, id), params);
}

}  // namespace mnas::latency
