#include "latency/latency_table.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "space/block_codec.h"

namespace mnas::latency {
namespace {

constexpr const char* kFormat = "mnas-latency-table";
constexpr int kVersion = 1;
constexpr const char* kCsvHeader =
    "kind,device,engine,threads,image_size,batch,key,median_ms,p10_ms,p90_ms,runs";

void check_timing(const Timing& t, const std::string& where) {
  auto ok = [](double v) { return std::isfinite(v) && v > 0.0; };
  if (!ok(t.median_ms) || !ok(t.p10_ms) || !ok(t.p90_ms)) {
    throw ParseError(where + ": times should be finite and > 0 ms");
  }
  if (t.runs < 1) throw ParseError(where + ": runs should be >= 1, got " + std::to_string(t.runs));
}

void check_arch(const std::string& arch, const std::string& where) {
  try {
    space::decode_arch(space::split_block_strings(arch));
  } catch (const Error& e) {
    throw ParseError(where + ": bad calibration architecture '" + arch + "': " + e.what());
  }
}

// Adds a layer or calibration row, rejecting duplicates and bad values.
struct Builder {
  LatencyTable table;
  std::set<std::string> calibration_seen;

  void layer(const std::string& key, const Timing& t, const std::string& where) {
    if (!is_layer_key(key)) {
      throw ParseError(where + ": '" + key +
                       "' is not a layer key (expected e.g. "
                       "block:mbconv:k3:s22:e6:f96:se0:none:112x112x16:o24)");
    }
    check_timing(t, where);
    if (!table.layers.emplace(key, t).second) {
      throw ParseError(where + ": duplicate layer key '" + key + "'");
    }
  }
  void calibration(const std::string& arch, const Timing& t, const std::string& where) {
    check_arch(arch, where);
    check_timing(t, where);
    if (!calibration_seen.insert(arch).second) {
      throw ParseError(where + ": duplicate calibration architecture '" + arch + "'");
    }
    table.calibration.push_back({arch, t});
  }
};

double json_number(const nlohmann::json& o, const char* key, const std::string& where) {
  const auto& v = o.at(key);
  if (!v.is_number()) throw ParseError(where + ": '" + key + "' should be a number, got " + json_excerpt(v));
  return v.get<double>();
}

Timing json_timing(const nlohmann::json& o, const std::string& where, const char* name_key) {
  if (!o.is_object()) throw ParseError(where + ": should be an object, got " + json_excerpt(o));
  for (const auto& [k, v] : o.items()) {
    (void)v;
    if (k != name_key && k != "median_ms" && k != "p10_ms" && k != "p90_ms" && k != "runs") {
      throw ParseError(where + ": unknown key '" + k + "' (expected " + name_key +
                       ", median_ms, p10_ms, p90_ms, runs)");
    }
  }
  if (!o.contains(name_key) || !o.at(name_key).is_string()) {
    throw ParseError(where + ": '" + name_key + "' should be a string");
  }
  if (!o.contains("median_ms")) throw ParseError(where + ": missing 'median_ms'");
  Timing t;
  t.median_ms = json_number(o, "median_ms", where);
  t.p10_ms = o.contains("p10_ms") ? json_number(o, "p10_ms", where) : t.median_ms;
  t.p90_ms = o.contains("p90_ms") ? json_number(o, "p90_ms", where) : t.median_ms;
  t.runs = 1;
  if (o.contains("runs")) {
    if (!o.at("runs").is_number_integer()) throw ParseError(where + ": 'runs' should be an integer");
    t.runs = o.at("runs").get<int>();
  }
  return t;
}

TableId json_table_id(const nlohmann::json& o) {
  if (!o.is_object()) throw ParseError("'table' should be an object, got " + json_excerpt(o));
  TableId id;
  std::set<std::string> seen;
  for (const auto& [k, v] : o.items()) {
    seen.insert(k);
    if (k == "device" || k == "engine") {
      if (!v.is_string()) throw ParseError("table." + k + " should be a string, got " + json_excerpt(v));
      (k == "device" ? id.device : id.engine) = v.get<std::string>();
    } else if (k == "threads" || k == "image_size" || k == "batch") {
      if (!v.is_number_integer()) {
        throw ParseError("table." + k + " should be an integer, got " + json_excerpt(v));
      }
      (k == "threads" ? id.threads : k == "image_size" ? id.image_size : id.batch) = v.get<int>();
    } else {
      throw ParseError("unknown key 'table." + k +
                       "' (expected device, engine, threads, image_size, batch)");
    }
  }
  for (const char* k : {"device", "engine", "threads", "image_size", "batch"}) {
    if (!seen.count(k)) throw ParseError(std::string("missing 'table.") + k + "'");
  }
  try {
    validate(id);
  } catch (const ConfigError& e) {
    throw ParseError(std::string("bad table id: ") + e.what());
  }
  return id;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream s(line);
  while (std::getline(s, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

template <class T>
T parse_num(const std::string& text, const std::string& where, const char* what) {
  T v{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) {
    throw ParseError(where + ": " + what + " '" + text + "' is not a number");
  }
  return v;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> missing_layers(const LatencyTable& table,
                                        const std::vector<space::LayerSpec>& layers) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& l : layers) {
    std::string key = space::layer_key(l);
    if (!table.layers.count(key) && seen.insert(key).second) out.push_back(std::move(key));
  }
  return out;
}

bool is_layer_key(const std::string& key) {
  static const char* kKinds[] = {"stem:", "block:", "head:", "classifier:"};
  bool kind = false;
  for (const char* k : kKinds) kind = kind || key.rfind(k, 0) == 0;
  if (!kind || key.size() > 200 || key.find(":o") == std::string::npos) return false;
  for (char c : key) {
    if (c == ',' || c == ' ' || c == '\t' || c == '"' || static_cast<unsigned char>(c) < 32) return false;
  }
  return true;
}

nlohmann::json table_to_json(const LatencyTable& t) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& [key, v] : t.layers) {
    layers.push_back({{"key", key}, {"median_ms", v.median_ms}, {"p10_ms", v.p10_ms},
                      {"p90_ms", v.p90_ms}, {"runs", v.runs}});
  }
  nlohmann::json cal = nlohmann::json::array();
  for (const auto& c : t.calibration) {
    cal.push_back({{"arch", c.arch}, {"median_ms", c.timing.median_ms},
                   {"p10_ms", c.timing.p10_ms}, {"p90_ms", c.timing.p90_ms},
                   {"runs", c.timing.runs}});
  }
  return {{"format", kFormat},
          {"version", kVersion},
          {"table",
           {{"device", t.id.device}, {"engine", t.id.engine}, {"threads", t.id.threads},
            {"image_size", t.id.image_size}, {"batch", t.id.batch}}},
          {"layers", layers},
          {"calibration", cal}};
}

LatencyTable table_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ParseError("latency table should be a JSON object");
  for (const auto& [k, v] : j.items()) {
    (void)v;
    if (k != "format" && k != "version" && k != "table" && k != "layers" && k != "calibration") {
      throw ParseError("unknown key '" + k +
                       "' (expected format, version, table, layers, calibration)");
    }
  }
  if (!j.contains("format") || j.at("format") != kFormat) {
    throw ParseError(std::string("'format' should be \"") + kFormat + "\"");
  }
  if (!j.contains("version") || j.at("version") != kVersion) {
    throw ParseError("'version' should be " + std::to_string(kVersion));
  }
  if (!j.contains("table")) throw ParseError("missing 'table'");
  if (!j.contains("layers") || !j.at("layers").is_array()) {
    throw ParseError("'layers' should be an array");
  }
  Builder b;
  b.table.id = json_table_id(j.at("table"));
  const auto& layers = j.at("layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string where = "layers[" + std::to_string(i) + "]";
    const Timing t = json_timing(layers[i], where, "key");
    b.layer(layers[i].at("key").get<std::string>(), t, where);
  }
  if (j.contains("calibration")) {
    const auto& cal = j.at("calibration");
    if (!cal.is_array()) throw ParseError("'calibration' should be an array");
    for (size_t i = 0; i < cal.size(); ++i) {
      const std::string where = "calibration[" + std::to_string(i) + "]";
      const Timing t = json_timing(cal[i], where, "arch");
      b.calibration(cal[i].at("arch").get<std::string>(), t, where);
    }
  }
  return std::move(b.table);
}

std::string table_to_csv(const LatencyTable& t) {
  std::ostringstream out;
  out << "# mnas latency table, format version " << kVersion << "\n" << kCsvHeader << "\n";
  const std::string id = t.id.device + "," + t.id.engine + "," + std::to_string(t.id.threads) +
                         "," + std::to_string(t.id.image_size) + "," +
                         std::to_string(t.id.batch) + ",";
  auto row = [&](const char* kind, const std::string& key, const Timing& v) {
    out << kind << "," << id << key << "," << fmt(v.median_ms) << "," << fmt(v.p10_ms) << ","
        << fmt(v.p90_ms) << "," << v.runs << "\n";
  };
  for (const auto& [key, v] : t.layers) row("layer", key, v);
  for (const auto& c : t.calibration) row("calibration", c.arch, c.timing);
  return out.str();
}

LatencyTable table_from_csv(std::istream& in) {
  Builder b;
  bool header = false, have_id = false;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "line " + std::to_string(n);
    if (!header) {
      if (line != kCsvHeader) {
        throw ParseError(where + ": expected the header '" + std::string(kCsvHeader) + "', got '" +
                         line + "'");
      }
      header = true;
      continue;
    }
    const auto cells = split_csv(line);
    if (cells.size() != 11) {
      throw ParseError(where + ": expected 11 columns, got " + std::to_string(cells.size()));
    }
    TableId id;
    id.device = cells[1];
    id.engine = cells[2];
    id.threads = parse_num<int>(cells[3], where, "threads");
    id.image_size = parse_num<int>(cells[4], where, "image_size");
    id.batch = parse_num<int>(cells[5], where, "batch");
    try {
      validate(id);
    } catch (const ConfigError& e) {
      throw ParseError(where + ": " + e.what());
    }
    if (!have_id) {
      b.table.id = id;
      have_id = true;
    } else if (id != b.table.id) {
      throw ParseError(where + ": table " + to_string(id) + " differs from the file's first row (" +
                       to_string(b.table.id) + "); one table per file");
    }
    Timing t;
    t.median_ms = parse_num<double>(cells[7], where, "median_ms");
    t.p10_ms = cells[8].empty() ? t.median_ms : parse_num<double>(cells[8], where, "p10_ms");
    t.p90_ms = cells[9].empty() ? t.median_ms : parse_num<double>(cells[9], where, "p90_ms");
    t.runs = cells[10].empty() ? 1 : parse_num<int>(cells[10], where, "runs");
    if (cells[0] == "layer") {
      b.layer(cells[6], t, where);
    } else if (cells[0] == "calibration") {
      b.calibration(cells[6], t, where);
    } else {
      throw ParseError(where + ": kind '" + cells[0] + "' should be layer or calibration");
    }
  }
  if (!header) throw ParseError("no CSV header '" + std::string(kCsvHeader) + "' found");
  if (!have_id) throw ParseError("the CSV has no rows");
  return std::move(b.table);
}

LatencyTable read_table_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ParseError("cannot read latency table '" + path + "'");
  try {
    if (ends_with(path, ".json")) {
      // Strict JSON: bounded depth, no duplicate keys, no NUL bytes.
      nlohmann::json j;
      try {
        j = parse_json(read_file(path, "latency table"), "JSON");
      } catch (const ConfigError& e) {
        throw ParseError(e.what());  // prefixed with the path below
      }
      return table_from_json(j);
    }
    if (ends_with(path, ".csv")) return table_from_csv(in);
  } catch (const ParseError& e) {
    throw ParseError("latency table '" + path + "': " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw ParseError("latency table '" + path + "': " + e.what());
  }
  throw ParseError("latency table '" + path + "': expected a .json or .csv file name");
}

void write_table_file(const LatencyTable& table, const std::string& path) {
  std::string text;
  if (ends_with(path, ".json")) text = table_to_json(table).dump(1) + "\n";
  else if (ends_with(path, ".csv")) text = table_to_csv(table);
  else throw ConfigError("export file '" + path + "': expected a .json or .csv file name");
  write_file_atomically(path, text);  // no temporary left on failure, never a directory
}

}  // namespace mnas::latency
