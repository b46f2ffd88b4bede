// Engines: TorchScript generation and compilation, eager runners, exactness
// checks, process tuning (thread scope, oneDNN's primitive cache).
#include "latency/engine.h"

#include <dlfcn.h>
#include <sched.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/xnnpack_rewrite.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

#include "common/error.h"
#include "common/malloc_tuning.h"
#include "latency/engine_internal.h"
#include "latency/onnxruntime_engine.h"
#include "model/blocks.h"
#include "train/onnxruntime_runner.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/script_emitter.h"
#include "model/weights.h"
#include "space/block_codec.h"

namespace mnas::latency {
namespace internal {
namespace {

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

}  // namespace

int timing_cpu(int threads, bool pin) {
  cpu_set_t mask;
  if (!pin || threads != 1 || sched_getaffinity(0, sizeof mask, &mask) != 0) return -1;
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) if (CPU_ISSET(c, &mask)) last = c;
  return last;
}

ThreadScope::ThreadScope(int threads, bool pin) : old_threads_(torch::get_num_threads()) {
  keep_freed_buffers();
  widen_primitive_cache();
  torch::set_num_threads(threads);
  const int cpu = timing_cpu(threads, pin);
  if (cpu >= 0 && sched_getaffinity(0, sizeof(old_mask_), &old_mask_) == 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
  }
}

ThreadScope::~ThreadScope() {
  if (pinned_) sched_setaffinity(0, sizeof(old_mask_), &old_mask_);
  torch::set_num_threads(old_threads_);
}

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

Runner make_layer_runner(const space::LayerSpec& l, const space::GlobalParams& params,
                         const std::string& engine, torch::Device device, bool prologue) {
  auto m = model::make_layer(l, params);
  m.ptr()->eval();
  if (engine == "eager") {
    m.ptr()->to(device);
    return [m](const torch::Tensor& x) mutable { return m.forward(x); };
  }
  return compile(layer_script(l, params, *m.ptr(), engine, prologue), engine, device);
}

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

torch::Tensor timed_input(int batch, int channels, int h, int w, torch::Device device,
                          const std::string& engine) {
  auto x = random_input(batch, channels, h, w, device);
  return engine == "onednn" ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
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

}  // namespace internal

using namespace internal;

namespace {

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

}  // namespace

double engine_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                    const DeployConfig& deploy, const std::string& engine) {
  validate(deploy);
  const torch::Device device = to_device(deploy);
  if (engine == "onnxruntime") return onnxruntime_error(arch, params, deploy);
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
  if (engine == "onnxruntime") return onnxruntime_error(layer, params, deploy, in_context);
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

EngineChoice choose_engine(const DeployConfig& deploy) {
  validate(deploy);
  const torch::Device device = to_device(deploy);
  static std::mutex mutex;
  static std::map<std::string, double> errors;  // "device/engine/settings" -> error
  auto error_of = [&](const std::string& engine) {
    std::lock_guard<std::mutex> lock(mutex);
    const std::string key = deploy.device + "/" + to_string(table_id(deploy, engine));
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
    if (deploy.engine == "onnxruntime") require_onnxruntime();
    const double e = error_of(deploy.engine);
    if (!(e <= kExactTolerance)) {
      throw ConfigError("engine '" + deploy.engine + "' is not exact on " + deploy.device +
                        " (max relative difference from eager " + num(e) + " > " +
                        num(kExactTolerance) + ")");
    }
    return {deploy.engine, "engine " + deploy.engine + " (asked for; exact: max relative difference from eager " +
                               num(e) + ")"};
  }
  // NOTE: fastest first, as measured on this host (issue #20, MnasNet-B1
  // @224, batch 1, one thread, medians): ONNX Runtime 1.30 5.3-5.4 ms,
  // oneDNN 7.4 ms, then XNNPACK and eager. A fixed order, not a timing race
  // per process, so that `auto` names the same table every time.
  std::vector<std::string> order =
      device.is_cpu() ? std::vector<std::string>{"onnxruntime", "onednn", "xnnpack", "eager"}
                      : std::vector<std::string>{"eager"};
  std::string skipped;
  for (const auto& engine : order) {
    if (engine == "onnxruntime" && !onnxruntime::installed()) {
      skipped = "onnxruntime skipped: not installed in " + onnxruntime::package_dir() + " (" +
                onnxruntime::kSetupHint + "); ";
      continue;
    }
    double e;
    try {
      e = error_of(engine);
    } catch (const Error& ex) {  // ONNX Runtime could not run (node missing, ...)
      skipped += engine + " skipped: " + ex.what() + "; ";
      continue;
    }
    if (e <= kExactTolerance) {
      return {engine, "auto picked " + engine + " (the fastest exact engine on " + deploy.device + "; " + skipped +
                          "max relative difference from eager " + num(e) + ")"};
    }
    skipped += engine + " skipped: not exact (" + num(e) + "); ";
  }
  return {"eager", "auto picked eager (" + skipped + "eager is the reference)"};
}

std::string resolve_engine(const DeployConfig& deploy) { return choose_engine(deploy).engine; }

bool measures_on_cpu(const DeployConfig& deploy) { return to_device(deploy).is_cpu(); }

int onednn_primitive_cache_capacity() {
  widen_primitive_cache();
  using GetCapacity = int (*)(int*);
  auto get = reinterpret_cast<GetCapacity>(dlsym(RTLD_DEFAULT, "dnnl_get_primitive_cache_capacity"));
  int capacity = -1;
  if (!get || get(&capacity) != 0) return -1;
  return capacity;
}

}  // namespace mnas::latency
