// The end of a proxy search: its best trials measured end to end on the
// deploy configuration, next to the latency the predictor gave them.
#include <sstream>
#include <vector>

#include "experiments/report.h"
#include "experiments/search_steps.h"
#include "latency/measure.h"
#include "space/block_codec.h"

namespace mnas::experiments {

void measure_final_candidates(db::ExperimentStore& store, db::Database& db,
                              const ExperimentConfig& c, int64_t exp, int k,
                              const RunOptions& options) {
  if (k <= 0 || c.objective == "synthetic") return;
  const latency::DeployConfig& deploy = c.deploy;
  if (latency::is_remote(deploy)) return;
  if (latency::uses_profile(deploy)) {
    // Nothing to measure: the device is not this host.
    emit(options, "\nlatencies are for " + latency::latency_source(deploy) +
                      "; not measured here (a device profile predicts only)\n");
    return;
  }
  std::vector<db::TrialRecord> todo;
  for (auto& t : best_trials(trials_at_highest_rung(store, exp), k)) {
    if (!t.measured_latency_ms) todo.push_back(t);
  }
  if (todo.empty()) return;
  const space::GlobalParams params = c.space.global_params(latency::apply_deploy({}, deploy));
  std::vector<latency::ModelToMeasure> models;
  for (const auto& t : todo) {
    models.push_back({space::decode_arch(space::split_block_strings(t.arch)), params});
  }
  latency::MeasureOptions o;
  o.reference_ms = latency::table_reference_ms(db, deploy);
  const auto ms = latency::measure_many(models, deploy, o, latency::kRounds, /*quiet=*/true);
  store.transaction([&] {
    for (size_t i = 0; i < todo.size(); ++i) {
      store.set_measured_latency(exp, todo[i].index, ms[i].median_ms);
    }
  });
  std::ostringstream out;
  out << "\nthe best " << todo.size() << " measured end to end (" << deploy.device << ", "
      << ms[0].engine << ", " << deploy.threads << " thread(s), " << deploy.image_size << " px):\n";
  for (size_t i = 0; i < todo.size(); ++i) {
    const double pred = todo[i].latency_ms.value_or(0.0);
    out << "  trial " << todo[i].index << ": measured " << fixed(ms[i].median_ms, 2)
        << " ms, predicted " << fixed(pred, 2) << " ms";
    if (pred > 0) out << " (" << fixed((pred / ms[i].median_ms - 1.0) * 100.0, 1) << "%)";
    out << "\n";
  }
  emit(options, out.str());
}

}  // namespace mnas::experiments
