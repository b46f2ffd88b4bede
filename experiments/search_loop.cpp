// The trial loop of a search: the run's header, then propose (or re-queue),
// submit, record and report each trial until the budget is finished.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "experiments/report.h"
#include "experiments/search_steps.h"
#include "search/reward.h"
#include "space/block_codec.h"

namespace mnas::experiments {

void emit(const RunOptions& options, const std::string& text) {
  if (options.on_output) options.on_output(text);
}

std::string fixed(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

namespace {

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60) os << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else os << s << "s";
  return os.str();
}

std::string describe(const ExperimentConfig& c) {
  std::ostringstream os;
  os << "strategy " << c.strategy.name << ", objective " << c.objective << ", budget " << c.budget
     << " trials, target " << fixed(c.reward.target_ms, 1) << " ms (" << search::to_string(c.reward.kind)
     << " reward, alpha " << c.reward.alpha << ", beta " << c.reward.beta << "), seed " << c.seed
     << ", space 10^" << fixed(c.space.log10_size(), 1) << " architectures";
  return os.str();
}

// "starting experiment 1 in x.db: ...", the time bound of a proxy search and,
// on resume, what was finished and re-queued.
std::string header_text(const ExperimentConfig& config, const RunOptions& options, int64_t exp,
                        int64_t finished, int requeued, int capacity) {
  std::ostringstream out;
  out << (options.resume ? "resuming" : "starting") << " experiment " << exp << " in "
      << options.db_path << ": " << describe(config) << "\n";
  if (config.objective == "proxy" && config.proxy.time_limit_s > 0) {
    // A child's budget is its steps; the time limit is a safety net against
    // hangs, so it bounds the worst case (plus ~5 s evaluation per child), not
    // the expected time.
    const double limit = config.proxy.time_limit_s;
    const double worst = (config.budget - finished) * (limit + 5) / std::max(1, capacity);
    out << "  " << config.budget - finished << " trials to run, each child trains "
        << fixed(config.proxy.epochs, config.proxy.epochs == std::floor(config.proxy.epochs) ? 0 : 2)
        << " epoch(s) of " << config.proxy.train_subset << " images; a child still training after "
        << fixed(limit, 0) << " s (safety net) is stopped, evaluated and recorded as a timeout"
        << " (worst case " << duration(worst) << " from now)\n";
  }
  if (options.resume) {
    out << "  " << finished << "/" << config.budget << " trials finished, " << requeued
        << " interrupted trial(s) re-queued\n";
  }
  return out.str();
}

// Where the loop stands: the experiment's counts and best trial so far.
struct Progress {
  int64_t proposed = 0;
  int64_t finished = 0;
  int64_t run = 0;  // by this invocation
  double best = -1;
  int64_t best_index = -1;
};

// A new trial from the strategy, stored as queued together with the strategy
// checkpoint that follows the proposal (one transaction).
db::TrialRecord propose_trial(db::ExperimentStore& store, int64_t exp, const ExperimentConfig& config,
                              search::Strategy& strategy, int64_t index) {
  const auto p = strategy.propose(index);
  const auto arch = config.space.decode(p.decisions);
  db::TrialRecord t;
  t.experiment_id = exp;
  t.index = index;
  t.arch = space::arch_to_string(arch);
  t.decisions = nlohmann::json(p.decisions).dump();
  t.seed = static_cast<int64_t>(trial_seed(config.seed, index));
  t.status = "queued";
  if (std::isfinite(p.entropy)) t.entropy = p.entropy;
  store.transaction([&] {
    store.insert_trial(t);
    store.save_checkpoint(exp, index + 1, strategy.state().dump(), std::nullopt);
  });
  return t;
}

// `r` in the trial's record, with its reward.
db::TrialRecord finished_record(db::TrialRecord t, const search::TrialResult& r, double rw) {
  const bool ok = r.status == search::TrialStatus::kOk;
  t.status = ok ? "done" : search::to_string(r.status);
  if (ok || r.accuracy > 0) t.accuracy = r.accuracy;
  if (ok) t.loss = r.loss;
  t.latency_ms = r.latency_ms;
  t.measured_latency_ms = r.measured_latency_ms;
  // A child without a reward (failed, diverged, timeout) stores none: its
  // status and message say why, and a timeout keeps the accuracy it reached.
  if (ok) t.reward = rw;
  t.params = r.params;
  t.macs = r.macs;
  t.train_seconds = r.train_seconds;
  t.eval_seconds = r.eval_seconds;
  t.seconds = r.seconds;
  t.worker = r.worker;
  t.message = r.message;
  return t;
}

// The finished trial, the strategy checkpoint after it and, when the policy
// changed, its weights and update log entry: one transaction.
void record_trial(db::ExperimentStore& store, int64_t exp, const db::TrialRecord& t,
                  const search::Strategy& strategy, bool updated, int64_t proposed,
                  int64_t finished_now) {
  store.transaction([&] {
    store.finish_trial(t);
    std::optional<std::string> weights;
    if (updated) weights = strategy.weights();
    store.save_checkpoint(exp, proposed, strategy.state().dump(), weights);
    if (updated) {
      const auto stats = strategy.last_update();
      store.log_update(exp, stats.value("update", int64_t{0}), finished_now, stats.dump());
    }
  });
}

// "[ 3/14] trial  2 m6k5ei.x3 ...  acc 0.8123 lat 71.2ms reward 0.8125  best ...  ETA 1m10s".
std::string trial_line(const db::TrialRecord& t, const search::TrialResult& r, double rw,
                       const Progress& p, int64_t budget, double elapsed_s,
                       const search::Strategy& strategy, bool updated) {
  const bool ok = r.status == search::TrialStatus::kOk;
  const double eta = elapsed_s / static_cast<double>(p.run) * static_cast<double>(budget - p.finished);
  const int width = static_cast<int>(std::to_string(budget).size());
  std::ostringstream out;
  out << "[" << std::setw(width) << p.finished << "/" << budget << "] trial " << std::setw(width)
      << t.index << " " << arch_summary(t.arch) << "  ";
  if (ok) {
    out << "acc " << fixed(r.accuracy, 4) << " lat " << fixed(r.latency_ms, 1) << "ms reward "
        << fixed(rw, 4);
  } else {
    out << t.status << " (" << r.message << ")";
  }
  out << "  best "
      << (p.best_index >= 0 ? fixed(p.best, 4) + " (#" + std::to_string(p.best_index) + ")" : "-")
      << "  ETA " << duration(eta);
  if (updated) out << "  [policy update " << strategy.last_update().value("update", 0) << "]";
  out << "\n";
  return out.str();
}

}  // namespace

LoopResult run_trials(db::ExperimentStore& store, int64_t exp, const ExperimentConfig& config,
                      search::Strategy& strategy, search::Evaluator& evaluator,
                      const RunOptions& options) {
  int requeued = 0;
  store.transaction([&] { requeued = store.requeue_interrupted(exp); });
  const std::vector<db::TrialRecord> queued = store.trials(exp, "queued");
  Progress p;
  p.proposed = store.count_trials(exp);
  p.finished = store.count_finished(exp);
  for (const auto& t : store.trials(exp, "done")) {
    if (t.reward && *t.reward > p.best) p.best = *t.reward, p.best_index = t.index;
  }
  if (!options.quiet) {
    emit(options, header_text(config, options, exp, p.finished, requeued, evaluator.capacity()));
  }

  const int64_t budget = config.budget;
  const auto session_start = std::chrono::steady_clock::now();
  std::map<int64_t, db::TrialRecord> in_flight;
  size_t next_queued = 0;
  while (p.finished < budget) {
    while (evaluator.in_flight() < evaluator.capacity() &&
           (next_queued < queued.size() || p.proposed < budget)) {
      db::TrialRecord t;
      if (next_queued < queued.size()) {
        t = queued[next_queued++];
      } else {
        t = propose_trial(store, exp, config, strategy, p.proposed);
        ++p.proposed;
      }
      store.transaction([&] { store.mark_running(exp, t.index, "local"); });
      in_flight[t.index] = t;
      evaluator.submit({t.index, t.arch, static_cast<uint64_t>(t.seed), t.attempts + 1});
    }
    if (evaluator.in_flight() == 0) break;  // nothing left to run (cannot happen with budget)

    const search::TrialResult r = evaluator.poll();
    auto it = in_flight.find(r.trial);
    if (it == in_flight.end()) throw Error("evaluator returned unknown trial " + std::to_string(r.trial));
    const db::TrialRecord submitted = it->second;
    in_flight.erase(it);

    const bool ok = r.status == search::TrialStatus::kOk;
    const double rw = ok ? search::reward(r.accuracy, r.latency_ms, config.reward) : 0.0;
    const auto decisions = nlohmann::json::parse(submitted.decisions).get<std::vector<int>>();
    // A child without a reward (failed, diverged, timeout) is a failure to
    // the strategy, not a low accuracy; its record keeps status and message.
    const bool updated = ok ? strategy.observe(submitted.index, decisions, rw)
                            : strategy.observe_failure(submitted.index, decisions);
    const db::TrialRecord t = finished_record(submitted, r, rw);
    record_trial(store, exp, t, strategy, updated, p.proposed, p.finished + 1);
    ++p.finished;
    ++p.run;
    if (ok && rw > p.best) p.best = rw, p.best_index = t.index;

    if (!options.quiet) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
      emit(options, trial_line(t, r, rw, p, budget, elapsed, strategy, updated));
    }
  }
  return {p.run, p.finished};
}

}  // namespace mnas::experiments
