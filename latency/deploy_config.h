// The deploy configuration of an experiment: where and how a model will run,
// which decides every latency figure mnas measures or predicts.
//
// Latency tables are keyed by (device, engine, threads, image size, batch):
// TableId. For the onnxruntime engine the engine part of the key also
// carries the session settings that change latency (graph optimisation level
// and execution mode: "onnxruntime.all.sequential"); the other engines' keys
// are as before. A DeployConfig with engine "auto" resolves to a concrete engine
// (latency/measure.h resolve_engine) before it names a table.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "latency/device_profile.h"
#include "space/global_params.h"

namespace mnas::latency {

// Inference engines for local devices. Every measurement records the one used.
//   eager:   LibTorch eager mode (model::MnasNet), the reference outputs;
//   onednn:  TorchScript generated from the layers, torch::jit::freeze +
//            optimize_for_inference (conv-BN folding, oneDNN, channels-last);
//   xnnpack: the same TorchScript through optimizeForMobile (XNNPACK, CPU).
//   onnxruntime: the network exported by mnas's ONNX emitter
//            (train/onnx_emitter.h) and run in ONNX Runtime (npm
//            onnxruntime-node, CPU, one long-lived node process:
//            train/onnxruntime_server.h); installed by scripts/setup.sh.
//   auto:    the fastest engine whose outputs match eager within 1e-4.
const std::vector<std::string>& engine_names();  // without "auto"

struct DeployConfig {
  // "cpu", "cuda", "cuda:N" (measurable here), "remote:NAME" for a table
  // measured elsewhere and imported (a phone): predict only, never measured,
  // or a device profile: a built-in name ("pixel1") or a profile file
  // ("my-phone.json"), whose latencies are estimates (uses_profile).
  std::string device = "cpu";
  // "auto" | "eager" | "onednn" | "xnnpack" | "onnxruntime"; remote and profile devices take
  // any engine label made of [a-z0-9_.-] (e.g. "tflite"), or "auto".
  std::string engine = "auto";
  int threads = 1;          // intra-op threads (torch::set_num_threads)
  int image_size = 224;     // square input side, pixels
  int num_classes = 1000;
  int input_channels = 3;
  int batch = 1;
  // ONNX Runtime session settings (engine onnxruntime only; part of its
  // table key): graph optimisation level disabled | basic | extended | all,
  // and execution mode sequential | parallel. JSON keys ort_opt_level and
  // ort_execution_mode (written only when not the defaults or when the
  // engine is onnxruntime).
  std::string ort_opt_level = "all";
  std::string ort_execution_mode = "sequential";
};

// Throws ConfigError naming the field and the accepted values.
void validate(const DeployConfig& deploy);

bool is_remote(const DeployConfig& deploy);

// True when the device is a device profile (latency/builtin_profiles.h): a
// built-in profile name or a path ending in ".json". Latency then comes from
// the profile's predict_ms: no table, no measurement, no database.
bool uses_profile(const DeployConfig& deploy);
bool is_profile_device(const std::string& device);

// The profile of a profile device (load_profile(deploy.device)); reads the
// file for a path. Throws ConfigError unless uses_profile(deploy).
DeviceProfile deploy_profile(const DeployConfig& deploy);

// Where the latencies of `deploy` come from, in one line for summaries and
// reports (never throws; a profile file that cannot be read is said so):
//   "pixel1 (estimate, fitted profile: held-out mean error 3.6 %)"
//   "remote:pixel1 (imported latency table, engine tflite, 224 px)"
//   "cpu (lookup table measured on this host: engine auto, 1 thread(s), 224 px)"
std::string latency_source(const DeployConfig& deploy);

// The devices a deploy configuration accepts, for messages:
// "cpu, cuda, cuda:N, remote:NAME, a device profile (pixel1) or a profile .json file".
std::string known_devices();

nlohmann::json to_json(const DeployConfig& deploy);
// Strict: every key optional (defaults above), unknown keys and wrong types
// rejected by name with ConfigError; the result is validated.
DeployConfig deploy_config_from_json(const nlohmann::json& j);

// GlobalParams for the deploy geometry: `base` with image size, classes and
// input channels taken from `deploy`.
space::GlobalParams apply_deploy(space::GlobalParams base, const DeployConfig& deploy);

// The key of one latency table. `engine` is concrete (never "auto").
struct TableId {
  std::string device = "cpu";
  std::string engine = "onednn";
  int threads = 1;
  int image_size = 224;
  int batch = 1;

  friend bool operator==(const TableId& a, const TableId& b) {
    return a.device == b.device && a.engine == b.engine && a.threads == b.threads &&
           a.image_size == b.image_size && a.batch == b.batch;
  }
  friend bool operator!=(const TableId& a, const TableId& b) { return !(a == b); }
};

// "cpu/onednn/1t/224px/b1": for messages and listings.
std::string to_string(const TableId& id);

// The table of `deploy` once its engine is resolved to `engine`. On a local
// device, engine onnxruntime is labelled with its settings:
// "onnxruntime.<ort_opt_level>.<ort_execution_mode>".
TableId table_id(const DeployConfig& deploy, const std::string& engine);

// The engine of a table's engine label: "onnxruntime" for
// "onnxruntime.all.sequential", the label itself otherwise.
std::string engine_of_label(const std::string& label);

// Validates a table id as read from a file or database (device syntax, engine
// label, positive numbers); throws ConfigError naming the bad field.
void validate(const TableId& id);

}  // namespace mnas::latency
