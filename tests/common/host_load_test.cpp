// The host-load note before a long CPU job (common/host_load.h): given only
// when several LibTorch threads meet a load of at least cores + 1, and it
// names the load, the CPUs and the remedy; the load average is read from
// /proc/loadavg on Linux.
#include "common/host_load.h"

#include <gtest/gtest.h>

namespace mnas {
namespace {

TEST(HostLoad, NoteOnlyWhenSeveralThreadsMeetALoadAboveTheCores) {
  const std::string note = contention_note(4.1, 2, 2);
  EXPECT_NE(note.find("load average 4.1 on 2 CPUs"), std::string::npos) << note;
  EXPECT_NE(note.find("--threads 1"), std::string::npos) << note;
  EXPECT_EQ(note.find('\n'), std::string::npos);
  EXPECT_NE(contention_note(3.0, 2, 2), "");   // cores + 1
  EXPECT_EQ(contention_note(2.9, 2, 2), "");   // an idle VM's background load
  EXPECT_EQ(contention_note(10.0, 2, 1), "");  // one thread slows only in proportion
  EXPECT_EQ(contention_note(10.0, 16, 8), "");
  EXPECT_NE(contention_note(17.5, 16, 8), "");
}

TEST(HostLoad, ReadsTheLoadAverageOnLinux) {
  const auto load = load_average();
  ASSERT_TRUE(load.has_value());
  EXPECT_GE(*load, 0.0);
}

}  // namespace
}  // namespace mnas
