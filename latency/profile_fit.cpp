#include "latency/profile_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "common/error.h"
#include "common/json_file.h"
#include "latency/json_fields.h"
#include "space/block_codec.h"
#include "space/named_archs.h"

namespace mnas::latency {
namespace {

constexpr const char* kFormat = "mnas-latency-measurements";
constexpr int kVersion = 1;

using Matrix = std::vector<std::vector<double>>;  // by rows

// ---------------------------------------------------------------- solver --

// Least squares on the columns `cols` of `a` (m x n): Householder QR, then
// back substitution. Returns a full-length vector, 0 outside `cols`;
// a column that is (numerically) dependent on earlier ones gets 0.
std::vector<double> least_squares(const Matrix& a, const std::vector<double>& b,
                                  const std::vector<int>& cols, size_t n) {
  const size_t m = a.size(), k = cols.size();
  std::vector<std::vector<double>> r(k, std::vector<double>(m));  // column-major copy
  for (size_t j = 0; j < k; ++j) {
    for (size_t i = 0; i < m; ++i) r[j][i] = a[i][static_cast<size_t>(cols[j])];
  }
  std::vector<double> y = b;
  const size_t steps = std::min(k, m);
  for (size_t j = 0; j < steps; ++j) {
    double norm = 0.0;
    for (size_t i = j; i < m; ++i) norm += r[j][i] * r[j][i];
    norm = std::sqrt(norm);
    if (norm == 0.0) continue;
    const double alpha = r[j][j] > 0.0 ? -norm : norm;
    std::vector<double> v(r[j].begin() + static_cast<long>(j), r[j].end());
    v[0] -= alpha;
    double vv = 0.0;
    for (double e : v) vv += e * e;
    if (vv == 0.0) continue;
    auto reflect = [&](std::vector<double>& col) {
      double s = 0.0;
      for (size_t i = j; i < m; ++i) s += v[i - j] * col[i];
      s *= 2.0 / vv;
      for (size_t i = j; i < m; ++i) col[i] -= s * v[i - j];
    };
    for (size_t c = j; c < k; ++c) reflect(r[c]);
    reflect(y);
  }
  double max_diag = 0.0;
  for (size_t j = 0; j < steps; ++j) max_diag = std::max(max_diag, std::abs(r[j][j]));
  std::vector<double> z(k, 0.0);
  for (size_t jj = steps; jj-- > 0;) {
    if (std::abs(r[jj][jj]) <= 1e-12 * max_diag) continue;  // dependent column: 0
    double s = y[jj];
    for (size_t c = jj + 1; c < k; ++c) s -= r[c][jj] * z[c];
    z[jj] = s / r[jj][jj];
  }
  std::vector<double> x(n, 0.0);
  for (size_t j = 0; j < k; ++j) x[static_cast<size_t>(cols[j])] = z[j];
  return x;
}

}  // namespace

std::vector<double> nnls(const Matrix& rows, const std::vector<double>& b) {
  if (rows.size() != b.size()) throw ConfigError("nnls: rows and right-hand side differ in length");
  if (rows.empty()) return {};
  const size_t n = rows[0].size(), m = rows.size();
  for (const auto& r : rows) {
    if (r.size() != n) throw ConfigError("nnls: rows should all have the same length");
  }
  // Scale columns to unit norm (x >= 0 is invariant under positive scaling).
  std::vector<double> scale(n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < m; ++i) scale[j] += rows[i][j] * rows[i][j];
    scale[j] = std::sqrt(scale[j]);
  }
  Matrix a(m, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) a[i][j] = scale[j] > 0.0 ? rows[i][j] / scale[j] : 0.0;
  }
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  auto gradient = [&] {
    std::vector<double> res = b;
    for (size_t i = 0; i < m; ++i) {
      for (size_t j = 0; j < n; ++j) res[i] -= a[i][j] * x[j];
    }
    std::vector<double> w(n, 0.0);
    for (size_t j = 0; j < n; ++j) {
      for (size_t i = 0; i < m; ++i) w[j] += a[i][j] * res[i];
    }
    return w;
  };
  double bnorm = 0.0;
  for (double v : b) bnorm = std::max(bnorm, std::abs(v));
  const double tol = 1e-10 * std::max(1.0, bnorm) * static_cast<double>(m);
  // Lawson-Hanson terminates in finitely many steps; the caps only guard
  // against cycling on round-off (never reached on the problems here).
  for (size_t outer = 0; outer < 30 * n + 30; ++outer) {
    const std::vector<double> w = gradient();
    int best = -1;
    for (size_t j = 0; j < n; ++j) {
      if (!passive[j] && scale[j] > 0.0 && w[j] > tol && (best < 0 || w[j] > w[static_cast<size_t>(best)])) {
        best = static_cast<int>(j);
      }
    }
    if (best < 0) break;
    passive[static_cast<size_t>(best)] = true;
    for (size_t inner = 0; inner < 30 * n + 30; ++inner) {
      std::vector<int> cols;
      for (size_t j = 0; j < n; ++j) {
        if (passive[j]) cols.push_back(static_cast<int>(j));
      }
      const std::vector<double> z = least_squares(a, b, cols, n);
      bool feasible = true;
      for (int j : cols) feasible = feasible && z[static_cast<size_t>(j)] > 0.0;
      if (feasible) {
        x = z;
        break;
      }
      // Step from x towards z until the first passive coefficient hits 0.
      double alpha = 1.0;
      for (int j : cols) {
        const auto u = static_cast<size_t>(j);
        if (z[u] <= 0.0) alpha = std::min(alpha, x[u] / (x[u] - z[u]));
      }
      for (size_t j = 0; j < n; ++j) x[j] += alpha * (z[j] - x[j]);
      for (int j : cols) {
        const auto u = static_cast<size_t>(j);
        if (x[u] <= 1e-15) x[u] = 0.0, passive[u] = false;
      }
    }
  }
  for (size_t j = 0; j < n; ++j) x[j] = scale[j] > 0.0 ? x[j] / scale[j] : 0.0;
  return x;
}

// ------------------------------------------------------- measurement file --

namespace {

int block_width(JsonFields& o, const char* key) { return o.integer(key, 1); }

// Appends the layers of one layer item ({"block"...}, {"stem"...}, ...).
void layer_item(const nlohmann::json& j, const std::string& what, const std::string& path,
                std::vector<space::LayerSpec>& out) {
  JsonFields o(j, what, path);
  space::GlobalParams p;  // no multiplier: widths exactly as written
  if (o.has("block")) {
    const std::string s = o.string("block");
    const int hw = block_width(o, "input_hw");
    space::BlockArgs b;
    try {
      b = space::decode_block(s);
    } catch (const Error& e) {
      throw ConfigError(what + ": " + path + ".block: " + e.what());
    }
    int channels = b.input_filters, h = hw, w = hw;
    for (int r = 0; r < b.num_repeat; ++r) {
      const int in_filters = r == 0 ? b.input_filters : b.output_filters;
      out.push_back(space::block_layer(b, 0, r, channels, in_filters, b.output_filters, h, w));
      channels = out.back().out_channels, h = out.back().out_h, w = out.back().out_w;
    }
    o.finish("block, input_hw");
  } else if (o.has("stem")) {
    p.stem_size = o.integer("stem", 1);
    p.image_size = o.integer("image_size", 1);
    out.push_back(space::stem_layer(p));
    o.finish("stem, image_size");
  } else if (o.has("head")) {
    p.head_size = o.integer("head", 1);
    const int in = o.integer("in_channels", 1), hw = o.integer("input_hw", 1);
    out.push_back(space::head_layer(in, hw, hw, p));
    o.finish("head, in_channels, input_hw");
  } else if (o.has("classifier")) {
    p.num_classes = o.integer("classifier", 1);
    p.head_size = o.integer("in_channels", 1);
    const int hw = o.integer("input_hw", 1);
    out.push_back(space::classifier_layer(hw, hw, p));
    o.finish("classifier, in_channels, input_hw");
  } else {
    throw ConfigError(what + ": " + path + " should have one of the keys block, stem, head, classifier");
  }
}

std::string source_of(JsonFields& o, const std::map<std::string, std::string>& sources) {
  const std::string s = o.string("source");
  if (!sources.count(s)) {
    std::string known;
    for (const auto& [k, v] : sources) known += (known.empty() ? "" : ", ") + k;
    o.fail("source", "a key of \"sources\" (" + known + ")");
  }
  return s;
}

NetworkPoint network_point(const nlohmann::json& j, const std::string& what, const std::string& path,
                           const std::map<std::string, std::string>& sources) {
  JsonFields o(j, what, path);
  NetworkPoint pt;
  pt.name = o.string("name");
  pt.source = source_of(o, sources);
  pt.ms = o.positive("ms");
  pt.role = o.string_or("role", "fit");
  if (pt.role != "fit" && pt.role != "check") o.fail("role", "\"fit\" or \"check\"");
  pt.note = o.string_or("note", "");
  space::GlobalParams p;
  std::vector<std::string> blocks;
  if (o.has("model") == o.has("blocks")) {
    throw ConfigError(what + ": " + path + " should have exactly one of 'model' and 'blocks'");
  }
  if (o.has("model")) {
    const std::string model = o.string("model");
    if (!space::is_named_arch(model)) {
      std::string known;
      for (const auto& n : space::named_arch_names()) known += (known.empty() ? "" : ", ") + n;
      o.fail("model", "a model name (" + known + ")");
    }
    blocks = space::named_arch(model).block_strings;
    p = space::named_arch(model).params;
  } else {
    const auto& v = o.value("blocks", "an array of block strings");
    if (!v.is_array() || v.empty()) o.fail("blocks", "a non-empty array of block strings");
    for (const auto& s : v) {
      if (!s.is_string()) o.fail("blocks", "a non-empty array of block strings");
      blocks.push_back(s.get<std::string>());
    }
  }
  if (o.has("image_size")) p.image_size = o.integer("image_size", 1);
  if (o.has("depth_multiplier")) p.depth_multiplier = o.positive("depth_multiplier");
  if (o.has("stem_size")) p.stem_size = o.integer("stem_size", 1);
  bool head = true;
  if (o.has("head_size")) {
    const int h = o.integer("head_size", 0);
    if (h == 0) head = false;
    else p.head_size = h;
  }
  o.finish("name, source, ms, role, note, model, blocks, image_size, depth_multiplier, stem_size, "
           "head_size");
  try {
    pt.layers = space::expand_layers(space::decode_arch(blocks), p);
  } catch (const Error& e) {
    throw ConfigError(what + ": " + path + " ('" + pt.name + "'): " + e.what());
  }
  if (!head) {
    // No head conv (MobileNetV1): the classifier pools the last block.
    auto it = std::find_if(pt.layers.begin(), pt.layers.end(), [](const space::LayerSpec& l) {
      return l.kind == space::LayerKind::kHead;
    });
    const int channels = it->in_channels;
    pt.layers.erase(it);
    pt.layers.back().in_channels = pt.layers.back().in_filters_declared = channels;
  }
  return pt;
}

}  // namespace

Measurements measurements_from_json(const nlohmann::json& j, const std::string& what) {
  JsonFields o(j, what, "");
  if (o.string("format") != kFormat) o.fail("format", std::string("\"") + kFormat + "\"");
  if (o.integer("version", 0) != kVersion) o.fail("version", std::to_string(kVersion));
  Measurements m;
  m.device = o.string("device");
  m.description = o.string("description");
  {
    const auto& s = o.value("sources", "an object of source citations");
    if (!s.is_object() || s.empty()) o.fail("sources", "a non-empty object of source citations");
    for (const auto& [k, v] : s.items()) {
      if (!v.is_string()) {
        throw ConfigError(what + ": sources." + k + " should be a string, got " + json_excerpt(v));
      }
      m.sources[k] = v.get<std::string>();
    }
  }
  std::set<std::string> names;
  auto unique = [&](const std::string& name, const std::string& path) {
    if (!names.insert(name).second) throw ConfigError(what + ": " + path + ": duplicate point name '" + name + "'");
  };
  if (o.has("layer_points")) {
    const auto& pts = o.value("layer_points", "an array");
    if (!pts.is_array()) o.fail("layer_points", "an array of layer points");
    for (size_t i = 0; i < pts.size(); ++i) {
      const std::string path = "layer_points[" + std::to_string(i) + "]";
      JsonFields q(pts[i], what, path);
      LayerPoint pt;
      pt.name = q.string("name");
      unique(pt.name, path);
      pt.source = source_of(q, m.sources);
      pt.ms = q.positive("ms");
      const auto& items = q.value("layers", "an array of layer items");
      if (!items.is_array() || items.empty()) q.fail("layers", "a non-empty array of layer items");
      for (size_t k = 0; k < items.size(); ++k) {
        layer_item(items[k], what, path + ".layers[" + std::to_string(k) + "]", pt.layers);
      }
      q.finish("name, source, ms, layers");
      m.layer_points.push_back(std::move(pt));
    }
  }
  if (o.has("network_points")) {
    const auto& pts = o.value("network_points", "an array");
    if (!pts.is_array()) o.fail("network_points", "an array of network points");
    for (size_t i = 0; i < pts.size(); ++i) {
      const std::string path = "network_points[" + std::to_string(i) + "]";
      m.network_points.push_back(network_point(pts[i], what, path, m.sources));
      unique(m.network_points.back().name, path);
    }
  }
  o.finish("format, version, device, description, sources, layer_points, network_points");
  if (m.layer_points.empty() && m.network_points.empty()) {
    throw ConfigError(what + ": no layer_points and no network_points: nothing to fit");
  }
  return m;
}

Measurements read_measurements_file(const std::string& path) {
  const std::string what = "measurements '" + path + "'";
  return measurements_from_json(load_json_file(path, what), what);
}

// ------------------------------------------------------- latency tables --

namespace {

// Splits "a:b:c" at ':'.
std::vector<std::string> split_colon(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(':', start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// A whole decimal in 0..1e6 after `prefix`, or -1.
int key_int(const std::string& field, const std::string& prefix) {
  if (field.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = field.substr(prefix.size());
  if (digits.empty() || digits.size() > 7 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  return std::stoi(digits);
}

}  // namespace

space::LayerSpec layer_from_key(const std::string& key) {
  auto bad = [&](const std::string& what) -> void {
    throw ParseError("layer key '" + key.substr(0, 200) + "': " + what +
                     " (expected e.g. block:mbconv:k3:s22:e6:f96:se0:none:112x112x16:o24)");
  };
  const std::vector<std::string> f = split_colon(key);
  space::LayerSpec l;
  size_t i = 0;
  const std::string kind = f[i++];
  if (kind == "stem") l.kind = space::LayerKind::kStem;
  else if (kind == "block") l.kind = space::LayerKind::kBlock;
  else if (kind == "head") l.kind = space::LayerKind::kHead;
  else if (kind == "classifier") l.kind = space::LayerKind::kClassifier;
  else bad("unknown kind '" + kind + "'");
  const size_t want = l.kind == space::LayerKind::kBlock ? 10 : l.kind == space::LayerKind::kClassifier ? 3 : 5;
  if (f.size() != want) bad("expected " + std::to_string(want) + " ':'-separated fields");
  l.skip = space::SkipOp::kNone;
  if (l.kind == space::LayerKind::kBlock) {
    const std::string op = f[i++];
    if (op == "mbconv") l.op = space::ConvOp::kMBConv;
    else if (op == "sepconv") l.op = space::ConvOp::kSepConv;
    else if (op == "conv") l.op = space::ConvOp::kConv;
    else bad("unknown op '" + op + "'");
  }
  if (l.kind != space::LayerKind::kClassifier) {
    l.kernel_size = key_int(f[i++], "k");
    if (l.kernel_size < 1) bad("bad kernel field '" + f[i - 1] + "'");
    const std::string s = f[i++];
    if (s.size() != 3 || s[0] != 's' || s[1] < '1' || s[1] > '9' || s[2] < '1' || s[2] > '9') {
      bad("bad strides field '" + s + "'");
    }
    l.strides = {s[1] - '0', s[2] - '0'};
  }
  if (l.kind == space::LayerKind::kBlock) {
    l.expand_ratio = key_int(f[i++], "e");
    l.expanded_channels = key_int(f[i++], "f");
    l.se_channels = key_int(f[i++], "se");
    if (l.expand_ratio < 1) bad("bad expansion field '" + f[i - 3] + "'");
    if (l.expanded_channels < 1) bad("bad expanded-width field '" + f[i - 2] + "'");
    if (l.se_channels < 0) bad("bad SE field '" + f[i - 1] + "'");
    const std::string r = f[i++];
    if (r == "identity") l.skip = space::SkipOp::kIdentity, l.residual = true;
    else if (r == "pool") l.skip = space::SkipOp::kPool, l.residual = true;
    else if (r != "none") bad("bad residual field '" + r + "'");
  }
  {
    const std::string shape = f[i++];
    int h = 0, w = 0, c = 0;
    char x1 = 0, x2 = 0;
    char rest = 0;
    if (std::sscanf(shape.c_str(), "%7d%c%7d%c%7d%c", &h, &x1, &w, &x2, &c, &rest) != 5 || x1 != 'x' ||
        x2 != 'x' || h < 1 || w < 1 || c < 1 || shape.find_first_not_of("0123456789x") != std::string::npos) {
      bad("bad input shape '" + shape + "'");
    }
    l.in_h = h, l.in_w = w, l.in_channels = l.in_filters_declared = c;
  }
  l.out_channels = key_int(f[i++], "o");
  if (l.out_channels < 1) bad("bad output field '" + f[i - 1] + "'");
  if (l.kind != space::LayerKind::kBlock) l.expanded_channels = l.out_channels;
  if (l.kind == space::LayerKind::kClassifier) {
    l.out_h = l.out_w = 1;
  } else {
    l.out_h = space::same_out_size(l.in_h, l.strides[0]);
    l.out_w = space::same_out_size(l.in_w, l.strides[1]);
  }
  return l;
}

Measurements measurements_from_table(const LatencyTable& table, const space::GlobalParams& params,
                                     const std::string& source, const std::string& citation) {
  Measurements m;
  m.device = table.id.device;
  // Device names of imported tables look like "remote:pixel1".
  if (m.device.rfind("remote:", 0) == 0) m.device = m.device.substr(7);
  m.description = "fitted from the latency table " + to_string(table.id);
  m.sources[source] = citation;
  for (const auto& [key, timing] : table.layers) {
    m.layer_points.push_back({key, source, {layer_from_key(key)}, timing.median_ms});
  }
  space::GlobalParams p = params;
  p.image_size = table.id.image_size;
  for (const auto& c : table.calibration) {
    NetworkPoint pt;
    pt.name = c.arch;
    pt.source = source;
    pt.ms = c.timing.median_ms;
    pt.layers = space::expand_layers(space::decode_arch(space::split_block_strings(c.arch)), p);
    m.network_points.push_back(std::move(pt));
  }
  return m;
}

// ------------------------------------------------------------------ fit --

CostFeatures fit_coefficients(const Measurements& data, const FitOptions& options, int skip_network) {
  if (!(options.layer_share >= 0.0 && options.layer_share <= 1.0)) {
    throw ConfigError("layer_share should be in [0, 1], got " + std::to_string(options.layer_share));
  }
  std::vector<const NetworkPoint*> nets;
  for (size_t i = 0; i < data.network_points.size(); ++i) {
    const auto& p = data.network_points[i];
    if (p.role == "fit" && static_cast<int>(i) != skip_network) nets.push_back(&p);
  }
  const size_t nl = data.layer_points.size(), nn = nets.size();
  if (nl + nn == 0) throw ConfigError("nothing to fit: no layer points and no network points with role 'fit'");
  const double layer_share = nn == 0 ? 1.0 : nl == 0 ? 0.0 : options.layer_share;
  Matrix rows;
  std::vector<double> b;
  auto add_row = [&](const std::vector<space::LayerSpec>& layers, double ms, double weight) {
    const CostFeatures x = features(layers);
    const double w = std::sqrt(weight) / ms;  // relative error, then the share
    std::vector<double> row(kNumCostTerms, 0.0);
    for (int t = 0; t < kNumCostTerms; ++t) row[static_cast<size_t>(t)] = options.terms[t] ? x[t] * w : 0.0;
    rows.push_back(row);
    b.push_back(ms * w);
  };
  for (const auto& p : data.layer_points) add_row(p.layers, p.ms, layer_share / static_cast<double>(nl));
  for (const auto* p : nets) add_row(p->layers, p->ms, (1.0 - layer_share) / static_cast<double>(nn));
  const std::vector<double> x = nnls(rows, b);
  CostFeatures c{};
  for (int t = 0; t < kNumCostTerms; ++t) c[t] = x[static_cast<size_t>(t)];
  return c;
}

namespace {

double percent_error(double predicted, double published) {
  return 100.0 * (predicted - published) / published;
}

}  // namespace

DeviceProfile fit_profile(const Measurements& data, const FitOptions& options) {
  DeviceProfile prof;
  prof.name = data.device;
  prof.description = data.description;
  prof.coefficients = fit_coefficients(data, options);
  FitSummary& s = prof.fit;
  s.method = "non-negative least squares (Lawson-Hanson) on relative errors; layer points carry " +
             std::to_string(static_cast<int>(std::lround(100.0 * options.layer_share))) +
             " % of the weight; validation: leave-one-out over the network points with role 'fit' "
             "(layer points always in), role 'check' never fitted";
  s.data = options.data_path;
  s.layer_points = static_cast<int>(data.layer_points.size());
  for (const auto& lp : data.layer_points) {
    const double predicted = prof.predict_ms(lp.layers);
    s.layer_fit_mape_percent += std::abs(percent_error(predicted, lp.ms));
    s.layer_fit.push_back({lp.name, lp.source, "layer", lp.ms, predicted, predicted});
  }
  if (!data.layer_points.empty()) s.layer_fit_mape_percent /= static_cast<double>(data.layer_points.size());
  double fit_abs = 0.0, loo_abs = 0.0, check_abs = 0.0;
  int n_fit = 0, loo_in10 = 0, n_check = 0, check_in10 = 0;
  for (size_t i = 0; i < data.network_points.size(); ++i) {
    const NetworkPoint& np = data.network_points[i];
    ProfilePoint pt;
    pt.name = np.name;
    pt.source = np.source;
    pt.role = np.role;
    pt.published_ms = np.ms;
    pt.predicted_ms = prof.predict_ms(np.layers);
    if (np.role == "fit") {
      DeviceProfile loo = prof;
      loo.coefficients = fit_coefficients(data, options, static_cast<int>(i));
      pt.held_out_ms = loo.predict_ms(np.layers);
      const double e = std::abs(percent_error(pt.held_out_ms, np.ms));
      ++n_fit;
      fit_abs += std::abs(percent_error(pt.predicted_ms, np.ms));
      loo_abs += e;
      loo_in10 += e <= 10.0 ? 1 : 0;
    } else {
      pt.held_out_ms = pt.predicted_ms;
      const double e = std::abs(percent_error(pt.predicted_ms, np.ms));
      ++n_check;
      check_abs += e;
      check_in10 += e <= 10.0 ? 1 : 0;
    }
    s.points.push_back(pt);
  }
  s.network_points = n_fit;
  s.check_points = n_check;
  if (n_fit > 0) {
    s.fit_mape_percent = fit_abs / n_fit;
    s.loo_mape_percent = loo_abs / n_fit;
    s.loo_within10 = static_cast<double>(loo_in10) / n_fit;
  }
  if (n_check > 0) {
    s.check_mape_percent = check_abs / n_check;
    s.check_within10 = static_cast<double>(check_in10) / n_check;
  }
  validate(prof);
  return prof;
}

std::string validation_table(const DeviceProfile& p) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-44s %-6s %9s %9s %7s %9s %7s\n", "point", "role", "published",
                "fitted", "err%", "held-out", "err%");
  out += line;
  for (const auto& pt : p.fit.points) {
    std::snprintf(line, sizeof line, "%-44s %-6s %9.1f %9.1f %+7.1f %9.1f %+7.1f\n", pt.name.c_str(),
                  pt.role.c_str(), pt.published_ms, pt.predicted_ms,
                  percent_error(pt.predicted_ms, pt.published_ms), pt.held_out_ms,
                  percent_error(pt.held_out_ms, pt.published_ms));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "fit points: %d network + %d layer; layer fit MAE %.1f %%; network fit MAE %.1f %%; "
                "leave-one-out MAE %.1f %%, within 10 %%: %.0f %%\n",
                p.fit.network_points, p.fit.layer_points, p.fit.layer_fit_mape_percent,
                p.fit.fit_mape_percent, p.fit.loo_mape_percent, 100.0 * p.fit.loo_within10);
  out += line;
  if (p.fit.check_points > 0) {
    std::snprintf(line, sizeof line, "check points (never fitted): %d, MAE %.1f %%, within 10 %%: %.0f %%\n",
                  p.fit.check_points, p.fit.check_mape_percent, 100.0 * p.fit.check_within10);
    out += line;
  }
  out += "coefficients:\n";
  for (const auto& info : cost_terms()) {
    std::snprintf(line, sizeof line, "  %-22s %.6g   (%s)\n", info.key, p.coefficient(info.term), info.feature);
    out += line;
  }
  return out;
}

}  // namespace mnas::latency
