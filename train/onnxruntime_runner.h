// ONNX Runtime from C++: runs an ONNX file in the npm package onnxruntime-node
// (CPU) through a node process and tools/onnxruntime/run.js. Library
// mnas::onnxruntime, Torch-free (export verification, mnas_classify, and the
// latency engine of issue #20 can all link it).
//
// The package lives in tools/onnxruntime/node_modules, installed by
// scripts/setup.sh (npm install --ignore-scripts, version pinned by
// tools/onnxruntime/package-lock.json). Its folder is $MNAS_ONNXRUNTIME_DIR
// when set, else the source tree's tools/onnxruntime (compiled in); `node` is
// found on PATH, or $MNAS_NODE names it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mnas::onnxruntime {

// Session settings that change results or latency.
struct Settings {
  int threads = 1;                       // intra-op threads (inter-op: 1)
  std::string opt_level = "all";         // graph optimisation: disabled | basic | extended | all
  std::string execution_mode = "sequential";  // sequential | parallel
};

// A float32 tensor (`data`) or, for models with quantized I/O, an int8 one
// (`int8`, when non-empty; `data` is then empty).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;   // row-major, product(shape) values (an input: k x product, k batches)
  std::vector<int8_t> int8 = {};  // the same, int8 (a default: brace-initialised float tensors stay warning-free)
  bool is_int8() const { return !int8.empty(); }
};

struct Result {
  Tensor output;               // the model's first output
  std::string input_name, output_name;
  std::string version;         // ONNX Runtime (onnxruntime-node) version, e.g. "1.30.0"
  std::vector<double> run_ms;  // one per timed run (repeat), milliseconds
};

// Throws ConfigError naming the bad field and the accepted values.
void validate(const Settings& settings);

// The package folder: $MNAS_ONNXRUNTIME_DIR, else <source>/tools/onnxruntime.
std::string package_dir();

// `script` (run.js or serve.js) in package_dir(), checked to exist with the
// npm package beside it; throws mnas::Error naming scripts/setup.sh.
std::string checked_script(const std::string& script);

// The node binary: $MNAS_NODE, else "node" (on PATH).
std::string node_binary();

// "run scripts/setup.sh (installs node, npm and onnxruntime-node)".
extern const char* const kSetupHint;

// True when run.js and the npm package are in package_dir() (node itself is
// found when a model runs). scripts/setup.sh installs the package from npm;
// where npm cannot be reached it warns and goes on, and callers that only
// double-check (export verification) skip ONNX Runtime, saying so.
bool installed();

// The installed onnxruntime-node version. Throws mnas::Error naming
// scripts/setup.sh when node, run.js or the package is missing.
std::string version();

// Runs `model` (an ONNX file) on `input` (the model's first input, float32
// or int8; data of k x its shape's values is k runs, outputs concatenated
// along the first dimension; the output is float32 or int8 as the model's
// first output), then `warmup` untimed and `repeat` timed runs of the first batch. Throws
// ConfigError for bad settings or an input whose size is not its shape's, and
// mnas::Error when node or the package is missing (naming scripts/setup.sh)
// or ONNX Runtime rejects the model or the input (its message, naming the file).
Result run(const std::string& model, const Tensor& input, const Settings& settings = {}, int repeat = 0,
           int warmup = 0);

}  // namespace mnas::onnxruntime
