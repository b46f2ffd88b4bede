// Training throughput: images per second of full training steps (forward,
// backward, update) of an architecture on random data (bench/train_throughput
// compares it with Python PyTorch). Torch-free header (train/throughput.cpp).
#pragma once

#include <string>

namespace mnas::train {

struct ThroughputOptions {
  std::string arch = "mnasnet-b1";
  int image_size = 32;
  int input_channels = 3;
  int num_classes = 10;
  int batch_size = 128;
  int threads = 2;
  bool channels_last = true;
  int warmup = 3;  // untimed steps first
  int steps = 10;
  std::string device = "cpu";
};
double measure_train_throughput(const ThroughputOptions& options);

}  // namespace mnas::train
