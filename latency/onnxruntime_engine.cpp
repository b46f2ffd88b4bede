// The onnxruntime engine (see latency/onnxruntime_engine.h).
#include "latency/onnxruntime_engine.h"

#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>

#include "common/error.h"
#include "latency/engine_internal.h"
#include "latency/statistics.h"
#include "model/blocks.h"
#include "model/mnasnet.h"
#include "model/network_walk.h"
#include "model/weights.h"
#include "train/onnx_emitter.h"
#include "train/onnxruntime_server.h"

namespace mnas::latency::internal {
namespace {

namespace fs = std::filesystem;

// NOTE: copies of the reference network run in turn, as on the LibTorch
// engines (timing.cpp kReferenceCopies): each is its own session.
constexpr int kReferenceCopies = 3;

// The process's ONNX Runtime server and the folder of its model files,
// started on first use and kept until exit (node's start-up is paid once).
struct OrtProcess {
  std::string dir;
  onnxruntime::Server server;
  int next = 0;
  OrtProcess() : dir(make_dir()) {}
  ~OrtProcess() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static std::string make_dir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/mnas_ort_models_XXXXXX";
    if (!mkdtemp(tmpl.data())) throw Error("cannot create a temporary folder '" + tmpl + "'");
    return tmpl;
  }
  std::string fresh_name() { return "m" + std::to_string(next++); }
};

std::mutex& ort_mutex() {
  static std::mutex m;
  return m;
}

// REQUIRES ort_mutex() held.
OrtProcess& ort() {
  static std::unique_ptr<OrtProcess> p;
  if (!p) p = std::make_unique<OrtProcess>();
  return *p;
}

onnxruntime::Settings settings_of(const DeployConfig& d) {
  onnxruntime::Settings s;
  s.threads = d.threads;
  s.opt_level = d.ort_opt_level;
  s.execution_mode = d.ort_execution_mode;
  return s;
}

onnx::ModelProto new_model(onnx::GraphProto** graph) {
  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("mnas");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  *graph = m.mutable_graph();
  (*graph)->set_name("mnas");
  return m;
}

void write_model(const onnx::ModelProto& m, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !m.SerializeToOstream(&out)) throw Error("cannot write the ONNX model '" + path + "'");
}

void set_dims(onnx::ValueInfoProto* v, const std::vector<int64_t>& dims) {
  auto* shape = v->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->clear_dim();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

// The network of `arch` (weights of model::MnasNet after manual_seed(0)),
// batch `batch`, written to `path`.
void export_network(const space::ArchSpec& arch, const space::GlobalParams& p, int batch, const std::string& path) {
  torch::manual_seed(0);
  model::MnasNet net(arch, p);
  net->eval();
  const model::ModuleWeights weights(*net);
  onnx::GraphProto* g = nullptr;
  onnx::ModelProto m = new_model(&g);
  train::OnnxEmitter e(g, weights, p.bn_epsilon, batch, p.input_channels, p.image_size, p.num_classes);
  model::emit_network(net->layers(), p.tf_same_padding, e, e.input());
  write_model(m, path);
}

// Adds the identity 1x1 convolution of in-context profiling on `x` (C
// channels) to `g`; returns its output. Exact: weights eye(C), bias 0.
std::string add_identity_prologue(onnx::GraphProto* g, const std::string& x, int channels) {
  auto* w = g->add_initializer();
  w->set_name("prologue_w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {channels, channels, 1, 1}) w->add_dims(d);
  for (int o = 0; o < channels; ++o) {
    for (int i = 0; i < channels; ++i) w->add_float_data(o == i ? 1.f : 0.f);
  }
  auto* n = g->add_node();
  n->set_op_type("Conv");
  n->set_name("prologue");
  n->add_input(x);
  n->add_input("prologue_w");
  n->add_output("prologue_out");
  return "prologue_out";
}

// One layer (make_layer's module, built after manual_seed(0)): input
// "input" [batch, in_channels, in_h, in_w], output its last value; with
// `prologue`, after add_identity_prologue.
void export_layer(const space::LayerSpec& l, const space::GlobalParams& p, torch::nn::Module& module, int batch,
                  const std::string& path, bool prologue = false) {
  const model::ModuleWeights weights(module);
  onnx::GraphProto* g = nullptr;
  onnx::ModelProto m = new_model(&g);
  train::OnnxEmitter e(g, weights, p.bn_epsilon, batch, l.in_channels, l.in_h, 1);
  const std::string x = prologue ? add_identity_prologue(g, e.input(), l.in_channels) : e.input();
  const std::string y = model::emit_steps(model::layer_steps(l, p.tf_same_padding), e, x);
  set_dims(g->mutable_input(0), {batch, l.in_channels, l.in_h, l.in_w});
  auto* out = g->mutable_output(0);
  out->set_name(y);
  out->mutable_type()->mutable_tensor_type()->clear_shape();
  write_model(m, path);
}

// The identity prologue alone on [batch, c, h, w].
void export_prologue(int batch, int c, int h, int w, const std::string& path) {
  onnx::GraphProto* g = nullptr;
  onnx::ModelProto m = new_model(&g);
  auto* in = g->add_input();
  in->set_name("input");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  set_dims(in, {batch, c, h, w});
  auto* out = g->add_output();
  out->set_name(add_identity_prologue(g, "input", c));
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  write_model(m, path);
}

double relative_error(const torch::Tensor& ref, const onnxruntime::Tensor& got) {
  const auto r = ref.to(torch::kCPU).contiguous().to(torch::kFloat);
  if (static_cast<size_t>(r.numel()) != got.data.size()) {
    throw Error("ONNX Runtime output has " + std::to_string(got.data.size()) + " values, eager " +
                std::to_string(r.numel()));
  }
  const float* p = r.data_ptr<float>();
  double scale = 1.0, diff = 0.0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(p[i])));
    diff = std::max(diff, std::abs(static_cast<double>(p[i]) - got.data[i]));
  }
  return diff / scale;
}

onnxruntime::Tensor to_ort(const torch::Tensor& x) {
  const auto c = x.to(torch::kCPU).contiguous().to(torch::kFloat);
  onnxruntime::Tensor t;
  t.shape.assign(c.sizes().begin(), c.sizes().end());
  t.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return t;
}

using Writer = std::function<void(const std::string& path)>;

// Exports and loads the reference copies; returns their names.
// REQUIRES ort_mutex() held.
std::vector<std::string> load_reference(OrtProcess& o, const DeployConfig& deploy) {
  const ModelToMeasure net = reference_network(deploy);
  const std::string path = o.dir + "/reference.onnx";
  export_network(net.arch, net.params, deploy.batch, path);
  std::vector<std::string> names;
  for (int c = 0; c < kReferenceCopies; ++c) {
    names.push_back(o.fresh_name());
    o.server.load(names.back(), path, settings_of(deploy));
  }
  return names;
}

// Unloads the named models (and forgets their files) when it goes.
struct Loaded {
  OrtProcess& o;
  std::vector<std::string> names;
  ~Loaded() {
    try {
      if (!names.empty()) o.server.unload(names);
    } catch (const std::exception&) {
      // The server stopped: nothing left to unload.
    }
  }
};

// Writes a model with `write`, loads it under a fresh name (unloaded with
// `loaded`) and deletes the file; returns the name.
// REQUIRES ort_mutex() held.
std::string load_exported(Loaded& loaded, const Writer& write, const DeployConfig& deploy) {
  const std::string name = loaded.o.fresh_name(), path = loaded.o.dir + "/" + name + ".onnx";
  write(path);
  loaded.o.server.load(name, path, settings_of(deploy));
  fs::remove(path);
  loaded.names.push_back(name);
  return name;
}

// Writes a model with `write`, runs it on `x` once and returns its error
// against `ref`.
double exported_error(const Writer& write, const torch::Tensor& x, const torch::Tensor& ref,
                      const DeployConfig& deploy) {
  std::lock_guard<std::mutex> lock(ort_mutex());
  Loaded loaded{ort(), {}};
  const std::string name = load_exported(loaded, write, deploy);
  return relative_error(ref, loaded.o.server.run(name, to_ort(x)));
}

}  // namespace

void export_onnx_network(const space::ArchSpec& arch, const space::GlobalParams& params, int batch,
                         const std::string& path) {
  torch::InferenceMode guard;
  export_network(arch, params, batch, path);
}

void require_onnxruntime() {
  if (!onnxruntime::installed()) {
    throw ConfigError("engine 'onnxruntime' needs ONNX Runtime (npm onnxruntime-node) in '" +
                      onnxruntime::package_dir() + "/node_modules', which is not installed: " +
                      onnxruntime::kSetupHint);
  }
}

double onnxruntime_error(const space::ArchSpec& arch, const space::GlobalParams& params,
                         const DeployConfig& deploy) {
  require_onnxruntime();
  torch::InferenceMode guard;
  torch::manual_seed(0);
  model::MnasNet net(arch, params);
  net->eval();
  const auto x = random_input(1, params.input_channels, params.image_size, params.image_size, torch::kCPU);
  const auto ref = net->forward(x);
  return exported_error([&](const std::string& path) { export_network(arch, params, 1, path); }, x, ref, deploy);
}

double onnxruntime_error(const space::LayerSpec& layer, const space::GlobalParams& params,
                         const DeployConfig& deploy, bool in_context) {
  require_onnxruntime();
  torch::InferenceMode guard;
  torch::manual_seed(0);
  auto m = model::make_layer(layer, params);
  m.ptr()->eval();
  const auto x = random_input(1, layer.in_channels, layer.in_h, layer.in_w, torch::kCPU);
  const auto ref = m.forward(x);
  return exported_error([&](const std::string& path) { export_layer(layer, params, *m.ptr(), 1, path, in_context); },
                        x, ref, deploy);
}

std::vector<OrtSamples> onnxruntime_sample_models(const std::vector<ModelToMeasure>& models,
                                                  const DeployConfig& deploy, const MeasureOptions& opt,
                                                  int rounds, double ref_ms, const ProgressFn& progress) {
  require_onnxruntime();
  torch::InferenceMode guard;
  std::lock_guard<std::mutex> lock(ort_mutex());
  auto& o = ort();
  Loaded loaded{o, {}};
  onnxruntime::TimingRequest q;
  if (ref_ms > 0) {
    q.reference = load_reference(o, deploy);
    loaded.names = q.reference;
  }
  std::vector<OrtSamples> out(models.size());
  const auto start = Clock::now();
  for (size_t i = 0; i < models.size(); ++i) {
    const auto t0 = Clock::now();
    q.models.push_back(load_exported(
        loaded, [&](const std::string& path) { export_network(models[i].arch, models[i].params, deploy.batch, path); },
        deploy));
    out[i].compile_ms = ms_since(t0);
    report(progress, {"compiling", static_cast<int>(i + 1), static_cast<int>(models.size()),
                      ms_since(start) / 1000.0});
  }
  // One request per round, so that progress is heard round by round.
  q.per_run = true;
  q.rounds = 1;
  q.min_runs = std::max(1, opt.min_runs / rounds);
  q.max_runs = std::max(q.min_runs, opt.max_runs / rounds);
  q.min_time_ms = opt.min_time_ms / rounds;
  q.cpu = timing_cpu(deploy.threads, opt.pin);
  const std::string what = "measuring (" + std::to_string(rounds) + " interleaved rounds)";
  const auto t_start = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    q.warmup = r == 0 ? opt.warmup : 2;
    const auto timed = o.server.time(q);
    for (size_t i = 0; i < models.size(); ++i) {
      for (const auto& round : timed[i]) {
        for (size_t k = 0; k < round.run_ms.size(); ++k) {
          const double t = round.run_ms[k];
          out[i].raw.push_back(t);
          out[i].times.push_back(ref_ms > 0 ? t * ref_ms / std::max(round.reference_ms.at(k), 1e-6) : t);
        }
      }
    }
    report(progress, {what, static_cast<int>((r + 1) * models.size()), static_cast<int>(rounds * models.size()),
                      ms_since(t_start) / 1000.0});
  }
  return out;
}

double onnxruntime_reference_p10(const DeployConfig& deploy, double seconds) {
  require_onnxruntime();
  torch::InferenceMode guard;
  std::lock_guard<std::mutex> lock(ort_mutex());
  auto& o = ort();
  Loaded loaded{o, load_reference(o, deploy)};
  onnxruntime::TimingRequest q;
  q.models = loaded.names;
  q.warmup = 20 / kReferenceCopies;
  q.min_runs = 50 / kReferenceCopies;
  q.max_runs = 1 << 30;
  q.min_time_ms = seconds * 1000.0 / kReferenceCopies;
  q.cpu = timing_cpu(deploy.threads, true);
  std::vector<double> all;
  for (const auto& model : o.server.time(q)) {
    for (const auto& round : model) all.insert(all.end(), round.run_ms.begin(), round.run_ms.end());
  }
  return summarize(std::move(all)).p10_ms;
}

std::vector<Timing> onnxruntime_time_layers(const std::vector<const space::LayerSpec*>& layers,
                                            const space::GlobalParams& params, const DeployConfig& deploy,
                                            const OrtLayerBudget& b, double ref_ms) {
  require_onnxruntime();
  torch::InferenceMode guard;
  std::lock_guard<std::mutex> lock(ort_mutex());
  auto& o = ort();
  Loaded loaded{o, {}};
  onnxruntime::TimingRequest q;
  if (ref_ms > 0) {
    q.reference = load_reference(o, deploy);
    loaded.names = q.reference;
  }
  using Shape = std::tuple<int, int, int>;  // (c, h, w)
  std::vector<std::optional<Shape>> layer_shape;  // set for in-context layers
  std::map<Shape, size_t> prologue_of;             // -> model index
  for (const auto* l : layers) {
    torch::manual_seed(0);
    auto m = model::make_layer(*l, params);
    m.ptr()->eval();
    const bool in_context = onnxruntime_in_context(*l);
    q.models.push_back(load_exported(
        loaded, [&](const std::string& path) { export_layer(*l, params, *m.ptr(), deploy.batch, path, in_context); },
        deploy));
    layer_shape.push_back(in_context ? std::optional<Shape>(Shape{l->in_channels, l->in_h, l->in_w}) : std::nullopt);
    if (in_context) prologue_of.emplace(*layer_shape.back(), 0);
  }
  for (auto& [shape, index] : prologue_of) {
    const auto [c, h, w] = shape;
    index = q.models.size();
    q.models.push_back(
        load_exported(loaded, [&](const std::string& path) { export_prologue(deploy.batch, c, h, w, path); }, deploy));
  }
  q.per_run = false;
  q.rounds = b.rounds;
  q.warmup = b.warmup;
  q.round_warmup = 1;
  q.min_runs = std::max(1, (b.min_runs + b.rounds - 1) / b.rounds);
  q.max_runs = std::max(q.min_runs, b.max_runs / b.rounds);
  q.min_time_ms = b.min_time_ms / b.rounds;
  q.cpu = timing_cpu(deploy.threads, true);
  std::vector<Timing> timings;
  for (const auto& model : o.server.time(q)) {
    std::vector<double> times;
    for (const auto& round : model) {
      const double scale = ref_ms > 0 ? ref_ms / std::max(round.reference_ms.at(0), 1e-6) : 1.0;
      for (double t : round.run_ms) times.push_back(t * scale);
    }
    timings.push_back(summarize(std::move(times)));
  }
  std::vector<Timing> out;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& shape = layer_shape[i];
    out.push_back(shape ? subtract_prologue(timings[i], timings[prologue_of.at(*shape)].median_ms) : timings[i]);
  }
  return out;
}

bool onnxruntime_in_context(const space::LayerSpec& l) { return l.kind != space::LayerKind::kStem; }

}  // namespace mnas::latency::internal
