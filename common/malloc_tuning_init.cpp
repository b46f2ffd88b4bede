// Applies keep_freed_buffers() (common/malloc_tuning.h) before main() in
// every executable that links LibTorch: common/CMakeLists.txt adds this
// object file to the link interface of the imported `torch` target, so every
// app, bench and test that links LibTorch, present or future, gets it without
// a call of its own (`mnas_train --eval` once ran 15x slower for lack of one).
//
// MNAS_CHECK_MALLOC_TUNING=1 makes the process print "mnas malloc tuning:
// active" (or "refused") on stderr and exit before main() (status 0, or 1 when
// glibc refused): tests/apps/mnas_train_app_test.cpp runs every LibTorch app
// of the build that way, so an app linked without this file fails the test.
//
// Only internal-linkage definitions: the object may reach a link line more
// than once (once per library that links torch) without duplicate symbols;
// keep_freed_buffers() itself runs its settings once per process.
#include <cstdio>
#include <cstdlib>

#include "common/malloc_tuning.h"

namespace {

struct ApplyAtStartup {
  ApplyAtStartup() {
    const bool ok = mnas::keep_freed_buffers();
    const char* check = std::getenv("MNAS_CHECK_MALLOC_TUNING");
    if (check != nullptr && check[0] != '\0' && check[0] != '0') {
      std::fprintf(stderr, "mnas malloc tuning: %s\n", ok ? "active" : "refused");
      std::fflush(stderr);
      std::_Exit(ok ? 0 : 1);
    }
  }
};

const ApplyAtStartup apply_at_startup;

}  // namespace
