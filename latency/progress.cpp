#include "latency/progress.h"

#include <unistd.h>

#include <iostream>

namespace mnas::latency {

ProgressFn progress_printer(std::ostream& out, bool tty) {
  return [&out, tty](const Progress& p) {
    if (p.total <= 0) {
      out << p.what << "\n";
      return;
    }
    const int done = p.done, total = p.total;
    if (!tty && done != total && done * 10 / total == (done - 1) * 10 / total) return;
    const double s = p.elapsed_s;
    const double eta = done > 0 ? s / done * (total - done) : 0.0;
    out << (tty ? "\r" : "") << p.what << " " << done << "/" << total << " (" << static_cast<int>(s)
        << " s, eta " << static_cast<int>(eta) << " s)" << (tty ? "   " : "\n") << std::flush;
    if (tty && done == total) out << "\n";
  };
}

ProgressFn stderr_progress() {
  static const bool tty = isatty(STDERR_FILENO) != 0;
  return progress_printer(std::cerr, tty);
}

ProgressFn stderr_progress_unless(bool quiet) {
  return quiet ? ProgressFn() : stderr_progress();
}

}  // namespace mnas::latency
