#include "common/proc_maps.h"

#include <gtest/gtest.h>

namespace tracectl {
namespace {

TEST(ParseMapsLineTest, FieldsOfAFileMapping) {
  const auto line = ParseMapsLine(
      "7f00d000-7f00e000 r-xp 00001000 fe:01 55      /usr/lib/x86_64 "
      "linux/lib c.so.6");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->start, 0x7f00d000u);
  EXPECT_EQ(line->end, 0x7f00e000u);
  EXPECT_EQ(line->offset, 0x1000u);
  EXPECT_EQ(line->inode, 55u);
  EXPECT_EQ(line->perms, "r-xp");
  EXPECT_TRUE(line->executable());
  EXPECT_TRUE(line->file_backed());
  // The rest of the line, spaces and all.
  EXPECT_EQ(line->path, "/usr/lib/x86_64 linux/lib c.so.6");
}

TEST(ParseMapsLineTest, MemoryThatIsNoFile) {
  for (const char* text :
       {"01b8e000-01c6d000 rw-p 00000000 00:00 0       [heap]",
        "7ffd000-7ffe000 r-xp 00000000 00:00 0         [vdso]",
        "7f00f000-7f010000 rw-p 00000000 00:00 0       "}) {
    const auto line = ParseMapsLine(text);
    ASSERT_TRUE(line.has_value()) << text;
    EXPECT_FALSE(line->file_backed()) << text;
  }
  const auto heap =
      ParseMapsLine("01b8e000-01c6d000 rw-p 00000000 00:00 0       [heap]");
  EXPECT_EQ(heap->path, "[heap]");
  EXPECT_FALSE(heap->executable());
}

TEST(ParseMapsLineTest, NotAMapsLine) {
  for (const char* text :
       {"", "garbage", "0040-zz r--p 0 fe:01 1 /x", "0040-0050 r--p 0 fe:01"}) {
    EXPECT_FALSE(ParseMapsLine(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace tracectl
