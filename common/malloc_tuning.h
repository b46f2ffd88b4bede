// glibc malloc settings for LibTorch workloads (training and latency
// measurement alike).
//
// LibTorch's CPU allocator has no cache: every activation and gradient buffer
// is a posix_memalign/free pair. With glibc's defaults a buffer above the mmap
// threshold gets fresh pages from the kernel on every allocation and returns
// them on free, so each step page-faults all of its large buffers anew (the
// same model ran up to 13x slower here from that alone). Two traps:
//  - mallopt(M_MMAP_THRESHOLD, v) refuses v above 32 MiB on 64-bit (it
//    returns 0 and changes nothing), and training activations at batch 128
//    are larger than that;
//  - setting M_TRIM_THRESHOLD (or M_MMAP_THRESHOLD) switches off glibc's
//    dynamic threshold, so a refused threshold leaves every buffer above
//    128 KiB mmapped.
// So: no mmap at all (M_MMAP_MAX = 0: every block comes from the heap) and a
// 1 GiB trim threshold (freed memory stays with the process for the next
// step). Peak memory is unchanged; freed memory is kept rather than returned.
#pragma once

#include <malloc.h>

namespace mnas {

// Applies the settings once per process; later calls return the first
// result. True when glibc accepted both.
inline bool keep_freed_buffers() {
  static const bool ok = [] {
    const int no_mmap = mallopt(M_MMAP_MAX, 0);
    const int keep = mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return no_mmap == 1 && keep == 1;
  }();
  return ok;
}

}  // namespace mnas
