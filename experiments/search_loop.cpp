// The trial loop of a search: the run's header, then propose (or re-queue),
// submit, record and report each trial until the budget is finished.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "experiments/report.h"
#include "experiments/search_steps.h"
#include "search/asha.h"
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

// "  multi-fidelity children: eta 3, rungs at 17/52/156 steps ...".
std::string rungs_text(const search::RungConfig& rungs, const std::vector<int64_t>& steps,
                       int pending_promotions) {
  std::ostringstream out;
  out << "  multi-fidelity children (ASHA): every child trains " << steps[0]
      << " steps first, the best 1/" << rungs.eta << " of each rung go on: rungs at steps";
  for (size_t i = 0; i < steps.size(); ++i) out << (i ? "/" : " ") << steps[i];
  out << " (the last = the full proxy); promotions take a free slot before new architectures; "
         "rewards for the strategy from rung 0";
  if (pending_promotions > 0) out << "; " << pending_promotions << " interrupted promotion(s) to run first";
  out << "\n";
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

// "  [rung 1] trial 7 ... acc 0.81 (52 steps) reward 0.80".
std::string rung_line(const db::RungRecord& r, const db::TrialRecord& t, int levels) {
  std::ostringstream out;
  out << "  [rung " << r.rung << "/" << levels - 1 << "] trial " << r.index << " "
      << arch_summary(t.arch) << "  ";
  if (r.status == "done") {
    out << "acc " << fixed(r.accuracy.value_or(0), 4) << " (" << r.steps << " steps) reward "
        << fixed(r.reward.value_or(0), 4);
  } else {
    out << r.status << " (" << r.message << ")";
  }
  out << "\n";
  return out.str();
}

search::RungEntry::State entry_state(const std::string& status) {
  if (status == "done") return search::RungEntry::State::kDone;
  if (db::is_final_status(status)) return search::RungEntry::State::kFailed;
  return search::RungEntry::State::kPending;
}

// What the ASHA rule sees: rung 0 from the trial rows (score = reward), the
// promotions from the rung rows.
std::vector<search::RungEntry> rung_entries(db::ExperimentStore& store, int64_t exp) {
  std::vector<search::RungEntry> out;
  for (const auto& t : store.trials(exp)) {
    out.push_back({t.index, 0, entry_state(t.status), t.reward.value_or(0)});
  }
  for (const auto& r : store.rungs(exp)) {
    out.push_back({r.index, r.rung, entry_state(r.status), r.reward.value_or(0)});
  }
  return out;
}

void set_entry(std::vector<search::RungEntry>& entries, int64_t trial, int rung,
               search::RungEntry::State state, double score) {
  for (auto& e : entries) {
    if (e.trial == trial && e.rung == rung) {
      e.state = state;
      e.score = score;
      return;
    }
  }
  entries.push_back({trial, rung, state, score});
}

// One job in an evaluator slot: a trial at rung 0, or a promotion.
struct Job {
  db::TrialRecord trial;
  std::optional<db::RungRecord> promotion;
};

}  // namespace

std::string child_checkpoint_dir(const std::string& db_path, int64_t experiment) {
  return (std::filesystem::absolute(db_path).string() + ".children") + "/experiment-" +
         std::to_string(experiment);
}

LoopResult run_trials(db::ExperimentStore& store, int64_t exp, const ExperimentConfig& config,
                      search::Strategy& strategy, search::Evaluator& evaluator,
                      const RunOptions& options) {
  int requeued = 0;
  store.transaction([&] {
    requeued = store.requeue_interrupted(exp);
    store.requeue_interrupted_rungs(exp);
  });
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

  // Multi-fidelity children (search/asha.h): step budgets per rung, where the
  // children's weights wait for a promotion, and what the promotion rule sees.
  const bool asha = config.rungs.has_value();
  std::vector<int64_t> rung_steps;
  std::string ckpt_dir;
  std::vector<search::RungEntry> entries;
  std::deque<db::RungRecord> queued_promotions;
  if (asha) {
    rung_steps = search::rung_steps(*config.rungs, train::proxy_total_steps(config.proxy));
    if (config.objective == "proxy") {
      ckpt_dir = child_checkpoint_dir(options.db_path, exp);
      std::filesystem::create_directories(ckpt_dir);
    }
    entries = rung_entries(store, exp);
    for (const auto& r : store.rungs(exp, "queued")) queued_promotions.push_back(r);
    if (!options.quiet) {
      emit(options, rungs_text(*config.rungs, rung_steps, static_cast<int>(queued_promotions.size())));
    }
  }
  const auto checkpoint_of = [&](int64_t index) {
    return ckpt_dir.empty() ? std::string() : ckpt_dir + "/trial-" + std::to_string(index) + ".pt";
  };
  const auto stage_of = [&](int64_t index, int rung) {
    search::ChildStage s;
    if (!asha) return s;  // single fidelity: the full proxy, no checkpoint
    s.rung = rung;
    s.max_steps = rung_steps[static_cast<size_t>(rung)];
    s.checkpoint = checkpoint_of(index);
    return s;
  };
  // The next promotion: an interrupted one first, then the ASHA rule's
  // (stored as queued before it runs).
  const auto next_promotion = [&]() -> std::optional<db::RungRecord> {
    if (!asha) return std::nullopt;
    if (!queued_promotions.empty()) {
      db::RungRecord r = queued_promotions.front();
      queued_promotions.pop_front();
      return r;
    }
    const auto pick = search::next_promotion(entries, config.rungs->eta, config.rungs->levels);
    if (!pick) return std::nullopt;
    db::RungRecord r;
    r.experiment_id = exp;
    r.index = pick->trial;
    r.rung = pick->rung;
    r.steps = rung_steps[static_cast<size_t>(pick->rung)];
    store.transaction([&] { store.insert_rung(r); });
    set_entry(entries, r.index, r.rung, search::RungEntry::State::kPending, 0);
    return r;
  };

  const int64_t budget = config.budget;
  const auto session_start = std::chrono::steady_clock::now();
  std::map<int64_t, Job> in_flight;  // a trial is in at most one slot
  size_t next_queued = 0;
  while (true) {
    while (evaluator.in_flight() < evaluator.capacity()) {
      if (auto promo = next_promotion()) {
        const auto t = store.trial(exp, promo->index);
        if (!t) throw Error("promotion of unknown trial " + std::to_string(promo->index));
        store.transaction([&] { store.mark_rung_running(exp, promo->index, promo->rung, "local"); });
        in_flight[promo->index] = {*t, promo};
        evaluator.submit({t->index, t->arch, static_cast<uint64_t>(t->seed), promo->attempts + 1,
                          stage_of(t->index, promo->rung)});
        continue;
      }
      if (next_queued >= queued.size() && p.proposed >= budget) break;
      db::TrialRecord t;
      if (next_queued < queued.size()) {
        t = queued[next_queued++];
      } else {
        t = propose_trial(store, exp, config, strategy, p.proposed);
        ++p.proposed;
      }
      store.transaction([&] { store.mark_running(exp, t.index, "local"); });
      if (asha) set_entry(entries, t.index, 0, search::RungEntry::State::kPending, 0);
      in_flight[t.index] = {t, std::nullopt};
      evaluator.submit({t.index, t.arch, static_cast<uint64_t>(t.seed), t.attempts + 1, stage_of(t.index, 0)});
    }
    if (evaluator.in_flight() == 0) break;  // the budget is finished and nothing is promotable

    const search::TrialResult r = evaluator.poll();
    auto it = in_flight.find(r.trial);
    if (it == in_flight.end()) throw Error("evaluator returned unknown trial " + std::to_string(r.trial));
    const Job job = it->second;
    in_flight.erase(it);
    const db::TrialRecord& submitted = job.trial;

    const bool ok = r.status == search::TrialStatus::kOk;
    const double rw = ok ? search::reward(r.accuracy, r.latency_ms, config.reward) : 0.0;
    if (job.promotion) {
      // A promotion refines the ranking; the strategy had its reward at rung 0.
      db::RungRecord done = *job.promotion;
      done.status = ok ? "done" : search::to_string(r.status);
      if (ok || r.accuracy > 0) done.accuracy = r.accuracy;
      if (ok) done.loss = r.loss, done.reward = rw;
      done.steps_reached = r.steps;
      done.train_seconds = r.train_seconds;
      done.eval_seconds = r.eval_seconds;
      done.seconds = r.seconds;
      done.worker = r.worker;
      done.message = r.message;
      store.transaction([&] { store.finish_rung(done); });
      set_entry(entries, done.index, done.rung,
                ok ? search::RungEntry::State::kDone : search::RungEntry::State::kFailed, rw);
      // A child at the top rung, or one that failed, is never promoted again.
      if (!ok || done.rung == config.rungs->levels - 1) {
        std::error_code ec;
        if (!checkpoint_of(done.index).empty()) std::filesystem::remove(checkpoint_of(done.index), ec);
      }
      if (!options.quiet) emit(options, rung_line(done, submitted, config.rungs->levels));
      continue;
    }

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
    if (asha) {
      set_entry(entries, t.index, 0, ok ? search::RungEntry::State::kDone : search::RungEntry::State::kFailed, rw);
      std::error_code ec;
      if (!ok && !checkpoint_of(t.index).empty()) std::filesystem::remove(checkpoint_of(t.index), ec);
    }

    if (!options.quiet) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
      emit(options, trial_line(t, r, rw, p, budget, elapsed, strategy, updated));
    }
  }
  // Every rung is filled as far as the rule goes: no child is promotable any
  // more, so the waiting weights go.
  if (!ckpt_dir.empty() && p.finished >= budget) {
    std::error_code ec;
    std::filesystem::remove_all(ckpt_dir, ec);
    std::filesystem::remove(std::filesystem::path(ckpt_dir).parent_path(), ec);  // when empty
  }
  return {p.run, p.finished};
}

}  // namespace mnas::experiments
