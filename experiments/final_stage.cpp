// The final stage: train, evaluate, export and time the search's best
// architectures and the baselines (experiments/final_stage.h).
#include "experiments/final_stage.h"

#include <filesystem>
#include <memory>
#include <sstream>

#include "common/error.h"
#include "db/writer_lock.h"
#include "experiments/final_report.h"
#include "experiments/report.h"
#include "experiments/search_run.h"
#include "latency/measure.h"
#include "space/counters.h"
#include "space/layer_spec.h"
#include "train/export.h"
#include "train/onnxruntime_runner.h"
#include "train/trainer.h"

namespace mnas::experiments {
namespace {

namespace fs = std::filesystem;

// The deploy device's latency of any network: the experiment's profile or
// latency table (make_layer_latency_fn), on the layer list at the deploy
// geometry. A synthetic search on a table device has no table: none.
class DeviceLatency {
 public:
  DeviceLatency(db::Database& db, const ExperimentConfig& c)
      : deploy_(c.deploy), source_(latency::latency_source(c.deploy)) {
    if (latency::uses_profile(deploy_) || c.objective == "proxy") {
      predict_ = make_layer_latency_fn(c.space, deploy_, db, /*quiet=*/true);
    }
  }
  const latency::DeployConfig& deploy() const { return deploy_; }
  const std::string& source() const { return source_; }
  // nullopt when the device cannot predict these layers (a host table
  // without them); `why` then says so.
  std::optional<double> predict(const std::vector<space::LayerSpec>& layers, std::string& why) const {
    try {
      if (predict_) return predict_(layers);
      why = "no latency predictor for this experiment's objective";
    } catch (const Error& e) {
      why = std::string("no device latency: ") + e.what();
    }
    return std::nullopt;
  }

 private:
  latency::DeployConfig deploy_;
  std::string source_;
  LayerLatencyFn predict_;
};

// The network of `config` at the deploy geometry.
struct DeployModel {
  space::ArchSpec arch;
  space::GlobalParams params;
};
DeployModel deploy_model(const train::TrainConfig& config, const latency::DeployConfig& deploy) {
  const train::ModelSpec m = train::resolve_model(config, deploy.num_classes, deploy.input_channels);
  return {m.arch, latency::apply_deploy(m.params, deploy)};
}

class Stage {
 public:
  explicit Stage(const FinalOptions& o) : o_(o) {}

  FinalOutcome run();

 private:
  void say(const std::string& text) const {
    if (o_.on_output) o_.on_output(text);
  }
  void train_one(FinalModel& m, db::FinalRecord& row);
  bool reuse_baseline(const FinalModel& m, db::FinalRecord& row);
  void fill_static(const FinalModel& m, db::FinalRecord& row);
  void measure_host(int64_t experiment_id);

  const FinalOptions& o_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::FinalStore> store_;
  std::unique_ptr<db::Database> baselines_db_;  // null: the same file
  std::unique_ptr<db::FinalStore> baselines_;
  std::unique_ptr<DeviceLatency> device_;
  std::string dir_, baselines_dir_;
  FinalOutcome out_;
};

db::FinalStore& baselines_or(std::unique_ptr<db::FinalStore>& b, db::FinalStore& own) {
  return b ? *b : own;
}

void Stage::fill_static(const FinalModel& m, db::FinalRecord& row) {
  const DeployModel d = deploy_model(m.config, device_->deploy());
  const auto layers = space::expand_layers(d.arch, d.params);
  const space::ModelCost cost = space::model_cost(layers);
  row.params = cost.total.params;
  row.macs = cost.total.macs;
  row.device = device_->source();
  std::string why;
  row.device_ms = device_->predict(layers, why);
  if (!row.device_ms) row.message = why;
}

bool Stage::reuse_baseline(const FinalModel& m, db::FinalRecord& row) {
  const auto& k = row.key;
  const auto b =
      baselines_or(baselines_, *store_).baseline(k.recipe_key, k.arch, k.depth_multiplier, k.seed);
  if (!b) return false;
  row.test_top1 = b->test_top1;
  row.test_top5 = b->test_top5;
  row.test_loss = b->test_loss;
  row.train_seconds = b->train_seconds;
  row.checkpoint = b->checkpoint;
  row.onnx = b->onnx;
  row.torchscript = b->torchscript;
  row.tflite = b->tflite;
  row.reused_from = baselines_db_ ? baselines_db_->path() : db_->path();
  fill_static(m, row);
  row.status = "trained";
  store_->update(row);
  say("  " + row.name + ": reused (recipe " + k.recipe_key.substr(0, 8) + ", test top-1 " +
      fixed_or_empty(row.test_top1, 4) + ")\n");
  ++out_.reused;
  return true;
}

void Stage::train_one(FinalModel& m, db::FinalRecord& row) {
  const bool baseline = row.key.kind == "baseline";
  const fs::path folder = fs::path(baseline ? baselines_dir_ : dir_) / m.dir_name;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    throw Error("cannot create the final stage's folder '" + folder.string() + "': " + ec.message() +
                " (choose another with --final-dir)");
  }
  train::TrainConfig c = m.config;
  c.checkpoint = (folder / "model.ckpt").string();
  const bool resume = fs::exists(c.checkpoint);
  store_->mark_running(row.id);
  say("  " + row.name + ": " + (resume ? "resuming from " + c.checkpoint : "training") + " (" +
      std::to_string(static_cast<int>(c.epochs)) + " epochs, seed " + std::to_string(c.seed) +
      ")\n");
  train::TrainCallbacks cb;
  cb.on_step = [&](const train::StepProgress& p) {
    say("    " + train::format_progress(p) + "\n");
  };
  cb.on_warning = [&](const std::string& w) { say("    warning: " + w + "\n"); };
  const train::TrainResult r = train::train(c, resume, cb);
  row.checkpoint = c.checkpoint;
  if (r.status != TrialStatus::kOk || r.test.images == 0) {
    row.status = "failed";
    row.message = r.message.empty() ? "training ended without a test evaluation" : r.message;
    store_->update(row);
    say("  " + row.name + ": failed: " + row.message + "\n");
    ++out_.failed;
    return;
  }
  row.test_top1 = r.test.top1;
  row.test_top5 = r.test.top5;
  row.test_loss = r.test.loss;
  row.train_seconds = r.train_seconds;
  train::ExportOptions e;
  e.checkpoint = c.checkpoint;
  e.onnx_path = (folder / "model.onnx").string();
  e.torchscript_path = (folder / "model.pt").string();
  e.tflite_path = (folder / "model.tflite").string();
  try {
    train::export_checkpoint(e);
    row.onnx = e.onnx_path;
    row.torchscript = e.torchscript_path;
    row.tflite = e.tflite_path;
  } catch (const Error& err) {
    row.status = "failed";
    row.message = std::string("export failed: ") + err.what();
    store_->update(row);
    say("  " + row.name + ": " + row.message + "\n");
    ++out_.failed;
    return;
  }
  // int8 (post-training quantization) next to them, as mnas_export --int8
  // names them (the report finds them there); the ONNX one only where ONNX
  // Runtime can verify it. A model whose int8 files miss the agreement
  // target keeps its float results: the reason goes into its message.
  train::ExportOptions q;
  q.checkpoint = c.checkpoint;
  q.tflite_int8_path = (folder / "model.int8.tflite").string();
  if (onnxruntime::installed()) q.onnx_int8_path = (folder / "model.int8.onnx").string();
  q.int8_verify_images = 300;  // Arm NN CpuRef runs A1 at 32 px in about 0.1 s per image
  try {
    train::export_checkpoint(q);
  } catch (const Error& err) {
    row.message = std::string("int8 export failed: ") + err.what();
    say("  " + row.name + ": " + row.message + "\n");
  }
  fill_static(m, row);
  row.status = "trained";
  if (baseline) {
    db::BaselineResult b;
    b.recipe_key = row.key.recipe_key;
    b.arch = row.key.arch;
    b.depth_multiplier = row.key.depth_multiplier;
    b.seed = row.key.seed;
    b.test_top1 = *row.test_top1;
    b.test_top5 = *row.test_top5;
    b.test_loss = *row.test_loss;
    b.train_seconds = *row.train_seconds;
    b.checkpoint = row.checkpoint;
    b.onnx = row.onnx;
    b.torchscript = row.torchscript;
    b.tflite = row.tflite;
    b.recipe = row.recipe;
    // The shared result first: a kill between the two leaves a result that
    // the rerun reuses for this row.
    baselines_or(baselines_, *store_).put_baseline(b);
  }
  store_->update(row);
  say("  " + row.name + ": test top-1 " + fixed_or_empty(row.test_top1, 4) + ", " +
      fixed_or_empty(row.device_ms, 1) + " ms on the deploy device, " +
      train::format_duration(r.train_seconds) + " training\n");
  ++out_.trained;
}

void Stage::measure_host(int64_t experiment_id) {
  std::vector<db::FinalRecord> todo;
  for (auto& r : store_->models(experiment_id)) {
    if (r.status == "trained") todo.push_back(r);
  }
  if (todo.empty()) return;
  if (!o_.measure_host) {
    store_->transaction([&] {
      for (auto& r : todo) {
        r.status = "done";
        store_->update(r);
      }
    });
    return;
  }
  latency::DeployConfig host;  // cpu, auto engine, 1 thread
  host.image_size = device_->deploy().image_size;
  host.num_classes = device_->deploy().num_classes;
  host.input_channels = device_->deploy().input_channels;
  std::vector<latency::ModelToMeasure> models;
  for (const auto& r : todo) {
    const auto cfg = train::train_config_from_json(nlohmann::json::parse(r.recipe));
    const DeployModel d = deploy_model(cfg, host);
    models.push_back({d.arch, d.params});
  }
  say("measuring host latency of " + std::to_string(todo.size()) + " model(s) end to end (cpu, " +
      std::to_string(host.image_size) + " px, 1 thread, interleaved)\n");
  const auto ms = latency::measure_many(models, host, {}, latency::kRounds, /*quiet=*/true);
  store_->transaction([&] {
    for (size_t i = 0; i < todo.size(); ++i) {
      todo[i].host_ms = ms[i].median_ms;
      todo[i].host_engine = ms[i].engine + ", " + std::to_string(ms[i].threads) + " thread(s), " +
                            std::to_string(ms[i].image_size) + " px";
      todo[i].status = "done";
      store_->update(todo[i]);
    }
  });
}

FinalOutcome Stage::run() {
  if (o_.db_path.empty() || !fs::exists(o_.db_path)) {
    throw ConfigError("no database '" + o_.db_path + "' (run mnas_search first)");
  }
  db::WriterLock lock(o_.db_path, "mnas_search --final");
  db_ = std::make_unique<db::Database>(o_.db_path);
  db::ExperimentStore experiments(*db_);
  store_ = std::make_unique<db::FinalStore>(*db_);
  const auto all = experiments.experiments();
  if (all.empty()) throw ConfigError("'" + o_.db_path + "' holds no experiment");
  db::ExperimentRecord e = all.back();
  if (o_.experiment_id) {
    const auto found = experiments.experiment(*o_.experiment_id);
    if (!found) throw ConfigError("no experiment " + std::to_string(*o_.experiment_id) + " in '" + o_.db_path + "'");
    e = *found;
  }
  out_.experiment_id = e.id;
  // Each trial at its highest rung: the top-K rank by rung, then reward.
  const auto trials = trials_at_highest_rung(experiments, e.id);
  if (o_.plan.top_k > 0 && best_trials(trials, 1).empty()) {
    throw ConfigError("experiment " + std::to_string(e.id) + " in '" + o_.db_path +
                      "' has no successful trial to train");
  }
  auto plan = plan_final_models(e, trials, o_.plan);
  const ExperimentConfig config = stored_experiment_from_json(nlohmann::json::parse(e.config));
  device_ = std::make_unique<DeviceLatency>(*db_, config);
  dir_ = o_.dir.empty() ? o_.db_path + ".final" : o_.dir;
  baselines_dir_ = dir_;
  if (!o_.baselines_db.empty() && fs::absolute(o_.baselines_db) != fs::absolute(o_.db_path)) {
    baselines_db_ = std::make_unique<db::Database>(o_.baselines_db);
    baselines_ = std::make_unique<db::FinalStore>(*baselines_db_);
    baselines_dir_ = o_.baselines_db + ".final";
  }
  say("final stage of experiment " + std::to_string(e.id) + ": " + std::to_string(plan.size()) +
      " model(s), recipe " + o_.recipe_name + " (" + final_recipe_key(o_.plan.recipe) +
      "), files in " + dir_ + "\n");
  for (auto& m : plan) {
    auto row = store_->find(m.record.key);
    if (!row) {
      db::FinalRecord r = m.record;
      r.id = store_->insert(r);
      row = r;
    }
    if (row->status == "trained" || row->status == "done" || row->status == "failed") {
      say("  " + row->name + ": " + row->status + " already\n");
      ++out_.skipped;
      continue;
    }
    if (row->key.kind == "baseline" && reuse_baseline(m, *row)) continue;
    train_one(m, *row);
  }
  measure_host(e.id);
  say("\n" + format_final(store_->models(e.id), Format::kTable));
  return out_;
}

}  // namespace

FinalOutcome run_final_stage(const FinalOptions& options) { return Stage(options).run(); }

}  // namespace mnas::experiments
