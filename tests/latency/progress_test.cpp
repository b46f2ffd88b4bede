// The progress display the apps draw (terminal and log-file forms).
#include "latency/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mnas::latency {
namespace {

TEST(ProgressPrinter, RedrawsALineInPlaceOnATerminal) {
  std::ostringstream out;
  const ProgressFn p = progress_printer(out, /*tty=*/true);
  p({"compiling", 1, 2, 1.5});
  p({"compiling", 2, 2, 3.0});
  // eta: 1.5 s / 1 done x 1 left = 1.5 -> 1; then 0; the line ends when done.
  EXPECT_EQ(out.str(), "\rcompiling 1/2 (1 s, eta 1 s)   \rcompiling 2/2 (3 s, eta 0 s)   \n");
}

TEST(ProgressPrinter, WritesOneLinePerTenthToALogFile) {
  std::ostringstream out;
  const ProgressFn p = progress_printer(out, /*tty=*/false);
  for (int done = 1; done <= 20; ++done) p({"profiling", done, 20, done * 1.0});
  std::istringstream lines(out.str());
  std::string line, first;
  int n = 0;
  while (std::getline(lines, line)) {
    if (n++ == 0) first = line;
  }
  EXPECT_EQ(n, 10);  // done = 2, 4, ..., 20
  EXPECT_EQ(first, "profiling 2/20 (2 s, eta 18 s)");
}

TEST(ProgressPrinter, AnnouncesAStageWithoutACount) {
  std::ostringstream out;
  progress_printer(out, false)({"calibrating cpu/onednn"});
  progress_printer(out, true)({"calibrating cpu/onednn"});
  EXPECT_EQ(out.str(), "calibrating cpu/onednn\ncalibrating cpu/onednn\n");
}

TEST(Report, CallsOnlyASetCallback) {
  int calls = 0;
  report(ProgressFn(), {"x", 1, 1, 0.0});
  report([&](const Progress& p) { calls += p.done; }, {"x", 3, 4, 0.0});
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(stderr_progress_unless(true));
  EXPECT_TRUE(stderr_progress_unless(false));
}

}  // namespace
}  // namespace mnas::latency
