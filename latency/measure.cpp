// End-to-end measurement (see latency/measure.h).
#include "latency/measure.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "common/error.h"
#include "latency/engine_internal.h"
#include "latency/onnxruntime_engine.h"
#include "latency/reference_cache.h"
#include "latency/timing_internal.h"

namespace mnas::latency {

using namespace internal;

namespace {

// Fills the figures of `m` from its timed runs (`times`, normalised when
// ref_ms > 0, and `raw`) and the deploy configuration they ran under.
void record(Measurement& m, std::vector<double> times, std::vector<double> raw, const std::string& engine,
            const DeployConfig& deploy, double ref_ms) {
  const Timing t = summarize(std::move(times));
  m.median_ms = t.median_ms;
  m.p10_ms = t.p10_ms;
  m.p90_ms = t.p90_ms;
  m.runs = t.runs;
  m.raw_median_ms = summarize(std::move(raw)).median_ms;
  m.engine = engine;
  m.device = deploy.device;
  m.threads = deploy.threads;
  m.batch = deploy.batch;
  m.image_size = deploy.image_size;
  m.reference_ms = ref_ms;
}

}  // namespace

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
  Measurement m;
  if (engine == "onnxruntime") {
    auto s = std::move(onnxruntime_sample_models({{arch, params}}, deploy, o, 1, ref_ms, {}).at(0));
    m.compile_ms = s.compile_ms;
    record(m, std::move(s.times), std::move(s.raw), engine, deploy, ref_ms);
    return m;
  }
  ThreadScope threads(deploy.threads, o.pin);
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
  record(m, std::move(times), std::move(raw), engine, deploy, ref_ms);
  return m;
}

std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& o,
                                      int rounds, const ProgressFn& progress) {
  validate(deploy);
  if (rounds < 1) throw ConfigError("rounds should be >= 1, got " + std::to_string(rounds));
  for (const auto& m : models) check_params(m.params, deploy);
  const std::string engine = resolve_engine(deploy);
  const torch::Device device = to_device(deploy);
  const double ref_ms = nominal_reference_ms(deploy, o);
  std::vector<Measurement> out(models.size());
  if (engine == "onnxruntime") {
    auto samples = onnxruntime_sample_models(models, deploy, o, rounds, ref_ms, progress);
    for (size_t i = 0; i < models.size(); ++i) {
      out[i].compile_ms = samples[i].compile_ms;
      record(out[i], std::move(samples[i].times), std::move(samples[i].raw), engine, deploy, ref_ms);
    }
    return out;
  }
  ThreadScope threads(deploy.threads, o.pin);
  torch::InferenceMode guard;
  std::optional<Reference> ref;
  if (ref_ms > 0) ref = make_reference(deploy, engine, device, ref_ms);
  std::vector<Runner> runners;
  const auto start = Clock::now();
  for (size_t i = 0; i < models.size(); ++i) {
    torch::manual_seed(0);
    runners.push_back(make_model_runner(models[i].arch, models[i].params, engine, device,
                                        &out[i].compile_ms));
    report(progress, {"compiling", static_cast<int>(i + 1), static_cast<int>(models.size()),
                      ms_since(start) / 1000.0});
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
      report(progress, {"measuring (" + std::to_string(rounds) + " interleaved rounds)",
                        static_cast<int>(r * models.size() + i + 1),
                        static_cast<int>(rounds * models.size()), ms_since(t_start) / 1000.0});
    }
  }
  for (size_t i = 0; i < models.size(); ++i) {
    record(out[i], std::move(times[i]), std::move(raw[i]), engine, deploy, ref_ms);
  }
  return out;
}

std::vector<Measurement> measure_many(const std::vector<ModelToMeasure>& models,
                                      const DeployConfig& deploy, const MeasureOptions& options,
                                      int rounds, bool quiet) {
  return measure_many(models, deploy, options, rounds, stderr_progress_unless(quiet));
}

RepeatedMeasurement measure_repeated(const space::ArchSpec& arch, const space::GlobalParams& params,
                                     const DeployConfig& deploy, MeasureOptions options, int repeat,
                                     const std::string& constant_db) {
  if (repeat < 1) throw ConfigError("repeat should be >= 1, got " + std::to_string(repeat));
  RepeatedMeasurement r;
  if (options.normalize && deploy.device == "cpu") {
    // The table's reference constant (figures comparable with its rows), or
    // the one cached for this host (figures comparable from run to run).
    const std::string path = constant_db.empty() ? reference_cache_db() : constant_db;
    if (!path.empty()) {
      db::Database db(path);
      options.reference_ms = table_reference_ms(db, deploy);
      r.reference_constant_from = path;
    }
  }
  for (int i = 0; i < repeat; ++i) r.runs.push_back(measure(arch, params, deploy, options));
  std::vector<double> medians;
  for (const auto& m : r.runs) medians.push_back(m.median_ms);
  r.stats = repeat_stats(std::move(medians));
  return r;
}

}  // namespace mnas::latency
