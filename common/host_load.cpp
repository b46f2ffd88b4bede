#include "common/host_load.h"

#include <cstdio>
#include <fstream>

namespace mnas {

std::optional<double> load_average() {
  std::ifstream in("/proc/loadavg");
  double load = 0;
  if (!(in >> load)) return std::nullopt;
  return load;
}

std::string contention_note(double load, int cores, int threads) {
  if (threads <= 1 || cores < 1 || !(load >= cores + 1.0)) return "";
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "load average %.1f on %d CPUs: other processes hold the cores. With %d LibTorch threads a "
                "child's threads wait for each other and it can run 5-13x slower (docs/search.md, \"Threads on a "
                "shared machine\"); --threads 1 slows down only in proportion to the load",
                load, cores, threads);
  return buf;
}

}  // namespace mnas
