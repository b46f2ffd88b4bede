#include "experiments/final_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

#include "experiments/svg_plot.h"
#include "space/block_codec.h"

namespace mnas::experiments {
namespace {

std::optional<double> latency_of(const db::FinalRecord& r, LatencyAxis axis) {
  return axis == LatencyAxis::kDevice ? r.device_ms : r.host_ms;
}

std::string num(const std::optional<double>& v, int precision) { return fixed_or_empty(v, precision); }

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json opt(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// Found models first (by id), then baselines by device latency.
std::vector<db::FinalRecord> ordered(std::vector<db::FinalRecord> rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.key.kind != b.key.kind) return a.key.kind == "found";
    if (a.key.kind == "found") return a.id < b.id;
    return a.device_ms.value_or(1e300) < b.device_ms.value_or(1e300);
  });
  return rows;
}

// The size of a file; null when there is none (not exported, or moved).
nlohmann::json file_bytes(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return nullptr;
  const auto n = std::filesystem::file_size(path, ec);
  if (ec) return nullptr;
  return static_cast<int64_t>(n);
}

// The int8 file the final stage writes beside a float export
// ("model.onnx" -> "model.int8.onnx"); "" when there is none.
std::string int8_sibling(const std::string& path) {
  if (path.empty()) return "";
  std::filesystem::path p(path);
  const std::string ext = p.extension().string();
  p.replace_extension(".int8" + ext);
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) ? p.string() : "";
}

// "model.onnx (10.42 MB)" for the HTML table.
std::string file_with_size(const std::string& path) {
  if (path.empty()) return "";
  const auto n = file_bytes(path);
  if (n.is_null()) return path + " (missing)";
  return path + " (" + fixed_or_empty(static_cast<double>(n.get<int64_t>()) / 1e6, 2) + " MB)";
}

std::string short_arch(const db::FinalRecord& r) {
  return r.key.kind == "found" ? arch_summary(r.key.arch) : r.key.arch;
}

}  // namespace

std::vector<std::pair<double, double>> mobilenet_v2_curve(const std::vector<db::FinalRecord>& rows,
                                                          LatencyAxis axis) {
  // multiplier -> (sum latency, sum top-1, n)
  std::map<double, std::tuple<double, double, int>> by_mult;
  for (const auto& r : rows) {
    const auto lat = latency_of(r, axis);
    if (r.key.kind != "baseline" || r.key.arch != "mobilenet-v2" || !r.test_top1 || !lat) continue;
    if (r.status != "done" && r.status != "trained") continue;
    auto& [l, a, n] = by_mult[r.key.depth_multiplier];
    l += *lat;
    a += *r.test_top1;
    ++n;
  }
  std::vector<std::pair<double, double>> curve;
  for (const auto& [m, s] : by_mult) {
    const auto& [l, a, n] = s;
    curve.emplace_back(l / n, a / n);
  }
  std::sort(curve.begin(), curve.end());
  return curve;
}

std::optional<double> curve_top1_at(const std::vector<std::pair<double, double>>& curve,
                                    double x) {
  if (curve.size() < 2 || !std::isfinite(x) || x < curve.front().first || x > curve.back().first) {
    return std::nullopt;
  }
  for (size_t i = 1; i < curve.size(); ++i) {
    const auto& [x0, y0] = curve[i - 1];
    const auto& [x1, y1] = curve[i];
    if (x <= x1) {
      if (x1 == x0) return std::max(y0, y1);
      return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
  }
  return curve.back().second;
}

std::optional<double> margin_over_mobilenet_v2(const db::FinalRecord& row,
                                               const std::vector<db::FinalRecord>& rows,
                                               LatencyAxis axis) {
  const auto lat = latency_of(row, axis);
  if (!lat || !row.test_top1) return std::nullopt;
  const auto at = curve_top1_at(mobilenet_v2_curve(rows, axis), *lat);
  if (!at) return std::nullopt;
  return *row.test_top1 - *at;
}

nlohmann::json final_to_json(const db::FinalRecord& r, const std::vector<db::FinalRecord>& rows) {
  nlohmann::json j = {
      {"id", r.id},
      {"name", r.name},
      {"kind", r.key.kind},
      {"arch", r.key.arch},
      {"depth_multiplier", r.key.depth_multiplier},
      {"seed", r.key.seed},
      {"status", r.status},
      {"test_top1", opt(r.test_top1)},
      {"test_top5", opt(r.test_top5)},
      {"test_loss", opt(r.test_loss)},
      {"device_ms", opt(r.device_ms)},
      {"device", r.device},
      {"host_ms", opt(r.host_ms)},
      {"host_engine", r.host_engine},
      {"params", opt(r.params)},
      {"macs", opt(r.macs)},
      {"train_seconds", opt(r.train_seconds)},
      {"trial", opt(r.trial_index)},
      {"proxy_accuracy", opt(r.proxy_accuracy)},
      {"search_reward", opt(r.search_reward)},
      {"recipe_key", r.key.recipe_key},
      {"files", {{"checkpoint", r.checkpoint}, {"onnx", r.onnx}, {"torchscript", r.torchscript},
                 {"tflite", r.tflite}, {"onnx_int8", int8_sibling(r.onnx)},
                 {"tflite_int8", int8_sibling(r.tflite)}}},
      {"file_bytes", {{"checkpoint", file_bytes(r.checkpoint)}, {"onnx", file_bytes(r.onnx)},
                      {"torchscript", file_bytes(r.torchscript)}, {"tflite", file_bytes(r.tflite)},
                      {"onnx_int8", file_bytes(int8_sibling(r.onnx))},
                      {"tflite_int8", file_bytes(int8_sibling(r.tflite))}}},
      {"reused_from", r.reused_from},
      {"message", r.message}};
  if (r.key.kind == "found") {
    j["arch"] = space::split_block_strings(r.key.arch);  // as the trial listings write it
    j["margin_vs_mobilenet_v2"] = {
        {"device", opt(margin_over_mobilenet_v2(r, rows, LatencyAxis::kDevice))},
        {"host", opt(margin_over_mobilenet_v2(r, rows, LatencyAxis::kHost))}};
  }
  return j;
}

std::string format_final(const std::vector<db::FinalRecord>& all, Format format) {
  const auto rows = ordered(all);
  std::ostringstream os;
  if (format == Format::kJson) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows) j.push_back(final_to_json(r, all));
    os << j.dump(2) << "\n";
    return os.str();
  }
  if (format == Format::kCsv) {
    os << "id,name,kind,status,seed,test_top1,test_top5,device_ms,host_ms,params,macs,"
          "train_seconds,margin_device,margin_host,checkpoint,onnx,torchscript,tflite,arch,message\n";
    for (const auto& r : rows) {
      const bool found = r.key.kind == "found";
      os << r.id << "," << csv_field(r.name) << "," << r.key.kind << "," << r.status << ","
         << r.key.seed << "," << num(r.test_top1, 6) << "," << num(r.test_top5, 6) << ","
         << num(r.device_ms, 4) << "," << num(r.host_ms, 4) << ","
         << (r.params ? std::to_string(*r.params) : "") << ","
         << (r.macs ? std::to_string(*r.macs) : "") << "," << num(r.train_seconds, 1) << ","
         << (found ? num(margin_over_mobilenet_v2(r, all, LatencyAxis::kDevice), 6) : "") << ","
         << (found ? num(margin_over_mobilenet_v2(r, all, LatencyAxis::kHost), 6) : "") << ","
         << csv_field(r.checkpoint) << "," << csv_field(r.onnx) << "," << csv_field(r.torchscript)
         << "," << csv_field(r.tflite) << "," << csv_field(r.key.arch) << "," << csv_field(r.message) << "\n";
    }
    return os.str();
  }
  os << std::left << std::setw(20) << "model" << std::setw(9) << "status" << std::right
     << std::setw(5) << "seed" << std::setw(8) << "top1" << std::setw(10) << "dev_ms"
     << std::setw(9) << "host_ms" << std::setw(8) << "params" << std::setw(7) << "MMACs"
     << std::setw(9) << "vs_MBV2" << "  arch\n";
  for (const auto& r : rows) {
    std::optional<double> margin;
    if (r.key.kind == "found") margin = margin_over_mobilenet_v2(r, all, LatencyAxis::kDevice);
    os << std::left << std::setw(20) << r.name.substr(0, 19) << std::setw(9) << r.status
       << std::right << std::setw(5) << r.key.seed << std::setw(8) << num(r.test_top1, 4)
       << std::setw(10) << num(r.device_ms, 1) << std::setw(9) << num(r.host_ms, 2)
       << std::setw(8) << (r.params ? num(static_cast<double>(*r.params) / 1e6, 2) + "M" : "")
       << std::setw(7) << (r.macs ? num(static_cast<double>(*r.macs) / 1e6, 0) : "")
       << std::setw(9) << (margin ? (*margin >= 0 ? "+" : "") + num(*margin * 100, 2) : "")
       << "  " << short_arch(r);
    if (!r.message.empty()) os << "  (" << r.message << ")";
    os << "\n";
  }
  // Seed spread of architectures trained with several seeds.
  std::map<std::string, std::vector<double>> by_arch;
  std::map<std::string, std::string> names;
  for (const auto& r : rows) {
    if (!r.test_top1) continue;
    const std::string k = r.key.kind + "|" + r.key.arch + "|" + std::to_string(r.key.depth_multiplier);
    by_arch[k].push_back(*r.test_top1);
    names.emplace(k, r.name);
  }
  for (const auto& [k, v] : by_arch) {
    if (v.size() < 2) continue;
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    const double sd = std::sqrt(var / static_cast<double>(v.size() - 1));
    os << "seed spread of " << names[k] << ": " << v.size() << " seeds, test top-1 mean "
       << num(mean, 4) << ", std " << num(sd, 4) << " (" << num(sd * 100, 2) << " points)\n";
  }
  if (!rows.empty()) {
    os << "vs_MBV2: test top-1 points above the MobileNetV2 multiplier curve at the same deploy-"
          "device latency (linear between its points; empty outside it)\n";
  }
  return os.str();
}

std::string final_html_section(const std::vector<db::FinalRecord>& all) {
  if (all.empty()) return "";
  const auto rows = ordered(all);
  std::ostringstream html;
  html << "<h2>Final stage: found models vs hand-designed baselines</h2>\n<p>Each model trained "
          "with the final recipe (recipe "
       << html_escape(rows.front().key.recipe_key) << ") and evaluated on the test split. "
       << "Deploy-device latency: " << html_escape(rows.front().device) << ".</p>\n";
  for (const auto axis : {LatencyAxis::kDevice, LatencyAxis::kHost}) {
    std::vector<double> xs, ys;
    for (const auto& r : rows) {
      const auto lat = latency_of(r, axis);
      if (lat && r.test_top1) xs.push_back(*lat), ys.push_back(*r.test_top1);
    }
    if (xs.empty()) continue;
    const bool dev = axis == LatencyAxis::kDevice;
    Plot p(dev ? "Test accuracy vs deploy-device latency" : "Test accuracy vs host latency (measured)",
           range_of(xs, 0.08), range_of(ys, 0.08),
           dev ? "deploy-device latency (ms)" : "host latency (ms, CPU, 1 thread)", "test top-1",
           1080, 420);
    p.polyline(mobilenet_v2_curve(all, axis), "#7f7f7f", 2, "5,4");
    for (const auto& r : rows) {
      const auto lat = latency_of(r, axis);
      if (!lat || !r.test_top1) continue;
      const bool found = r.key.kind == "found";
      const bool mbv2 = r.key.arch == "mobilenet-v2";
      const std::string color = found ? "#d62728" : mbv2 ? "#7f7f7f" : "#1f77b4";
      const std::string label =
          found ? r.name + (r.key.seed != 0 ? " s" + std::to_string(r.key.seed) : "")
          : mbv2 ? "x" + r.name.substr(r.name.find(" x") + 2)
                 : r.name;
      p.dot(*lat, *r.test_top1, color, found ? 6 : 4.5,
            r.name + " (seed " + std::to_string(r.key.seed) + "): top-1 " + num(r.test_top1, 4) +
                ", " + num(lat, 2) + " ms");
      p.text(*lat, *r.test_top1, label, color);
    }
    p.legend({{"#d62728", "found by the search"},
              {"#7f7f7f", "MobileNetV2 (depth multipliers)"},
              {"#1f77b4", "MnasNet models"}});
    html << p.finish();
  }
  html << "<table><tr><th>model</th><th>kind</th><th>status</th><th>seed</th><th>test top-1</th>"
          "<th>device ms</th><th>host ms</th><th>params</th><th>MMACs</th>"
          "<th>vs MobileNetV2 (points)</th><th>files</th><th>block strings</th></tr>\n";
  for (const auto& r : rows) {
    std::optional<double> margin;
    if (r.key.kind == "found") margin = margin_over_mobilenet_v2(r, all, LatencyAxis::kDevice);
    html << "<tr><td class='l'>" << html_escape(r.name) << "</td><td>" << r.key.kind
         << "</td><td>" << html_escape(r.status) << "</td><td>" << r.key.seed << "</td><td>"
         << num(r.test_top1, 4) << "</td><td>" << num(r.device_ms, 2) << "</td><td>"
         << num(r.host_ms, 2) << "</td><td>"
         << (r.params ? num(static_cast<double>(*r.params) / 1e6, 2) + "M" : "") << "</td><td>"
         << (r.macs ? num(static_cast<double>(*r.macs) / 1e6, 0) : "") << "</td><td>"
         << (margin ? num(*margin * 100, 2) : "") << "</td><td class='l'>"
         << html_escape(file_with_size(r.checkpoint)) << "<br>" << html_escape(file_with_size(r.onnx))
         << "<br>" << html_escape(file_with_size(r.torchscript)) << "<br>"
         << html_escape(file_with_size(r.tflite));
    for (const std::string& q : {int8_sibling(r.onnx), int8_sibling(r.tflite)}) {
      if (!q.empty()) html << "<br>" << html_escape(file_with_size(q));
    }
    html << "</td><td class='l'>" << html_escape(r.key.arch)
         << (r.message.empty() ? "" : "<br>(" + html_escape(r.message) + ")") << "</td></tr>\n";
  }
  html << "</table>\n";
  return html.str();
}

}  // namespace mnas::experiments
