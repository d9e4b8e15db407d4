#include "concierge/core/time.h"

#include <gtest/gtest.h>

namespace concierge {
namespace {

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  auto t = parse_rfc3339("2022-09-24T00:55:28Z");
  ASSERT_TRUE(t) << t.error().to_string();
  EXPECT_EQ(unix_seconds(*t), 1663980928);
  auto t2 = parse_rfc3339("2022-09-24T02:55:28.5+02:00");
  ASSERT_TRUE(t2);
  EXPECT_EQ(unix_seconds(*t2), 1663980928);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*t2 - *t).count(), 500);
  auto t3 = parse_rfc3339("1999-12-31t23:59:59z");
  ASSERT_TRUE(t3);
  EXPECT_EQ(unix_seconds(*t3), 946684799);
  EXPECT_EQ(format_rfc3339(*t), "2022-09-24T00:55:28Z");
  EXPECT_EQ(format_rfc3339(*t3), "1999-12-31T23:59:59Z");
  EXPECT_EQ(unix_seconds(*parse_rfc3339("2024-02-29", true)), 1709164800);
}

TEST(Rfc3339, RejectsWhatIsNotATime) {
  for (const char* bad : {"", "2022-09-24", "2022-09-24T00:55:28", "2022-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2022-09-24T24:00:00Z", "2022-09-24T00:00:00Zx",
                          "2022-9-24T00:00:00Z", "2022-09-24T00:00:00+0200", "yesterday"}) {
    auto t = parse_rfc3339(bad);
    EXPECT_FALSE(t) << bad;
    if (!t) {
      EXPECT_EQ(t.error().code, Errc::kMalformed);
    }
  }
}

}  // namespace
}  // namespace concierge

namespace concierge {
namespace {

// TimePoint spans about 1678 to 2261: a time outside is an error, not a
// wrapped-around date ("never expires" 9999 would land in 1816).
TEST(Rfc3339, TimesOutsideTheClocksRangeAreRejected) {
  EXPECT_FALSE(parse_rfc3339("9999-12-31T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("1600-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("1470-01-01t00:00:00.5z"));
  EXPECT_TRUE(parse_rfc3339("2261-12-31T00:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("1679-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace concierge
