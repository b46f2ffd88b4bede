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

#include "common/rank_correlation.h"
#include "latency/arch_list.h"
#include "latency/measure.h"
#include "latency/onnxruntime_engine.h"
#include "space/block_codec.h"
#include "space/named_archs.h"
#include "space/search_space.h"

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

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "overhead") return overhead(argc > 2 ? std::stoi(argv[2]) : 5);
    if (cmd == "rank" && argc > 2) return rank(std::stoi(argv[2]), argc > 3 ? std::stoull(argv[3]) : 2026);
    std::cerr << "usage: ort_bench overhead [ROUNDS] | ort_bench rank N [SEED]\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ort_bench: " << e.what() << "\n";
    return 1;
  }
}
