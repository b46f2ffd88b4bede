// runtime_latency: batch-1 latency of exported files in the runtimes that
// verify them, 1 thread: TFLite (float or int8) in Arm NN's CpuRef backend
// (a reference backend: plain loops, a correctness tool, not a deployment
// speed) and ONNX (float or int8 QDQ) in ONNX Runtime (1 intra-op thread).
// Prints one line per file: median, p10, p90 and min of the timed runs in
// milliseconds. The LibTorch oneDNN figure comes from mnas_latency measure
// (bench/runtime_latency.sh runs both).
//
//   runtime_latency --image-size S --channels C [--runs N] [--warmup N] FILE.tflite|FILE.onnx...
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "train/onnxruntime_runner.h"
#include "train/tflite_runtime.h"

namespace {

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 30, warmup = 5, size = 0, channels = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    int* v = a == "--runs" ? &runs : a == "--warmup" ? &warmup : a == "--image-size" ? &size
                                     : a == "--channels" ? &channels : nullptr;
    if (v && i + 1 < argc) {
      *v = std::stoi(argv[++i]);
    } else {
      files.push_back(a);
    }
  }
  if (files.empty() || runs < 1 || warmup < 0 || size < 1 || channels < 1) {
    std::cerr << "usage: runtime_latency --image-size S --channels C [--runs N] [--warmup N] "
                 "FILE.tflite|FILE.onnx...\n";
    return 2;
  }
  try {
    const std::vector<float> input(static_cast<size_t>(size) * size * channels, 0.5f);
    for (const std::string& f : files) {
      std::vector<double> ms;
      std::string runtime;
      if (ends_with(f, ".tflite")) {
        ms = mnas::train::run_tflite(f, input, runs, warmup).run_ms;
        runtime = mnas::train::tflite_runtime_name();
      } else if (ends_with(f, ".onnx")) {
        mnas::onnxruntime::Tensor in;
        in.shape = {1, channels, size, size};
        in.data = input;
        const auto r = mnas::onnxruntime::run(f, in, {}, runs, warmup);
        ms = r.run_ms;
        runtime = "ONNX Runtime " + r.version + ", 1 thread";
      } else {
        std::cerr << "runtime_latency: '" << f << "' is neither .tflite nor .onnx\n";
        return 2;
      }
      std::printf("%-40s %-50s median %9.3f ms  p10 %9.3f  p90 %9.3f  min %9.3f  (%zu runs)\n", f.c_str(),
                  runtime.c_str(), quantile(ms, 0.5), quantile(ms, 0.1), quantile(ms, 0.9),
                  *std::min_element(ms.begin(), ms.end()), ms.size());
    }
  } catch (const std::exception& e) {
    std::cerr << "runtime_latency: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
