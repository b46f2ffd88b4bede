// ONNX Runtime engine figures (issue #20, docs/latency.md):
//
//   ort_bench overhead [ROUNDS]   mnas_latency's `measure --engine onnxruntime
//       mnasnet-b1 --raw` path (latency::measure, raw) against a bare ONNX
//       Runtime loop (node bench/ort_bare_loop.js) on the same exported file,
//       alternating, ROUNDS times (default 5); prints each pair and the
//       median ratio.
//   ort_bench rank N [SEED]       N random architectures of the default space
//       (seed SEED, default 2026) measured interleaved with onednn and with
//       onnxruntime (each normalised by mnasnet-b1 in its own engine); prints
//       both medians per architecture and Kendall's tau between the rankings.
//   ort_bench winners DB [TOP]    would a search's winners change with the
//       deploy runtime? The rewarded trials of the search in DB (rung-0
//       accuracy, what the strategy learned from) are measured at the host
//       geometry (224 px, batch 1, 1 thread) with onednn and onnxruntime,
//       each relative to mnasnet-b1 in its own engine, and ranked by the
//       experiment's reward ACC * (LAT/T)^w with T = B1's latency in that
//       engine, next to the ranking by the DB's own latency (the search's
//       deploy device, e.g. pixel1); then the same with the other reward
//       preset (soft <-> hard) at the same T. Prints the TOP (default 5) of each,
//       their overlaps and Kendall's tau between the three reward rankings
//       and between the three latency rankings. Post hoc: the same sampled
//       architectures; a search that targeted another runtime would also
//       sample differently.
//
// Run from the source root (node finds the package under tools/onnxruntime).
// Timing on a shared host: compare the figures of one run side by side.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rank_correlation.h"
#include "db/database.h"
#include "db/experiment_store.h"
#include "experiments/experiment_config.h"
#include "latency/arch_list.h"
#include "latency/measure.h"
#include "latency/onnxruntime_engine.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "space/search_space.h"
#include "search/reward.h"

using namespace mnas;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bare_loop_ms(const std::string& model, int warmup, int runs) {
  const std::string cmd = "node " + std::string(MNAS_SOURCE_DIR) + "/bench/ort_bare_loop.js " + model + " " +
                          std::to_string(warmup) + " " + std::to_string(runs);
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) throw std::runtime_error("cannot run " + cmd);
  char buf[512] = {0};
  const size_t n = fread(buf, 1, sizeof buf - 1, p.get());
  const std::string out(buf, n);
  const auto at = out.find("\"median_ms\":");
  if (at == std::string::npos) throw std::runtime_error("bare loop printed '" + out + "'");
  return std::stod(out.substr(at + 12));
}

int overhead(int rounds) {
  const auto& b1 = space::named_arch("mnasnet-b1");
  const auto arch = space::decode_arch(b1.block_strings);
  latency::DeployConfig d;
  d.engine = "onnxruntime";
  const auto params = latency::apply_deploy(b1.params, d);
  const std::string file = "/tmp/mnas_ort_bench_b1_" + std::to_string(::getpid()) + ".onnx";
  latency::internal::export_onnx_network(arch, params, 1, file);
  latency::MeasureOptions o;  // mnas_latency measure's defaults, --raw
  o.normalize = false;
  std::vector<double> ratios;
  std::printf("mnasnet-b1 @224, batch 1, 1 thread, raw medians (ms); %d alternating rounds\n", rounds);
  std::printf("%5s %12s %12s %8s\n", "round", "mnas", "bare loop", "ratio");
  for (int r = 0; r < rounds; ++r) {
    const double mnas_ms = latency::measure(arch, params, d, o).median_ms;
    const double bare_ms = bare_loop_ms(file, o.warmup, o.min_runs);
    ratios.push_back(mnas_ms / bare_ms);
    std::printf("%5d %12.3f %12.3f %8.3f\n", r + 1, mnas_ms, bare_ms, ratios.back());
    std::fflush(stdout);
  }
  std::printf("median ratio %.3f (min %.3f, max %.3f)\n", median(ratios),
              *std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end()));
  std::remove(file.c_str());
  return 0;
}

int rank(int n, uint64_t seed) {
  const auto space = space::SearchSpace::mnasnet_default();
  latency::DeployConfig d;
  const auto params = space.global_params(latency::apply_deploy({}, d));
  std::vector<latency::ModelToMeasure> models;
  for (const auto& a : latency::sample_archs(space, n, seed)) models.push_back({a, params});
  latency::MeasureOptions o;
  std::vector<std::vector<double>> ms;
  for (const char* engine : {"onednn", "onnxruntime"}) {
    d.engine = engine;
    std::vector<double> v;
    for (const auto& m : latency::measure_many(models, d, o, latency::kRounds, /*quiet=*/false)) v.push_back(m.median_ms);
    ms.push_back(v);
  }
  std::printf("%4s %10s %12s  %s\n", "#", "onednn", "onnxruntime", "arch");
  for (int i = 0; i < n; ++i) {
    std::printf("%4d %10.3f %12.3f  %s\n", i, ms[0][i], ms[1][i], space::arch_to_string(models[i].arch).c_str());
  }
  std::vector<double> speedup;
  for (int i = 0; i < n; ++i) speedup.push_back(ms[0][i] / ms[1][i]);
  std::printf("Kendall tau (onednn vs onnxruntime rankings, %d archs, seed %llu): %.3f\n", n,
              static_cast<unsigned long long>(seed), mnas::kendall_tau(ms[0], ms[1]));
  // NOTE: each engine's figures are in units of its own reference constant
  // (B1 in that engine, measured in this process), so this is a ratio of
  // relative costs, not of speeds.
  std::printf("onednn / onnxruntime per arch (each in its own B1 units): median %.3f, min %.3f, max %.3f\n",
              median(speedup),
              *std::min_element(speedup.begin(), speedup.end()), *std::max_element(speedup.begin(), speedup.end()));
  return 0;
}

// Indices of `score` best first (ties by index).
std::vector<size_t> best_first(const std::vector<double>& score) {
  std::vector<size_t> order(score.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  return order;
}

int overlap(const std::vector<size_t>& a, const std::vector<size_t>& b, int top) {
  int n = 0;
  for (int i = 0; i < top; ++i)
    for (int j = 0; j < top; ++j) n += a[size_t(i)] == b[size_t(j)];
  return n;
}

int winners(const std::string& path, int top) {
  db::Database database(path, db::Database::Mode::kReadOnly);
  db::ExperimentStore store(database);
  const auto all = store.experiments();
  if (all.empty()) throw std::runtime_error("'" + path + "' holds no experiment");
  const auto& e = all.front();
  const auto config = experiments::stored_experiment_from_json(nlohmann::json::parse(e.config));
  const auto space = space::SearchSpace::mnasnet_default();
  latency::DeployConfig d;  // the host: 224 px, batch 1, 1 thread
  const auto params = space.global_params(latency::apply_deploy({}, d));
  std::vector<db::TrialRecord> trials;
  std::vector<latency::ModelToMeasure> models;
  for (const auto& t : store.trials(e.id)) {
    if (t.status != "done" || !t.accuracy || !t.latency_ms) continue;
    trials.push_back(t);
    models.push_back({space::decode_arch(space::split_block_strings(t.arch)), params});
  }
  const size_t n = trials.size();
  if (n < 2) throw std::runtime_error("'" + path + "' has fewer than 2 rewarded trials");
  top = std::min<int>(top, static_cast<int>(n));
  // Latency per source: the DB's own (the search's deploy device), then each
  // host engine relative to B1 in that engine, times the experiment's target
  // (so T is "as fast as B1" there; with the soft reward T only scales all
  // rewards alike and the rankings do not depend on it).
  std::vector<std::string> names{config.deploy.device.empty() ? "db" : config.deploy.device};
  std::vector<std::vector<double>> lat(1);
  for (const auto& t : trials) lat[0].push_back(*t.latency_ms);
  latency::MeasureOptions o;
  for (const char* engine : {"onednn", "onnxruntime"}) {
    d.engine = engine;
    std::vector<double> v;
    for (const auto& m : latency::measure_many(models, d, o, latency::kRounds, /*quiet=*/false)) {
      v.push_back(m.median_ms / m.reference_ms * config.reward.target_ms);
    }
    names.push_back(engine);
    lat.push_back(v);
  }
  // The experiment's reward, then the other preset (soft <-> hard) at the
  // same T: the soft exponent (-0.07) damps latency, the hard one does not.
  auto other = config.reward;
  other.kind = config.reward.kind == search::RewardKind::kHard ? search::RewardKind::kSoft : search::RewardKind::kHard;
  other = search::with_preset(other, other.kind);
  for (const auto& rc : {config.reward, other}) {
    std::vector<std::vector<double>> reward(lat.size());
    for (size_t s = 0; s < lat.size(); ++s)
      for (size_t i = 0; i < n; ++i) reward[s].push_back(search::reward(*trials[i].accuracy, lat[s][i], rc));
    std::printf("\n%s: %zu rewarded trials; reward %s%s, T %.1f ms; host engines relative to mnasnet-b1 in "
                "each (T = B1's latency there)\n",
                path.c_str(), n, search::to_string(rc.kind), rc.kind == config.reward.kind ? " (the search's)" : "",
                rc.target_ms);
    std::vector<std::vector<size_t>> order;
    for (const auto& r : reward) order.push_back(best_first(r));
    for (size_t s = 0; s < lat.size(); ++s) {
      std::printf("top %d by reward with %s latency:\n%6s %8s", top, names[s].c_str(), "trial", "top1");
      for (const auto& name : names) std::printf(" %12s", name.c_str());
      std::printf(" %8s\n", "reward");
      for (int k = 0; k < top; ++k) {
        const size_t i = order[s][size_t(k)];
        std::printf("%6lld %8.4f", static_cast<long long>(trials[i].index), *trials[i].accuracy);
        for (size_t u = 0; u < lat.size(); ++u) std::printf(" %12.2f", lat[u][i]);
        std::printf(" %8.4f\n", reward[s][i]);
      }
    }
    for (size_t a = 0; a < lat.size(); ++a)
      for (size_t b = a + 1; b < lat.size(); ++b) {
        std::printf("%s vs %s: top-%d overlap %d, top-1 %s; Kendall tau of rewards %.3f, of latencies %.3f\n",
                    names[a].c_str(), names[b].c_str(), top, overlap(order[a], order[b], top),
                    order[a][0] == order[b][0] ? "same" : "differs", mnas::kendall_tau(reward[a], reward[b]),
                    mnas::kendall_tau(lat[a], lat[b]));
      }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "overhead") return overhead(argc > 2 ? std::stoi(argv[2]) : 5);
    if (cmd == "rank" && argc > 2) return rank(std::stoi(argv[2]), argc > 3 ? std::stoull(argv[3]) : 2026);
    if (cmd == "winners" && argc > 2) return winners(argv[2], argc > 3 ? std::stoi(argv[3]) : 5);
    std::cerr << "usage: ort_bench overhead [ROUNDS] | ort_bench rank N [SEED] | ort_bench winners DB [TOP]\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ort_bench: " << e.what() << "\n";
    return 1;
  }
}
