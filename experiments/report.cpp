#include "experiments/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

#include "common/error.h"
#include "experiments/experiment_config.h"
#include "train/child_trainer.h"
#include "train/train_config.h"
#include "search/asha.h"
#include "search/pareto.h"
#include "space/block_codec.h"
#include "space/describe.h"
#include "space/search_space.h"

namespace mnas::experiments {

Format format_from_string(const std::string& s) {
  if (s == "table") return Format::kTable;
  if (s == "csv") return Format::kCsv;
  if (s == "json") return Format::kJson;
  throw ConfigError("unknown format '" + s + "' (expected table, csv or json)");
}

std::vector<db::TrialRecord> trials_at_highest_rung(db::ExperimentStore& store, int64_t experiment) {
  auto trials = store.trials(experiment);
  std::map<int64_t, db::RungRecord> highest;
  for (const auto& r : store.rungs(experiment, "done")) {
    auto it = highest.find(r.index);
    if (it == highest.end() || r.rung > it->second.rung) highest[r.index] = r;
  }
  for (auto& t : trials) {
    const auto it = highest.find(t.index);
    if (it == highest.end()) continue;
    const db::RungRecord& r = it->second;
    t.rung = r.rung;
    t.accuracy = r.accuracy;
    t.loss = r.loss;
    t.reward = r.reward;
    t.train_seconds = r.train_seconds;
    t.eval_seconds = r.eval_seconds;
    t.seconds = r.seconds;
  }
  return trials;
}

std::vector<db::TrialRecord> best_trials(const std::vector<db::TrialRecord>& trials, int k) {
  std::vector<db::TrialRecord> done;
  for (const auto& t : trials) {
    if (t.status == "done" && t.reward) done.push_back(t);
  }
  std::stable_sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    if (a.rung != b.rung) return a.rung > b.rung;
    if (*a.reward != *b.reward) return *a.reward > *b.reward;
    return a.index < b.index;
  });
  if (k > 0 && static_cast<int>(done.size()) > k) done.resize(static_cast<size_t>(k));
  return done;
}

std::vector<db::TrialRecord> pareto_trials(const std::vector<db::TrialRecord>& trials) {
  std::vector<search::ParetoPoint> points;
  std::map<int64_t, const db::TrialRecord*> by_index;
  for (const auto& t : trials) {
    if (t.status != "done" || !t.accuracy || !t.latency_ms) continue;
    points.push_back({t.index, *t.accuracy, *t.latency_ms});
    by_index[t.index] = &t;
  }
  std::vector<db::TrialRecord> out;
  for (const auto& p : search::pareto_front(points)) out.push_back(*by_index[p.id]);
  return out;
}

std::string arch_summary(const std::string& arch) {
  std::string out;
  for (const auto& s : space::split_block_strings(arch)) {
    const auto b = space::decode_block(s);
    std::string w;
    switch (b.op) {
      case space::ConvOp::kConv: w = "c"; break;
      case space::ConvOp::kSepConv: w = "s"; break;
      case space::ConvOp::kMBConv: w = "m" + std::to_string(b.expand_ratio); break;
    }
    w += "k" + std::to_string(b.kernel_size);
    if (b.has_se()) w += "e";
    w += b.skip == space::SkipOp::kIdentity ? "i" : b.skip == space::SkipOp::kPool ? "p" : "n";
    w += "x" + std::to_string(b.num_repeat);
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::string fixed_or_empty(const std::optional<double>& v, int precision) {
  if (!v) return "";
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << *v;
  return os.str();
}

namespace {

std::string num(const std::optional<double>& v, int precision) { return fixed_or_empty(v, precision); }

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

nlohmann::json trial_to_json(const db::TrialRecord& t) {
  auto opt = [](const auto& v) -> nlohmann::json {
    if (v) return *v;
    return nullptr;
  };
  return {{"trial", t.index},
          {"status", t.status},
          {"rung", t.rung},
          {"reward", opt(t.reward)},
          {"accuracy", opt(t.accuracy)},
          {"loss", opt(t.loss)},
          {"latency_ms", opt(t.latency_ms)},
          {"measured_latency_ms", opt(t.measured_latency_ms)},
          {"params", opt(t.params)},
          {"macs", opt(t.macs)},
          {"entropy", opt(t.entropy)},
          {"train_seconds", opt(t.train_seconds)},
          {"eval_seconds", opt(t.eval_seconds)},
          {"seconds", opt(t.seconds)},
          {"arch", space::split_block_strings(t.arch)},
          {"decisions", nlohmann::json::parse(t.decisions)},
          {"seed", static_cast<uint64_t>(t.seed)},
          {"attempts", t.attempts},
          {"worker", t.worker},
          {"message", t.message},
          {"queued_at", t.queued_at},
          {"started_at", t.started_at},
          {"finished_at", t.finished_at}};
}

std::string format_trials(const std::vector<db::TrialRecord>& trials, Format format) {
  std::ostringstream os;
  const bool rungs = std::any_of(trials.begin(), trials.end(), [](const auto& t) { return t.rung > 0; });
  if (format == Format::kJson) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : trials) j.push_back(trial_to_json(t));
    os << j.dump(2) << "\n";
  } else if (format == Format::kCsv) {
    os << "trial,status," << (rungs ? "rung," : "") << "reward,accuracy,loss,latency_ms,measured_latency_ms,params,macs,entropy,"
          "seconds,worker,arch,message\n";
    for (const auto& t : trials) {
      os << t.index << "," << t.status << "," << (rungs ? std::to_string(t.rung) + "," : "")
         << num(t.reward, 6) << "," << num(t.accuracy, 6)
         << "," << num(t.loss, 6) << "," << num(t.latency_ms, 4) << ","
         << num(t.measured_latency_ms, 4) << "," << (t.params ? std::to_string(*t.params) : "")
         << "," << (t.macs ? std::to_string(*t.macs) : "") << "," << num(t.entropy, 4) << ","
         << num(t.seconds, 3) << "," << csv_field(t.worker) << "," << csv_field(t.arch) << ","
         << csv_field(t.message) << "\n";
    }
  } else {
    os << std::left << std::setw(6) << "trial" << std::setw(9) << "status" << std::right;
    if (rungs) os << std::setw(5) << "rung";
    os << std::setw(8) << "reward" << std::setw(8) << "acc" << std::setw(9) << "lat_ms"
       << std::setw(9) << "meas_ms" << std::setw(8) << "params" << std::setw(8) << "MMACs" << std::setw(8) << "sec"
       << "  arch\n";
    for (const auto& t : trials) {
      os << std::left << std::setw(6) << t.index << std::setw(9) << t.status << std::right;
      if (rungs) os << std::setw(5) << t.rung;
      os << std::setw(8) << num(t.reward, 4) << std::setw(8) << num(t.accuracy, 4) << std::setw(9)
         << num(t.latency_ms, 2) << std::setw(9) << num(t.measured_latency_ms, 2) << std::setw(8)
         << (t.params ? num(static_cast<double>(*t.params) / 1e6, 2) + "M" : "") << std::setw(8)
         << (t.macs ? num(static_cast<double>(*t.macs) / 1e6, 0) : "") << std::setw(8)
         << num(t.seconds, 2) << "  " << arch_summary(t.arch);
      if (!t.message.empty()) os << "  (" << t.message << ")";
      os << "\n";
    }
  }
  return os.str();
}

nlohmann::json train_config(const db::TrialRecord& t, const db::ExperimentRecord& e,
                            const std::string& db_path) {
  const auto config = stored_experiment_from_json(nlohmann::json::parse(e.config));
  const auto arch = space::decode_arch(space::split_block_strings(t.arch));
  train::TrainConfig c = train::child_train_config(arch, config.proxy);
  const space::GlobalParams widths = config.space.global_params({});
  c.stem_size = widths.stem_size;
  c.depth_divisor = widths.depth_divisor;
  // A run of its own, not a child: no wall-clock limit, progress shown, and
  // the test split evaluated once at the end.
  c.time_limit_s = 0;
  c.quiet = false;
  c.eval_test = true;
  auto optional = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  std::error_code ec;
  const auto db_abs = std::filesystem::absolute(db_path, ec);
  c.source = {{"db", ec ? db_path : db_abs.lexically_normal().string()},
              {"experiment", e.id},
              {"trial", t.index},
              {"reward", optional(t.reward)},
              {"proxy_accuracy", optional(t.accuracy)},
              {"latency_ms", optional(t.latency_ms)}};
  train::validate(c);
  nlohmann::json j = train::to_json(c);
  j["arch"] = space::split_block_strings(t.arch);
  return j;
}

std::string latency_description(const db::ExperimentRecord& e) {
  const auto config = stored_experiment_from_json(nlohmann::json::parse(e.config));
  if (config.objective == "synthetic") return "synthetic (a formula of the architecture, no device)";
  return latency::latency_source(config.deploy);
}

std::string summary_text(db::ExperimentStore& store, const db::ExperimentRecord& e, int top_k) {
  const auto trials = trials_at_highest_rung(store, e.id);
  const auto config = stored_experiment_from_json(nlohmann::json::parse(e.config));
  std::map<std::string, int> counts;
  for (const auto& t : trials) counts[t.status]++;
  std::ostringstream os;
  os << "\nexperiment " << e.id << " (" << e.strategy << "): " << e.status << ", "
     << store.count_finished(e.id) << "/" << e.budget << " trials finished";
  for (const auto& [status, n] : counts) os << ", " << n << " " << status;
  os << "\nlatency: " << latency_description(e) << "\n";
  if (config.rungs) {
    const auto steps = search::rung_steps(*config.rungs, train::proxy_total_steps(config.proxy));
    std::map<int, int> reached;
    for (const auto& t : trials) {
      if (t.status == "done") reached[t.rung]++;
    }
    os << "rungs (multi-fidelity, eta " << config.rungs->eta << "): each trial's result is from the "
       << "highest rung it finished:";
    for (int r = 0; r < config.rungs->levels; ++r) {
      os << (r ? ", " : " ") << reached[r] << " at rung " << r << " (" << steps[static_cast<size_t>(r)]
         << " steps" << (r == config.rungs->levels - 1 ? ", the full proxy" : "") << ")";
    }
    os << "\nthe best are ranked by rung first, then reward: a lower-rung result never ranks above a "
          "higher-rung one\n";
  }
  const auto best = best_trials(trials, top_k);
  if (best.empty()) {
    os << "no successful trial yet\n";
    return os.str();
  }
  os << "\ntop " << best.size() << (config.rungs ? " by rung, then reward:\n" : " by reward:\n")
     << format_trials(best, Format::kTable);
  os << "\nblock strings (paste into mnas_decode):\n";
  for (const auto& t : best) os << "  trial " << t.index << ": " << t.arch << "\n";
  os << "\nPareto front (accuracy vs latency):\n" << format_trials(pareto_trials(trials), Format::kTable);
  // Checked here (a search whose best trial cannot be trained should say so
  // now), printed as the two commands that train it.
  train_config(best.front(), e, store.database().path());
  os << "\ntrain the best trial (" << best.front().index << ") on the proxy task's dataset:\n"
     << "  mnas_report --db " << store.database().path() << " --train-config > best.json\n"
     << "  mnas_train --config best.json --checkpoint best.ckpt   # flags override keys: --epochs N\n"
     << "or train, test and export the best 3 next to MobileNetV2 and the MnasNet models:\n"
     << "  mnas_search --resume --db " << store.database().path() << " --final 3\n";
  return os.str();
}

}  // namespace mnas::experiments
