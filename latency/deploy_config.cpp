#include "latency/deploy_config.h"

#include <algorithm>
#include <cstdio>

#include "common/device.h"
#include "common/error.h"
#include "latency/builtin_profiles.h"

namespace mnas::latency {
namespace {

bool is_label(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Table ids name measurable or remote devices only: a profile has no table.
void check_device(const std::string& device, bool allow_profile) {
  if (is_local_device(device)) return;
  if (device.rfind("remote:", 0) == 0 && is_label(device.substr(7))) return;
  if (allow_profile && is_profile_device(device)) return;
  throw ConfigError("unknown device '" + device + "': expected " +
                    (allow_profile ? known_devices()
                                   : std::string("cpu, cuda, cuda:N or remote:NAME")) +
                    " (NAME of [a-z0-9_.-])");
}

const char* const kOrtPrefix = "onnxruntime.";

bool is_one_of(const std::string& v, std::initializer_list<const char*> names) {
  for (const char* n : names) if (v == n) return true;
  return false;
}

void check_ort_settings(const std::string& opt_level, const std::string& mode, const std::string& where) {
  if (!is_one_of(opt_level, {"disabled", "basic", "extended", "all"})) {
    throw ConfigError(where + "ort_opt_level should be disabled, basic, extended or all, got '" + opt_level + "'");
  }
  if (!is_one_of(mode, {"sequential", "parallel"})) {
    throw ConfigError(where + "ort_execution_mode should be sequential or parallel, got '" + mode + "'");
  }
}

void check_engine(const std::string& device, const std::string& engine, bool allow_auto) {
  if (device.rfind("remote:", 0) == 0 || is_profile_device(device)) {
    if (!is_label(engine)) {
      throw ConfigError("bad engine label '" + engine + "' for device " + device +
                        ": expected [a-z0-9_.-]+");
    }
    return;
  }
  const auto& known = engine_names();
  const bool ok = (allow_auto && engine == "auto") ||
                  std::find(known.begin(), known.end(), engine) != known.end();
  if (!ok) {
    throw ConfigError("unknown engine '" + engine + "': expected " +
                      std::string(allow_auto ? "auto, " : "") + "eager, onednn, xnnpack or onnxruntime");
  }
  if (device != "cpu" && (engine == "onednn" || engine == "xnnpack" || engine == "onnxruntime")) {
    throw ConfigError("engine '" + engine + "' runs on cpu only, not on " + device +
                      ": use eager or auto");
  }
}

void check_range(const char* name, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    throw ConfigError(std::string(name) + " should be in " + std::to_string(lo) + ".." +
                      std::to_string(hi) + ", got " + std::to_string(v));
  }
}

}  // namespace

const std::vector<std::string>& engine_names() {
  static const std::vector<std::string> kNames = {"eager", "onednn", "xnnpack", "onnxruntime"};
  return kNames;
}

void validate(const DeployConfig& d) {
  check_device(d.device, /*allow_profile=*/true);
  check_engine(d.device, d.engine, /*allow_auto=*/!is_remote(d));
  check_range("threads", d.threads, 1, 256);
  check_range("image_size", d.image_size, 1, 4096);
  check_range("num_classes", d.num_classes, 1, 1000000);
  check_range("input_channels", d.input_channels, 1, 64);
  check_range("batch", d.batch, 1, 4096);
  check_ort_settings(d.ort_opt_level, d.ort_execution_mode, "deploy.");
}

bool is_remote(const DeployConfig& d) { return d.device.rfind("remote:", 0) == 0; }

bool is_profile_device(const std::string& device) {
  return is_builtin_profile(device) || (device.size() > 5 && ends_with(device, ".json"));
}

bool uses_profile(const DeployConfig& d) { return is_profile_device(d.device); }

DeviceProfile deploy_profile(const DeployConfig& d) {
  if (!uses_profile(d)) {
    throw ConfigError("device '" + d.device + "' is not a device profile (expected " +
                      known_devices() + ")");
  }
  return load_profile(d.device);
}

std::string latency_source(const DeployConfig& d) {
  const std::string geometry = std::to_string(d.image_size) + " px";
  if (uses_profile(d)) {
    try {
      const DeviceProfile p = deploy_profile(d);
      char error[32];
      std::snprintf(error, sizeof error, "%.1f", p.fit.loo_mape_percent);
      return d.device + " (estimate, fitted profile: held-out mean error " + error + " %, " +
             geometry + ")";
    } catch (const Error& e) {
      return d.device + " (estimate from a device profile; cannot read it now: " + e.what() + ")";
    }
  }
  if (is_remote(d)) return d.device + " (imported latency table, engine " + d.engine + ", " + geometry + ")";
  return d.device + " (lookup table measured on this host: engine " + d.engine + ", " +
         std::to_string(d.threads) + " thread(s), " + geometry + ")";
}

std::string known_devices() {
  std::string names;
  for (const auto& n : builtin_profile_names()) names += (names.empty() ? "" : ", ") + n;
  return "cpu, cuda, cuda:N, remote:NAME, a device profile (" + names + ") or a profile .json file";
}

nlohmann::json to_json(const DeployConfig& d) {
  nlohmann::json j = {{"device", d.device},       {"engine", d.engine},
          {"threads", d.threads},     {"image_size", d.image_size},
          {"num_classes", d.num_classes}, {"input_channels", d.input_channels},
          {"batch", d.batch}};
  if (d.engine == "onnxruntime" || d.ort_opt_level != DeployConfig{}.ort_opt_level ||
      d.ort_execution_mode != DeployConfig{}.ort_execution_mode) {
    j["ort_opt_level"] = d.ort_opt_level;
    j["ort_execution_mode"] = d.ort_execution_mode;
  }
  return j;
}

DeployConfig deploy_config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("deploy config should be a JSON object, got " + j.dump());
  DeployConfig d;
  for (const auto& [key, value] : j.items()) {
    auto get_int = [&](int& out) {
      if (!value.is_number_integer()) {
        throw ConfigError("deploy." + key + " should be an integer, got " + value.dump());
      }
      out = value.get<int>();
    };
    auto get_string = [&](std::string& out) {
      if (!value.is_string()) {
        throw ConfigError("deploy." + key + " should be a string, got " + value.dump());
      }
      out = value.get<std::string>();
    };
    if (key == "device") get_string(d.device);
    else if (key == "engine") get_string(d.engine);
    else if (key == "threads") get_int(d.threads);
    else if (key == "image_size") get_int(d.image_size);
    else if (key == "num_classes") get_int(d.num_classes);
    else if (key == "input_channels") get_int(d.input_channels);
    else if (key == "batch") get_int(d.batch);
    else if (key == "ort_opt_level") get_string(d.ort_opt_level);
    else if (key == "ort_execution_mode") get_string(d.ort_execution_mode);
    else {
      throw ConfigError("unknown key 'deploy." + key +
                        "': expected device, engine, threads, image_size, num_classes, "
                        "input_channels, batch, ort_opt_level or ort_execution_mode");
    }
  }
  validate(d);
  return d;
}

space::GlobalParams apply_deploy(space::GlobalParams base, const DeployConfig& d) {
  base.image_size = d.image_size;
  base.num_classes = d.num_classes;
  base.input_channels = d.input_channels;
  return base;
}

std::string to_string(const TableId& id) {
  return id.device + "/" + id.engine + "/" + std::to_string(id.threads) + "t/" +
         std::to_string(id.image_size) + "px/b" + std::to_string(id.batch);
}

TableId table_id(const DeployConfig& d, const std::string& engine) {
  const std::string label = engine == "onnxruntime" && is_local_device(d.device)
                                ? kOrtPrefix + d.ort_opt_level + "." + d.ort_execution_mode
                                : engine;
  return {d.device, label, d.threads, d.image_size, d.batch};
}

std::string engine_of_label(const std::string& label) {
  return label.rfind(kOrtPrefix, 0) == 0 ? "onnxruntime" : label;
}

void validate(const TableId& id) {
  check_device(id.device, /*allow_profile=*/false);
  if (is_local_device(id.device) && id.engine.rfind(kOrtPrefix, 0) == 0) {
    const std::string rest = id.engine.substr(std::string(kOrtPrefix).size());
    const auto dot = rest.find('.');
    check_ort_settings(rest.substr(0, dot), dot == std::string::npos ? "" : rest.substr(dot + 1),
                       "table " + id.engine + ": ");
    check_engine(id.device, "onnxruntime", /*allow_auto=*/false);
  } else if (is_local_device(id.device) && id.engine == "onnxruntime") {
    throw ConfigError("table engine 'onnxruntime' should carry its session settings: "
                      "onnxruntime.<ort_opt_level>.<ort_execution_mode>, e.g. onnxruntime.all.sequential");
  } else {
    check_engine(id.device, id.engine, /*allow_auto=*/false);
  }
  check_range("threads", id.threads, 1, 256);
  check_range("image_size", id.image_size, 1, 4096);
  check_range("batch", id.batch, 1, 4096);
}

}  // namespace mnas::latency
