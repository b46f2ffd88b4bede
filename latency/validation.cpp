#include "latency/validation.h"

#include "latency/measure.h"
#include "space/layer_spec.h"

namespace mnas::latency {

Validation validate_predictors(db::Database& db, const space::SearchSpace& space,
                               const std::vector<ArchEntry>& entries, const DeployConfig& deploy,
                               MeasureOptions options, int rounds, const ProgressFn& progress) {
  const auto p = ensure_predictor(db, space, deploy, PredictorOptions{}, progress);
  const auto flops = FlopsPredictor::fit(p.table(), p.params());
  // Check every layer first: fail before measuring anything.
  std::vector<std::vector<space::LayerSpec>> layers;
  for (const auto& e : entries) {
    layers.push_back(space::expand_layers(e.arch, e.params));
    const auto missing = missing_layers(p.table(), layers.back());
    if (!missing.empty()) throw MissingLayerError(missing.front(), p.table().id);
  }
  DeployConfig concrete = deploy;
  concrete.engine = engine_of_label(p.table().id.engine);
  if (options.normalize) options.reference_ms = table_reference_ms(db, concrete);
  std::vector<ModelToMeasure> models;
  for (const auto& e : entries) models.push_back({e.arch, e.params});
  const auto ms = measure_many(models, concrete, options, rounds, progress);
  Validation v;
  v.table = p.table().id;
  v.calibration_archs = static_cast<int>(p.table().calibration.size());
  std::vector<double> meas, lut, fl;
  for (size_t i = 0; i < entries.size(); ++i) {
    v.rows.push_back({entries[i].label, ms[i].median_ms, p.predict_ms(layers[i]), flops.predict_ms(layers[i])});
    meas.push_back(v.rows.back().measured_ms);
    lut.push_back(v.rows.back().lut_ms);
    fl.push_back(v.rows.back().flops_ms);
  }
  v.lut = accuracy(lut, meas);
  v.flops = accuracy(fl, meas);
  return v;
}

}  // namespace mnas::latency
