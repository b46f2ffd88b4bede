#include "experiments/html_report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>

#include "db/final_store.h"
#include "experiments/experiment_config.h"
#include "experiments/final_report.h"
#include "experiments/report.h"
#include "experiments/svg_plot.h"
#include "space/search_space.h"

namespace mnas::experiments {
namespace {

std::string num(const std::optional<double>& v, int precision) { return fixed_or_empty(v, precision); }

}  // namespace

std::string html_report(db::ExperimentStore& store, const db::ExperimentRecord& e) {
  const auto config = stored_experiment_from_json(nlohmann::json::parse(e.config));
  // Rung-0 results (every trial has one; the strategy's rewards) for the
  // learning curves; each trial at its highest finished rung for the
  // accuracy-latency plot, the best trials and the front, which rank by rung
  // first (a longer training beats any shorter one) and say the rung.
  const auto trials = store.trials(e.id);
  const auto ranked = trials_at_highest_rung(store, e.id);
  const auto updates = store.update_log(e.id);
  std::vector<db::TrialRecord> done, ranked_done;
  for (const auto& t : trials) {
    if (t.status == "done" && t.accuracy && t.latency_ms && t.reward) done.push_back(t);
  }
  int top_rung = 0;
  for (const auto& t : ranked) {
    if (t.status == "done" && t.accuracy && t.latency_ms && t.reward) ranked_done.push_back(t);
    top_rung = std::max(top_rung, t.rung);
  }
  const auto front = pareto_trials(ranked);
  const auto best = best_trials(ranked, 10);
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
       << config.seed << "</p>\n<p>latency: " << html_escape(latency_description(e)) << "</p>\n";
  // The final stage (trained found models vs baselines) first: it is the outcome.
  {
    db::FinalStore final_store(store.database());
    html << final_html_section(final_store.models(e.id));
  }
  if (done.empty()) {
    html << "<p>No successful trial yet.</p></body></html>\n";
    return html.str();
  }

  // 1. accuracy vs latency.
  {
    std::vector<double> xs, ys;
    for (const auto& t : ranked_done) xs.push_back(*t.latency_ms), ys.push_back(*t.accuracy);
    xs.push_back(config.reward.target_ms);
    Plot p(top_rung > 0 ? "Accuracy vs latency (each trial at its highest rung; larger = higher rung; "
                          "darker = later)"
                        : "Accuracy vs latency (all successful trials; darker = later)",
           range_of(xs), range_of(ys), "latency (ms)", "accuracy", 1080, 420);
    for (const auto& t : ranked_done) {
      p.dot(*t.latency_ms, *t.accuracy, trial_color(t.index, n), 3 + 1.5 * t.rung,
            "trial " + std::to_string(t.index) + " (rung " + std::to_string(t.rung) + "): acc " +
                num(t.accuracy, 4) + ", " + num(t.latency_ms, 1) + " ms, reward " + num(t.reward, 4));
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
    Plot p(top_rung > 0 ? "Reward per trial at rung 0 (what the strategy learned from) and best so far"
                        : "Reward per trial and best so far",
           range_of(xs, 0.01), range_of(ys), "trial", "reward");
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
    html << "<h2>" << html_escape(title) << "</h2>\n<table><tr><th>trial</th><th>rung</th><th>reward</th>"
            "<th>accuracy</th><th>latency ms</th><th>params</th><th>MMACs</th><th>block strings"
            "</th></tr>\n";
    for (const auto& t : rows) {
      html << "<tr><td>" << t.index << "</td><td>" << t.rung << "</td><td>" << num(t.reward, 4) << "</td><td>"
           << num(t.accuracy, 4) << "</td><td>" << num(t.latency_ms, 2) << "</td><td>"
           << (t.params ? num(static_cast<double>(*t.params) / 1e6, 2) + "M" : "") << "</td><td>"
           << (t.macs ? num(static_cast<double>(*t.macs) / 1e6, 0) : "") << "</td><td class='l'>"
           << html_escape(t.arch) << "</td></tr>\n";
    }
    html << "</table>\n";
  };
  table(top_rung > 0 ? "Top trials (by rung, then reward)" : "Top trials by reward", best);
  table(top_rung > 0 ? "Pareto front (each trial at its highest rung)" : "Pareto front", front);
  html << "</body></html>\n";
  return html.str();
}


}  // namespace mnas::experiments
