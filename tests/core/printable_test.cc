// core/printable.h: text from outside made safe for a terminal.
#include "concierge/core/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace concierge {
namespace {

TEST(Printable, ControlCharactersAndBadUtf8AreEscaped) {
  EXPECT_EQ(printable_text("plain/path-1"), "plain/path-1");
  EXPECT_EQ(printable_text("\x1b[2J\x07\x7f\n"), "\\x1b[2J\\x07\\x7f\\x0a");
  EXPECT_EQ(printable_text(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable_text("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 kept
  EXPECT_EQ(printable_text("\xc2\x9b"
                           "31m"),
            "\\u009b31m");  // C1 CSI
  EXPECT_EQ(printable_text("a\xe2\x80\xae"
                           "b"),
            "a\\u202eb");                               // right-to-left override
  EXPECT_EQ(printable_text("\xff\xc3"), "\\xff\\xc3");  // ill-formed, truncated
  EXPECT_EQ(printable_text("\xc0\xaf"), "\\xc0\\xaf");  // overlong
}

TEST(Printable, IsIdempotentAndBounded) {
  const std::string raw = "\x1b]0;title\x07" + std::string(100, 'x') + "\xe2\x82\xac";
  const std::string once = printable_text(raw, 64);
  EXPECT_LE(once.size(), 64u);
  EXPECT_EQ(once.substr(once.size() - 3), "...");
  EXPECT_EQ(printable_text(once, 64), once);
  EXPECT_EQ(printable_text(printable_text(raw)), printable_text(raw));
  // A text that fits exactly is not cut.
  EXPECT_EQ(printable_text(std::string(10, 'a'), 10), std::string(10, 'a'));
  // A cut never splits a character or an escape.
  EXPECT_EQ(printable_text("ab\x1b", 5), "ab...");
  EXPECT_EQ(printable_text("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 8), "\xe2\x82\xac...");
}

}  // namespace
}  // namespace concierge
