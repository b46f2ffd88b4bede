// Calibration and ensure_predictor (see latency/calibrate.h).
#include "latency/calibrate.h"

#include <set>
#include <string>
#include <utility>

#include "latency/arch_list.h"
#include "latency/engine.h"
#include "latency/measure.h"
#include "latency/table_store.h"
#include "space/block_codec.h"

namespace mnas::latency {

int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy,
              const MeasureOptions& options, const ProgressFn& progress) {
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
  report(progress, {"calibrating " + to_string(id)});
  MeasureOptions o = options;
  if (o.normalize && o.reference_ms <= 0 && measures_on_cpu(concrete)) {
    o.reference_ms = table_reference_ms(db, concrete);
  }
  const auto ms = measure_many(models, concrete, o, kRounds, progress);
  std::vector<CalibrationPoint> points;
  for (size_t i = 0; i < todo.size(); ++i) {
    points.push_back({space::arch_to_string(*todo[i]),
                      {ms[i].median_ms, ms[i].p10_ms, ms[i].p90_ms, ms[i].runs}});
  }
  store_calibration(db, id, points);
  return static_cast<int>(todo.size());
}

int calibrate(db::Database& db, const std::vector<space::ArchSpec>& archs,
              const space::GlobalParams& params, const DeployConfig& deploy, bool quiet,
              const MeasureOptions& options) {
  return calibrate(db, archs, params, deploy, options, stderr_progress_unless(quiet));
}

Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, bool quiet) {
  return ensure_predictor(db, space, deploy, PredictorOptions{}, stderr_progress_unless(quiet));
}

Predictor ensure_predictor(db::Database& db, const space::SearchSpace& space,
                           const DeployConfig& deploy, const PredictorOptions& o,
                           const ProgressFn& progress) {
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
  profile_layers(db, layers, params, concrete, o.profile, progress);
  calibrate(db, sample_archs(space, o.calibration_archs, o.calibration_seed), params, concrete,
            o.measure, progress);
  return make_predictor(load_table(db, id), params);
}

}  // namespace mnas::latency
