#include "common/malloc_tuning.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace {

// Keeps the compiler from pairing away malloc and free.
void* volatile sink = nullptr;

// 64 MiB: above the largest mmap threshold glibc accepts (32 MiB), so with
// glibc's defaults (or a refused threshold) it would be an mmapped block that
// free() hands back to the kernel.
constexpr size_t kBig = size_t{64} << 20;

TEST(MallocTuning, LargeBuffersComeFromTheHeapAndStayAfterFree) {
  ASSERT_TRUE(mnas::keep_freed_buffers());
  EXPECT_TRUE(mnas::keep_freed_buffers());  // idempotent
  const struct mallinfo2 before = mallinfo2();
  sink = std::malloc(kBig);
  ASSERT_NE(sink, nullptr);
  std::memset(sink, 1, kBig);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblks, before.hblks) << "a 64 MiB block was mmapped";
  EXPECT_EQ(during.hblkhd, before.hblkhd);
  EXPECT_GE(during.uordblks, before.uordblks + kBig);
  std::free(sink);
  sink = nullptr;
  const struct mallinfo2 after = mallinfo2();
  // The heap keeps the freed block for the next allocation (no trim).
  EXPECT_GE(after.arena, kBig);
  EXPECT_GE(after.fordblks, kBig);
}

}  // namespace
