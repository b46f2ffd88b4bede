// Runs a TFLite file in Arm NN (its TfLite parser and the reference CPU
// backend, CpuRef; Debian libarmnntfliteparser-dev and
// libarmnn-cpuref-backend22, Arm NN 20.08): the runtime, not written by
// mnas, that verifies mnas's TFLite exports (train/export.cpp, the tests) and
// runs them for mnas_classify (train/classify.h).
// Torch-free header; library mnas::tflite, the only one that links Arm NN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mnas::train {

struct TfLiteRun {
  // The "logits" tensor, row-major: `output` when it is float32, else
  // `output_int8` (quantized I/O: raw int8 values; real = scale * (q -
  // zero_point) with the tensor's parameters, train/tflite_model.h).
  std::vector<float> output;
  std::vector<int8_t> output_int8;
  std::vector<unsigned> output_shape;
  std::vector<double> run_ms;     // one per timed run (`repeat`), milliseconds
};

// Loads `path` with Arm NN's TfLite parser, runs it on CpuRef with `input`
// (row-major, the shape of the model's "input" tensor: NHWC; k times that
// size = k runs, their outputs concatenated) and returns "logits".
// run_tflite needs a float32 "input" tensor, run_tflite_int8 an int8
// (quantized I/O) one: the caller quantizes with the tensor's scale and zero
// point (train/tflite_model.h gives them).
// Throws mnas::Error naming the file when Arm NN rejects the model (an op it
// does not support, a bad file), when "input" has the other element type
// (the message says which), when `input` is not a multiple of the input
// tensor's size, or when the run fails.
// Then `warmup` untimed and `repeat` timed runs of the first input on the
// loaded network (run_ms; CpuRef is single-threaded).
TfLiteRun run_tflite(const std::string& path, const std::vector<float>& input, int repeat = 0, int warmup = 0);
TfLiteRun run_tflite_int8(const std::string& path, const std::vector<int8_t>& input, int repeat = 0, int warmup = 0);

// "Arm NN <libarmnn version> (TfLite parser, CpuRef backend)": what
// run_tflite runs in (Arm NN 20.08 is libarmnn 22.0.0).
std::string tflite_runtime_name();

}  // namespace mnas::train
