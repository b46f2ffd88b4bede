// Training throughput of mnas against Python PyTorch on the same model.
//
// Model: mnasnet-b1 (== torchvision mnasnet1_0), batch 128, 2 threads, 32x32
// RGB, 10 classes, SGD; full steps (forward, backward, update) on random
// data. Runs bench/train_throughput.py with /usr/bin/python3 (Debian
// python3-torch + python3-torchvision) for the Python figures, in the same
// process run, and prints the ratio to the best Python configuration.
//
//   flock /tmp/mnas-cpu.lock <build>/bench/train_throughput [--steps N] [--python PATH]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "train/trainer.h"

#ifndef MNAS_SOURCE_DIR
#define MNAS_SOURCE_DIR "."
#endif

int main(int argc, char** argv) {
  int steps = 8;
  std::string python = "/usr/bin/python3";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (a == "--python" && i + 1 < argc) {
      python = argv[++i];
    } else {
      std::cerr << "usage: train_throughput [--steps N] [--python PATH]\n";
      return 2;
    }
  }
  if (steps < 1) {
    std::cerr << "train_throughput: --steps must be >= 1\n";
    return 2;
  }
  mnas::train::ThroughputOptions o;
  o.arch = "mnasnet-b1";
  o.image_size = 32;
  o.batch_size = 128;
  o.threads = 2;
  o.steps = steps;
  double best_mnas = 0;
  for (bool cl : {true, false}) {
    o.channels_last = cl;
    const double ips = mnas::train::measure_train_throughput(o);
    best_mnas = std::max(best_mnas, ips);
    std::printf("mnas    mnasnet-b1 batch 128 threads 2 32x32 %-13s %8.1f img/s\n",
                cl ? "channels-last" : "default", ips);
    std::fflush(stdout);
  }
  // The Python peer needs PyTorch and torchvision (not installed by
  // scripts/setup.sh): say how to get them rather than fail obscurely.
  const std::string probe = python + " -c 'import torch, torchvision' >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    std::cerr << "train_throughput: " << python << " cannot import torch and torchvision, which the Python "
              << "figures need: apt-get install python3-torch python3-torchvision\n";
    return 1;
  }
  const std::string cmd = python + " " + MNAS_SOURCE_DIR + "/bench/train_throughput.py --steps " +
                          std::to_string(steps);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    std::cerr << "train_throughput: cannot run " << cmd << "\n";
    return 1;
  }
  double best_py = 0;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::fputs(line, stdout);
    double v = 0;
    char layout[64];
    if (std::sscanf(line, "python  mnasnet1_0 batch 128 threads 2 32x32 %63s %lf", layout, &v) == 2) {
      best_py = std::max(best_py, v);
    }
  }
  const int rc = pclose(p);
  if (rc != 0 || best_py <= 0) {
    std::cerr << "train_throughput: the Python benchmark failed (" << cmd << ")\n";
    return 1;
  }
  std::printf("ratio mnas best / python best: %.2fx (target >= 1.0x)\n", best_mnas / best_py);
  return 0;
}
