// common/escape: the one escaper of text that reaches a terminal.
#include "common/escape.h"

#include <string>

#include "gtest/gtest.h"

namespace tracectl {
namespace {

TEST(EscapedTextTest, ControlCharactersBecomeOctalAndUtf8Stays) {
  EXPECT_EQ(EscapedText("\x1b[2J\x1b[H"), "\\033[2J\\033[H");
  EXPECT_EQ(EscapedText("a\nb\tc\x7f"), "a\\012b\\011c\\177");
  EXPECT_EQ(EscapedText("back\\slash"), "back\\\\slash");
  // C1 controls as UTF-8 (U+009B is a CSI for some terminals); other
  // UTF-8 is kept.
  EXPECT_EQ(EscapedText("x\xc2\x9b"
                        "1m"),
            "x\\302\\2331m");
  EXPECT_EQ(EscapedText("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(EscapedTextTest, CutAtTheLimit) {
  EXPECT_EQ(EscapedText(std::string(20000, 'a'), 8), "aaaaaaaa...");
  EXPECT_EQ(EscapedText("abc", 3), "abc");
}

}  // namespace
}  // namespace tracectl
