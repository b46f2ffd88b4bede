// Progress of long latency work (profiling a table, measuring many models),
// reported through a callback: the library never prints, the caller decides
// (the apps draw progress_printer's display on stderr; tests and quiet runs
// pass an empty callback).
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace mnas::latency {

struct Progress {
  std::string what;        // the stage: "compiling", "profiling cpu/onednn/... layers",
                           // "calibrating cpu/onednn/..."
  int done = 0;            // items of the stage done so far
  int total = 0;           // items in the stage; 0 announces a stage that
                           // reports no count (`what` alone)
  double elapsed_s = 0.0;  // seconds since the stage began
};

// Empty: no progress wanted.
using ProgressFn = std::function<void(const Progress&)>;

// Calls `progress` when it is set.
inline void report(const ProgressFn& progress, const Progress& p) {
  if (progress) progress(p);
}

// The display of the command-line tools, written to `out`:
//   "profiling cpu/... layers 300/1200 (41 s, eta 123 s)"
// On a terminal (`tty`) the line is redrawn in place ("\r") and ended when
// the stage is done; otherwise (a log file) one line per tenth of the stage
// instead of a line per item. An announcement (total 0) is printed as
// `what` on a line of its own.
ProgressFn progress_printer(std::ostream& out, bool tty);

// progress_printer on std::cerr, `tty` when stderr is a terminal.
ProgressFn stderr_progress();

// stderr_progress(), or no callback when `quiet` (for the overloads that
// take a quiet flag).
ProgressFn stderr_progress_unless(bool quiet);

}  // namespace mnas::latency
