#include "experiments/strategy_compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "experiments/experiment_config.h"
#include "experiments/svg_plot.h"
#include "search/pareto.h"

namespace mnas::experiments {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

std::string fixed(double v, int precision) {
  if (!std::isfinite(v)) return "";
  return fixed_or_empty(v, precision);
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string strategy_color(const std::string& s) {
  if (s == "ppo") return "#1f77b4";
  if (s == "random") return "#7f7f7f";
  if (s == "evolution") return "#2ca02c";
  return "#d62728";
}

// The mean of the last `window` rewards at each rewarded trial.
std::vector<std::pair<double, double>> moving_average(const std::vector<std::pair<int64_t, double>>& r,
                                                      size_t window) {
  std::vector<std::pair<double, double>> out;
  double sum = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    sum += r[i].second;
    if (i >= window) sum -= r[i - window].second;
    out.emplace_back(static_cast<double>(r[i].first),
                     sum / static_cast<double>(std::min(i + 1, window)));
  }
  return out;
}

// Each run's label: its strategy, plus "(key=value, ...)" of the settings in
// which the runs of that strategy differ.
void label_runs(std::vector<RunSummary>& runs) {
  std::map<std::string, std::vector<RunSummary*>> by_strategy;
  for (auto& r : runs) by_strategy[r.strategy].push_back(&r);
  for (auto& [name, rs] : by_strategy) {
    std::set<std::string> differing;
    for (const auto* r : rs) {
      for (const auto* other : rs) {
        for (const auto& [key, value] : r->settings.items()) {
          if (!other->settings.contains(key) || other->settings.at(key) != value) {
            differing.insert(key);
          }
        }
      }
    }
    for (auto* r : rs) {
      r->label = name;
      std::string sep = " (";
      for (const auto& key : differing) {
        r->label += sep + key + "=" + (r->settings.contains(key) ? r->settings.at(key).dump() : "-");
        sep = ", ";
      }
      if (!differing.empty()) r->label += ")";
    }
  }
}

// A colour per label: the strategy's own for its first label, then a palette.
std::map<std::string, std::string> label_colors(const Comparison& c) {
  static const char* const kPalette[] = {"#ff7f0e", "#9467bd", "#8c564b",
                                         "#e377c2", "#17becf", "#bcbd22"};
  std::map<std::string, std::string> colors;
  std::set<std::string> strategies_used;
  size_t next = 0;
  for (const auto& r : c.runs) {
    if (colors.count(r.label)) continue;
    if (strategies_used.insert(r.strategy).second) {
      colors[r.label] = strategy_color(r.strategy);
    } else {
      colors[r.label] = kPalette[next++ % (sizeof kPalette / sizeof *kPalette)];
    }
  }
  return colors;
}

}  // namespace

RunSummary summarize_run(const db::ExperimentRecord& experiment,
                         const std::vector<db::TrialRecord>& trials, const std::string& source) {
  RunSummary s;
  s.source = source;
  s.experiment = experiment.id;
  s.strategy = experiment.strategy;
  s.seed = experiment.seed;
  const auto config = stored_experiment_from_json(nlohmann::json::parse(experiment.config));
  s.target_ms = config.reward.target_ms;
  // Only the strategy's own settings (to_json of the whole configuration
  // would serialise the space too).
  if (s.strategy == "ppo") {
    s.settings = search::to_json(config.strategy.ppo);
    s.settings.erase("device");
  } else if (s.strategy == "evolution") {
    s.settings = search::to_json(config.strategy.evolution);
  }
  s.trials = static_cast<int64_t>(trials.size());
  const double late_from = std::min(0.8 * static_cast<double>(s.trials), static_cast<double>(s.trials - 1));
  std::vector<double> late;
  s.best_reward = kNaN;
  for (const auto& t : trials) {
    if (t.status != "done" || !t.reward) continue;
    s.rewards.emplace_back(t.index, *t.reward);
    if (t.accuracy && t.latency_ms) s.points.emplace_back(*t.latency_ms, *t.accuracy);
    if (!(s.best_reward >= *t.reward)) s.best_reward = *t.reward;
    if (static_cast<double>(t.index) >= late_from) late.push_back(*t.reward);
  }
  std::sort(s.rewards.begin(), s.rewards.end());
  s.rewarded = static_cast<int64_t>(s.rewards.size());
  s.late_median_reward = median(late);
  s.hypervolume = kNaN;
  return s;
}

Comparison compare_runs(std::vector<RunSummary> runs) {
  if (runs.empty()) throw ConfigError("nothing to compare: give at least one experiment database");
  Comparison c;
  for (const auto& r : runs) {
    if (r.target_ms != runs.front().target_ms) {
      throw ConfigError("'" + r.source + "' targets " + fixed(r.target_ms, 1) + " ms but '" +
                        runs.front().source + "' targets " + fixed(runs.front().target_ms, 1) +
                        " ms: their rewards are not comparable; compare runs of one target");
    }
  }
  c.reference_latency_ms = 2 * runs.front().target_ms;
  std::map<std::string, std::vector<const RunSummary*>> by_strategy;
  for (auto& r : runs) {
    std::vector<search::ParetoPoint> pts;
    for (const auto& [lat, acc] : r.points) pts.push_back({0, acc, lat});
    r.hypervolume = r.points.empty() ? kNaN : search::hypervolume(pts, c.reference_latency_ms);
  }
  c.runs = std::move(runs);
  label_runs(c.runs);
  for (const auto& r : c.runs) by_strategy[r.label].push_back(&r);
  for (const auto& [name, rs] : by_strategy) {
    StrategySummary s;
    s.strategy = name;
    s.runs = static_cast<int>(rs.size());
    std::vector<double> best, late, hv;
    for (const auto* r : rs) best.push_back(r->best_reward), late.push_back(r->late_median_reward),
        hv.push_back(r->hypervolume);
    s.median_best_reward = median(best);
    s.median_late_reward = median(late);
    s.median_hypervolume = median(hv);
    c.strategies.push_back(s);
  }
  return c;
}

std::string format_comparison(const Comparison& c, Format format) {
  std::ostringstream os;
  if (format == Format::kJson) {
    nlohmann::json j{{"reference_latency_ms", c.reference_latency_ms},
                     {"strategies", nlohmann::json::array()},
                     {"runs", nlohmann::json::array()}};
    for (const auto& s : c.strategies) {
      j["strategies"].push_back({{"strategy", s.strategy},
                                 {"runs", s.runs},
                                 {"median_best_reward", number_or_null(s.median_best_reward)},
                                 {"median_late_reward", number_or_null(s.median_late_reward)},
                                 {"median_hypervolume", number_or_null(s.median_hypervolume)}});
    }
    for (const auto& r : c.runs) {
      j["runs"].push_back({{"source", r.source},
                           {"experiment", r.experiment},
                           {"strategy", r.strategy},
                           {"label", r.label},
                           {"settings", r.settings},
                           {"seed", r.seed},
                           {"trials", r.trials},
                           {"rewarded", r.rewarded},
                           {"best_reward", number_or_null(r.best_reward)},
                           {"late_median_reward", number_or_null(r.late_median_reward)},
                           {"hypervolume", number_or_null(r.hypervolume)}});
    }
    os << j.dump(2) << "\n";
  } else if (format == Format::kCsv) {
    os << "source,experiment,strategy,label,seed,trials,rewarded,best_reward,late_median_reward,"
          "hypervolume\n";
    for (const auto& r : c.runs) {
      os << csv_field(r.source) << "," << r.experiment << "," << r.strategy << ","
         << csv_field(r.label) << "," << r.seed << ","
         << r.trials << "," << r.rewarded << "," << fixed(r.best_reward, 6) << ","
         << fixed(r.late_median_reward, 6) << "," << fixed(r.hypervolume, 6) << "\n";
    }
  } else {
    char line[1024];
    // The first column fits the longest label (at least "strategy  ").
    size_t w = 10;
    for (const auto& r : c.runs) w = std::max(w, r.label.size());
    const int width = static_cast<int>(w);
    os << "hypervolume: accuracy-latency front, reference latency " << fixed(c.reference_latency_ms, 1)
       << " ms (2x the target), as mean best accuracy over budgets\n";
    std::snprintf(line, sizeof line, "%-*s %5s %12s %12s %12s\n", width, "strategy", "runs",
                  "best(med)", "late(med)", "hv(med)");
    os << line;
    for (const auto& s : c.strategies) {
      std::snprintf(line, sizeof line, "%-*s %5d %12s %12s %12s\n", width, s.strategy.c_str(), s.runs,
                    fixed(s.median_best_reward, 4).c_str(), fixed(s.median_late_reward, 4).c_str(),
                    fixed(s.median_hypervolume, 4).c_str());
      os << line;
    }
    os << "\n";
    std::snprintf(line, sizeof line, "%-*s %6s %7s %9s %10s %10s %8s  %s\n", width, "strategy",
                  "seed", "trials", "rewarded", "best", "late", "hv", "database");
    os << line;
    for (const auto& r : c.runs) {
      std::snprintf(line, sizeof line, "%-*s %6lld %7lld %9lld %10s %10s %8s  %s\n", width,
                    r.label.c_str(), static_cast<long long>(r.seed),
                    static_cast<long long>(r.trials), static_cast<long long>(r.rewarded),
                    fixed(r.best_reward, 4).c_str(), fixed(r.late_median_reward, 4).c_str(),
                    fixed(r.hypervolume, 4).c_str(), r.source.c_str());
      os << line;
    }
  }
  return os.str();
}

std::string comparison_html(const Comparison& c) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>mnas: strategies compared</title>\n"
          "<style>body{font-family:sans-serif;margin:20px;max-width:1100px}"
          "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;"
          "text-align:right}td.l{text-align:left;font-family:monospace}h2{margin-top:28px}</style>"
          "</head><body>\n<h1>Search strategies compared</h1>\n<p>"
       << c.runs.size() << " runs. Late: median reward of the last 20 % of trials. Hypervolume: "
       << "the mean, over latency budgets up to " << fixed(c.reference_latency_ms, 1)
       << " ms (twice the target), of the best accuracy found within the budget.</p>\n";
  html << "<table><tr><th>strategy</th><th>runs</th><th>median best reward</th>"
          "<th>median late reward</th><th>median hypervolume</th></tr>\n";
  for (const auto& s : c.strategies) {
    html << "<tr><td class='l'>" << html_escape(s.strategy) << "</td><td>" << s.runs << "</td><td>"
         << fixed(s.median_best_reward, 4) << "</td><td>" << fixed(s.median_late_reward, 4)
         << "</td><td>" << fixed(s.median_hypervolume, 4) << "</td></tr>\n";
  }
  html << "</table>\n";
  std::vector<double> xs{0}, ys;
  for (const auto& r : c.runs) {
    xs.push_back(static_cast<double>(std::max<int64_t>(r.trials - 1, 1)));
    for (const auto& p : r.rewards) ys.push_back(p.second);
  }
  Plot p("Learning curves: reward per trial (dots) and mean of the last 20 (lines)", range_of(xs, 0.01),
         range_of(ys), "trial", "reward", 1080, 420);
  std::vector<std::pair<std::string, std::string>> legend;
  const auto colors = label_colors(c);
  for (const auto& r : c.runs) {
    const auto& color = colors.at(r.label);
    for (const auto& [i, reward] : r.rewards) p.dot(static_cast<double>(i), reward, color, 1.5);
    p.polyline(moving_average(r.rewards, 20), color, 2);
  }
  for (const auto& s : c.strategies) legend.emplace_back(colors.at(s.strategy), s.strategy);
  p.legend(legend);
  html << p.finish();
  html << "<h2>Runs</h2>\n<table><tr><th>strategy</th><th>seed</th><th>trials</th><th>rewarded</th>"
          "<th>best</th><th>late</th><th>hypervolume</th><th>database</th></tr>\n";
  for (const auto& r : c.runs) {
    html << "<tr><td class='l'>" << html_escape(r.label) << "</td><td>" << r.seed << "</td><td>"
         << r.trials << "</td><td>" << r.rewarded << "</td><td>" << fixed(r.best_reward, 4)
         << "</td><td>" << fixed(r.late_median_reward, 4) << "</td><td>" << fixed(r.hypervolume, 4)
         << "</td><td class='l'>" << html_escape(r.source) << "</td></tr>\n";
  }
  html << "</table>\n</body></html>\n";
  return html.str();
}

}  // namespace mnas::experiments
