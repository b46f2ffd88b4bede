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

std::vector<db::TrialRecord> best_trials(const std::vector<db::TrialRecord>& trials, int k) {
  std::vector<db::TrialRecord> done;
  for (const auto& t : trials) {
    if (t.status == "done" && t.reward) done.push_back(t);
  }
  std::stable_sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
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

namespace {

std::string num(const std::optional<double>& v, int precision) {
  if (!v) return "";
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << *v;
  return os.str();
}

std::string num(double v, int precision) { return num(std::optional<double>(v), precision); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

nlohmann::json trial_to_json(const db::TrialRecord& t) {
  auto opt = [](const auto& v) -> nlohmann::json {
    if (v) return *v;
    return nullptr;
  };
  return {{"trial", t.index},
          {"status", t.status},
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
  if (format == Format::kJson) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : trials) j.push_back(trial_to_json(t));
    os << j.dump(2) << "\n";
  } else if (format == Format::kCsv) {
    os << "trial,status,reward,accuracy,loss,latency_ms,measured_latency_ms,params,macs,entropy,"
          "seconds,worker,arch,message\n";
    for (const auto& t : trials) {
      os << t.index << "," << t.status << "," << num(t.reward, 6) << "," << num(t.accuracy, 6)
         << "," << num(t.loss, 6) << "," << num(t.latency_ms, 4) << ","
         << num(t.measured_latency_ms, 4) << "," << (t.params ? std::to_string(*t.params) : "")
         << "," << (t.macs ? std::to_string(*t.macs) : "") << "," << num(t.entropy, 4) << ","
         << num(t.seconds, 3) << "," << csv_field(t.worker) << "," << csv_field(t.arch) << ","
         << csv_field(t.message) << "\n";
    }
  } else {
    os << std::left << std::setw(6) << "trial" << std::setw(9) << "status" << std::right
       << std::setw(8) << "reward" << std::setw(8) << "acc" << std::setw(9) << "lat_ms"
       << std::setw(9) << "meas_ms" << std::setw(8) << "params" << std::setw(8) << "MMACs" << std::setw(8) << "sec"
       << "  arch\n";
    for (const auto& t : trials) {
      os << std::left << std::setw(6) << t.index << std::setw(9) << t.status << std::right
         << std::setw(8) << num(t.reward, 4) << std::setw(8) << num(t.accuracy, 4) << std::setw(9)
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
  const auto config = experiment_from_json(nlohmann::json::parse(e.config));
  const auto arch = space::decode_arch(space::split_block_strings(t.arch));
  train::TrainConfig c = train::child_train_config(arch, train::proxy_config_from_json(config.proxy));
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

std::string summary_text(db::ExperimentStore& store, const db::ExperimentRecord& e, int top_k) {
  const auto trials = store.trials(e.id);
  std::map<std::string, int> counts;
  for (const auto& t : trials) counts[t.status]++;
  std::ostringstream os;
  os << "\nexperiment " << e.id << " (" << e.strategy << "): " << e.status << ", "
     << store.count_finished(e.id) << "/" << e.budget << " trials finished";
  for (const auto& [status, n] : counts) os << ", " << n << " " << status;
  os << "\n";
  const auto best = best_trials(trials, top_k);
  if (best.empty()) {
    os << "no successful trial yet\n";
    return os.str();
  }
  os << "\ntop " << best.size() << " by reward:\n" << format_trials(best, Format::kTable);
  os << "\nblock strings (paste into mnas_decode):\n";
  for (const auto& t : best) os << "  trial " << t.index << ": " << t.arch << "\n";
  os << "\nPareto front (accuracy vs latency):\n" << format_trials(pareto_trials(trials), Format::kTable);
  // Checked here (a search whose best trial cannot be trained should say so
  // now), printed as the two commands that train it.
  train_config(best.front(), e, store.database().path());
  os << "\ntrain the best trial (" << best.front().index << ") on the proxy task's dataset:\n"
     << "  mnas_report --db " << store.database().path() << " --train-config > best.json\n"
     << "  mnas_train --config best.json --checkpoint best.ckpt   # flags override keys: --epochs N\n";
  return os.str();
}

// ---- HTML report -------------------------------------------------------------

namespace {

struct Range {
  double lo = 0, hi = 1;
};

Range range_of(const std::vector<double>& v, double pad_frac = 0.05) {
  Range r{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (double x : v) {
    if (std::isfinite(x)) r.lo = std::min(r.lo, x), r.hi = std::max(r.hi, x);
  }
  if (!std::isfinite(r.lo)) return {0, 1};
  if (r.hi - r.lo < 1e-12) r.lo -= 0.5, r.hi += 0.5;
  const double pad = (r.hi - r.lo) * pad_frac;
  return {r.lo - pad, r.hi + pad};
}

double nice_step(double span, int ticks) {
  const double raw = span / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

// A plot area with data->pixel mapping and axes.
class Plot {
 public:
  Plot(std::string title, Range x, Range y, std::string xlabel, std::string ylabel,
       int width = 1080, int height = 360)
      : x_(x), y_(y), w_(width), h_(height) {
    os_ << "<h2>" << html_escape(title) << "</h2>\n<svg xmlns='http://www.w3.org/2000/svg' width='"
        << w_ << "' height='" << h_ << "' viewBox='0 0 " << w_ << " " << h_
        << "' font-family='sans-serif' font-size='12'>\n"
        << "<rect x='" << kL << "' y='" << kT << "' width='" << pw() << "' height='" << ph()
        << "' fill='#fafafa' stroke='#999'/>\n";
    const double xs = nice_step(x_.hi - x_.lo, 10), ys = nice_step(y_.hi - y_.lo, 6);
    for (double v = std::ceil(x_.lo / xs) * xs; v <= x_.hi; v += xs) {
      os_ << "<line x1='" << px(v) << "' y1='" << kT << "' x2='" << px(v) << "' y2='" << kT + ph()
          << "' stroke='#e4e4e4'/><text x='" << px(v) << "' y='" << kT + ph() + 16
          << "' text-anchor='middle'>" << label(v, xs) << "</text>\n";
    }
    for (double v = std::ceil(y_.lo / ys) * ys; v <= y_.hi; v += ys) {
      os_ << "<line x1='" << kL << "' y1='" << py(v) << "' x2='" << kL + pw() << "' y2='" << py(v)
          << "' stroke='#e4e4e4'/><text x='" << kL - 6 << "' y='" << py(v) + 4
          << "' text-anchor='end'>" << label(v, ys) << "</text>\n";
    }
    os_ << "<text x='" << kL + pw() / 2 << "' y='" << h_ - 6 << "' text-anchor='middle'>"
        << html_escape(xlabel) << "</text>\n<text transform='translate(14," << kT + ph() / 2
        << ") rotate(-90)' text-anchor='middle'>" << html_escape(ylabel) << "</text>\n";
  }

  double px(double x) const { return kL + (x - x_.lo) / (x_.hi - x_.lo) * pw(); }
  double py(double y) const { return kT + ph() - (y - y_.lo) / (y_.hi - y_.lo) * ph(); }

  void dot(double x, double y, const std::string& color, double r = 3,
           const std::string& tip = "") {
    if (!std::isfinite(x) || !std::isfinite(y)) return;
    os_ << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='" << r << "' fill='" << color
        << "'>";
    if (!tip.empty()) os_ << "<title>" << html_escape(tip) << "</title>";
    os_ << "</circle>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& color,
                double width = 2, const std::string& dash = "") {
    if (pts.empty()) return;
    os_ << "<polyline fill='none' stroke='" << color << "' stroke-width='" << width << "'";
    if (!dash.empty()) os_ << " stroke-dasharray='" << dash << "'";
    os_ << " points='";
    for (const auto& [x, y] : pts) {
      if (std::isfinite(x) && std::isfinite(y)) os_ << px(x) << "," << py(y) << " ";
    }
    os_ << "'/>\n";
  }
  void vline(double x, const std::string& color, const std::string& text) {
    if (x < x_.lo || x > x_.hi) return;
    os_ << "<line x1='" << px(x) << "' y1='" << kT << "' x2='" << px(x) << "' y2='" << kT + ph()
        << "' stroke='" << color << "' stroke-width='2' stroke-dasharray='6,4'/><text x='"
        << px(x) + 4 << "' y='" << kT + 14 << "' fill='" << color << "'>" << html_escape(text)
        << "</text>\n";
  }
  void legend(const std::vector<std::pair<std::string, std::string>>& items) {
    double x = kL + 10;
    for (const auto& [color, text] : items) {
      os_ << "<rect x='" << x << "' y='" << kT - 16 << "' width='12' height='12' fill='" << color
          << "'/><text x='" << x + 16 << "' y='" << kT - 6 << "'>" << html_escape(text)
          << "</text>\n";
      x += 30 + 7.0 * static_cast<double>(text.size());
    }
  }
  std::string finish() {
    os_ << "</svg>\n";
    return os_.str();
  }

 private:
  static constexpr int kL = 70, kR = 20, kT = 30, kB = 42;
  double pw() const { return w_ - kL - kR; }
  double ph() const { return h_ - kT - kB; }
  static std::string label(double v, double step) {
    std::ostringstream os;
    const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
    os << std::fixed << std::setprecision(digits) << (std::abs(v) < step * 1e-6 ? 0.0 : v);
    return os.str();
  }
  Range x_, y_;
  int w_, h_;
  std::ostringstream os_;
};

// Early trials light blue, late trials dark blue.
std::string trial_color(int64_t index, int64_t n) {
  const double f = n > 1 ? static_cast<double>(index) / static_cast<double>(n - 1) : 1.0;
  const int r = static_cast<int>(170 - 150 * f), g = static_cast<int>(200 - 130 * f),
            b = static_cast<int>(240 - 90 * f);
  std::ostringstream os;
  os << "rgb(" << r << "," << g << "," << b << ")";
  return os.str();
}

}  // namespace

std::string html_report(db::ExperimentStore& store, const db::ExperimentRecord& e) {
  const auto config = experiment_from_json(nlohmann::json::parse(e.config));
  const auto trials = store.trials(e.id);
  const auto updates = store.update_log(e.id);
  std::vector<db::TrialRecord> done;
  for (const auto& t : trials) {
    if (t.status == "done" && t.accuracy && t.latency_ms && t.reward) done.push_back(t);
  }
  const auto front = pareto_trials(trials);
  const auto best = best_trials(trials, 10);
  const auto n = static_cast<int64_t>(trials.size());

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>mnas experiment " << e.id
       << "</title>\n<style>body{font-family:sans-serif;margin:20px;max-width:1100px}"
          "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;"
          "text-align:right}td.l{text-align:left;font-family:monospace}h2{margin-top:28px}"
          ".freq{display:inline-block;vertical-align:top;margin:2px}</style></head><body>\n";
  html << "<h1>mnas experiment " << e.id << ": " << html_escape(e.strategy) << "</h1>\n<p>"
       << html_escape(store.database().path()) << " &middot; created " << html_escape(e.created)
       << " &middot; status " << html_escape(e.status) << " &middot; "
       << store.count_finished(e.id) << "/" << e.budget << " trials finished &middot; objective "
       << html_escape(config.objective) << " &middot; target " << config.reward.target_ms
       << " ms, " << search::to_string(config.reward.kind) << " reward (alpha "
       << config.reward.alpha << ", beta " << config.reward.beta << ") &middot; seed "
       << config.seed << "</p>\n";
  if (done.empty()) {
    html << "<p>No successful trial yet.</p></body></html>\n";
    return html.str();
  }

  // 1. accuracy vs latency.
  {
    std::vector<double> xs, ys;
    for (const auto& t : done) xs.push_back(*t.latency_ms), ys.push_back(*t.accuracy);
    xs.push_back(config.reward.target_ms);
    Plot p("Accuracy vs latency (all successful trials; darker = later)", range_of(xs),
           range_of(ys), "latency (ms)", "accuracy", 1080, 420);
    for (const auto& t : done) {
      p.dot(*t.latency_ms, *t.accuracy, trial_color(t.index, n), 3,
            "trial " + std::to_string(t.index) + ": acc " + num(t.accuracy, 4) + ", " +
                num(t.latency_ms, 1) + " ms, reward " + num(t.reward, 4));
    }
    std::vector<std::pair<double, double>> steps;
    for (size_t i = 0; i < front.size(); ++i) {
      if (i > 0) steps.emplace_back(*front[i].latency_ms, *front[i - 1].accuracy);
      steps.emplace_back(*front[i].latency_ms, *front[i].accuracy);
    }
    p.polyline(steps, "#d62728", 2);
    for (const auto& t : front) p.dot(*t.latency_ms, *t.accuracy, "#d62728", 4.5);
    p.dot(*best.front().latency_ms, *best.front().accuracy, "#2ca02c", 7,
          "best reward: trial " + std::to_string(best.front().index));
    p.vline(config.reward.target_ms, "#ff7f0e", "target " + num(config.reward.target_ms, 1) + " ms");
    p.legend({{"rgb(90,130,200)", "trial"}, {"#d62728", "Pareto front"},
              {"#2ca02c", "best reward"}, {"#ff7f0e", "target"}});
    html << p.finish();
  }
  // 2. reward and best so far.
  {
    std::vector<double> xs{0, static_cast<double>(std::max<int64_t>(n - 1, 1))}, ys;
    for (const auto& t : done) ys.push_back(*t.reward);
    Plot p("Reward per trial and best so far", range_of(xs, 0.01), range_of(ys), "trial",
           "reward");
    std::vector<std::pair<double, double>> best_line;
    double b = -std::numeric_limits<double>::infinity();
    for (const auto& t : done) {
      p.dot(static_cast<double>(t.index), *t.reward, "#1f77b4", 2.5);
      b = std::max(b, *t.reward);
      best_line.emplace_back(static_cast<double>(t.index), b);
    }
    // Moving average over 20 trials shows the strategy's progress.
    std::vector<std::pair<double, double>> avg;
    double sum = 0;
    for (size_t i = 0; i < done.size(); ++i) {
      sum += *done[i].reward;
      if (i >= 20) sum -= *done[i - 20].reward;
      avg.emplace_back(static_cast<double>(done[i].index),
                       sum / static_cast<double>(std::min<size_t>(i + 1, 20)));
    }
    p.polyline(avg, "#9467bd", 2);
    p.polyline(best_line, "#2ca02c", 2.5);
    p.legend({{"#1f77b4", "reward"}, {"#9467bd", "mean of last 20"}, {"#2ca02c", "best so far"}});
    html << p.finish();
  }
  // 3. entropy.
  {
    std::vector<std::pair<double, double>> pts;
    std::vector<double> xs{0, static_cast<double>(std::max<int64_t>(n - 1, 1))}, ys;
    for (const auto& t : trials) {
      if (t.entropy) pts.emplace_back(static_cast<double>(t.index), *t.entropy), ys.push_back(*t.entropy);
    }
    std::vector<std::pair<double, double>> upd;
    for (const auto& u : updates) {
      const auto s = nlohmann::json::parse(u.stats);
      if (s.contains("entropy") && s["entropy"].is_number()) {
        upd.emplace_back(static_cast<double>(u.trials_finished - 1), s["entropy"].get<double>());
        ys.push_back(s["entropy"].get<double>());
      }
    }
    if (ys.empty()) {
      html << "<h2>Policy entropy</h2><p>This strategy (" << html_escape(e.strategy)
           << ") samples from no explicit distribution after its random start.</p>\n";
    } else {
      ys.push_back(0);
      Plot p("Policy entropy (nats, summed over decisions) when each trial was proposed",
             range_of(xs, 0.01), range_of(ys), "trial", "entropy");
      for (const auto& [x, y] : pts) p.dot(x, y, "#8c564b", 2);
      p.polyline(upd, "#e377c2", 2);
      if (upd.empty()) {
        p.legend({{"#8c564b", "at proposal (uniform draws only)"}});
      } else {
        p.legend({{"#8c564b", "at proposal"}, {"#e377c2", "mean over each PPO update batch"}});
      }
      html << p.finish();
    }
  }
  // 4. choice frequencies per decision, first vs second half.
  {
    const auto& decisions = config.space.decisions();
    std::vector<std::vector<int>> first(decisions.size()), second(decisions.size());
    for (size_t i = 0; i < decisions.size(); ++i) {
      first[i].assign(static_cast<size_t>(decisions[i].size()), 0);
      second[i].assign(static_cast<size_t>(decisions[i].size()), 0);
    }
    int n1 = 0, n2 = 0;
    for (const auto& t : trials) {
      const auto d = nlohmann::json::parse(t.decisions).get<std::vector<int>>();
      if (d.size() != decisions.size()) continue;
      const bool late = 2 * t.index >= n;
      (late ? n2 : n1)++;
      for (size_t i = 0; i < d.size(); ++i) {
        if (d[i] >= 0 && d[i] < decisions[i].size()) (late ? second : first)[i][static_cast<size_t>(d[i])]++;
      }
    }
    html << "<h2>Choice frequencies per decision</h2>\n<p>Each panel is one decision; per choice "
            "the left bar is the first half of the trials ("
         << n1 << "), the right bar the second half (" << n2
         << "). A strategy that learns concentrates the right bars.</p>\n<div>";
    for (size_t i = 0; i < decisions.size(); ++i) {
      const int k = decisions[i].size();
      const int bw = 12, gap = 20, h = 70, w = std::max(120, k * (2 * bw + gap) + 10);
      html << "<svg class='freq' xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='"
           << h + 42 << "' font-family='sans-serif' font-size='10'><text x='2' y='11'>"
           << html_escape(decisions[i].name) << "</text>";
      for (int c = 0; c < k; ++c) {
        const double f1 = n1 ? static_cast<double>(first[i][static_cast<size_t>(c)]) / n1 : 0;
        const double f2 = n2 ? static_cast<double>(second[i][static_cast<size_t>(c)]) / n2 : 0;
        const int x = 5 + c * (2 * bw + gap);
        html << "<rect x='" << x << "' y='" << 16 + h * (1 - f1) << "' width='" << bw
             << "' height='" << h * f1 << "' fill='#aec7e8'><title>"
             << html_escape(decisions[i].labels[static_cast<size_t>(c)]) << ": " << num(f1, 2)
             << "</title></rect><rect x='" << x + bw << "' y='" << 16 + h * (1 - f2)
             << "' width='" << bw << "' height='" << h * f2 << "' fill='#1f77b4'><title>"
             << html_escape(decisions[i].labels[static_cast<size_t>(c)]) << ": " << num(f2, 2)
             << "</title></rect><text x='" << x + bw << "' y='" << h + 28
             << "' text-anchor='middle'>"
             << html_escape(decisions[i].labels[static_cast<size_t>(c)].substr(0, 8))
             << "</text>";
      }
      html << "<line x1='0' y1='" << 16 + h << "' x2='" << w << "' y2='" << 16 + h
           << "' stroke='#999'/></svg>";
    }
    html << "</div>\n";
  }
  // 5. tables.
  auto table = [&](const std::string& title, const std::vector<db::TrialRecord>& rows) {
    html << "<h2>" << html_escape(title) << "</h2>\n<table><tr><th>trial</th><th>reward</th>"
            "<th>accuracy</th><th>latency ms</th><th>params</th><th>MMACs</th><th>block strings"
            "</th></tr>\n";
    for (const auto& t : rows) {
      html << "<tr><td>" << t.index << "</td><td>" << num(t.reward, 4) << "</td><td>"
           << num(t.accuracy, 4) << "</td><td>" << num(t.latency_ms, 2) << "</td><td>"
           << (t.params ? num(static_cast<double>(*t.params) / 1e6, 2) + "M" : "") << "</td><td>"
           << (t.macs ? num(static_cast<double>(*t.macs) / 1e6, 0) : "") << "</td><td class='l'>"
           << html_escape(t.arch) << "</td></tr>\n";
    }
    html << "</table>\n";
  };
  table("Top trials by reward", best);
  table("Pareto front", front);
  html << "</body></html>\n";
  return html.str();
}

}  // namespace mnas::experiments
