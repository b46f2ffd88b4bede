// Runs a TFLite file in Arm NN (its TfLite parser and the reference CPU
// backend, CpuRef; Debian libarmnntfliteparser-dev and
// libarmnn-cpuref-backend22, Arm NN 20.08): the runtime, not written by
// mnas, that verifies mnas's TFLite exports (train/export.cpp, the tests).
// Torch-free header; library mnas::export, the only one that links Arm NN.
#pragma once

#include <string>
#include <vector>

namespace mnas::train {

struct TfLiteRun {
  std::vector<float> output;      // the "logits" tensor, row-major
  std::vector<unsigned> output_shape;
  std::vector<double> run_ms;     // one per timed run (`repeat`), milliseconds
};

// Loads `path` with Arm NN's TfLite parser, runs it on CpuRef with `input`
// (row-major, the shape of the model's "input" tensor: NHWC; k times that
// size = k runs, their outputs concatenated) and returns "logits". Throws mnas::Error naming the file when Arm NN rejects the
// model (an op it does not support, a bad file), when `input` is not a
// multiple of the input tensor's size, or when the run fails.
// Then `warmup` untimed and `repeat` timed runs of the first input on the
// loaded network (run_ms; CpuRef is single-threaded).
TfLiteRun run_tflite(const std::string& path, const std::vector<float>& input, int repeat = 0, int warmup = 0);

// "Arm NN <libarmnn version> (TfLite parser, CpuRef backend)": what
// run_tflite runs in (Arm NN 20.08 is libarmnn 22.0.0).
std::string tflite_runtime_name();

}  // namespace mnas::train
