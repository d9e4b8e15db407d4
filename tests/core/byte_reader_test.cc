#include "concierge/core/byte_reader.h"

#include <gtest/gtest.h>

namespace concierge {
namespace {

TEST(ByteReader, ReadsBothEndiannesses) {
  const Bytes data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                      0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
                      0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d};
  ByteReader r(data);
  EXPECT_EQ(*r.u8("a"), 0x01);
  EXPECT_EQ(*r.u16le("b"), 0x0302);
  EXPECT_EQ(*r.u32le("c"), 0x07060504u);
  EXPECT_EQ(*r.u64le("d"), 0x0f0e0d0c0b0a0908ull);
  EXPECT_EQ(*r.u16be("e"), 0x1011);
  EXPECT_EQ(*r.u32be("f"), 0x12131415u);
  EXPECT_EQ(r.offset(), 21u);
  EXPECT_EQ(*r.u64be("g"), 0x161718191a1b1c1dull);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.expect_end("x").has_value());
}

TEST(ByteReader, TruncationNamesFieldAndOffsetAndDoesNotAdvance) {
  const Bytes data = {1, 2, 3};
  ByteReader r(data, 0x100);
  ASSERT_TRUE(r.u8("first").has_value());
  auto v = r.u32le("event_size");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, Errc::kTruncated);
  EXPECT_EQ(v.error().field, "event_size");
  EXPECT_EQ(v.error().offset, 0x101u);
  EXPECT_NE(v.error().to_string().find("event_size"), std::string::npos);
  EXPECT_NE(v.error().to_string().find("0x101"), std::string::npos);
  EXPECT_EQ(r.offset(), 0x101u);
  EXPECT_EQ(*r.u16be("rest"), 0x0203);
}

TEST(ByteReader, HugeLengthsFailWithoutOverflow) {
  const Bytes data = {1, 2, 3, 4};
  ByteReader r(data);
  EXPECT_FALSE(r.bytes(SIZE_MAX, "big").has_value());
  EXPECT_FALSE(r.skip(SIZE_MAX - 1, "big").has_value());
  EXPECT_EQ(r.remaining(), 4u);
}

TEST(ByteReader, SubReaderKeepsAbsoluteOffsets) {
  const Bytes data = {0, 0, 0, 0, 9, 8, 7};
  ByteReader r(data, 10);
  ASSERT_TRUE(r.skip(4, "pad").has_value());
  auto sub = r.sub(2, "inner");
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->offset(), 14u);
  EXPECT_EQ(*sub->u8("x"), 9);
  auto err = sub->u16le("y");
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().offset, 15u);
  EXPECT_EQ(r.offset(), 16u);
}

TEST(ByteReader, TrailingDataAndZeroPadding) {
  const Bytes data = {1, 0, 0, 0};
  ByteReader r(data);
  ASSERT_TRUE(r.u8("x").has_value());
  EXPECT_TRUE(r.rest_is_zero());
  auto end = r.expect_end("record");
  ASSERT_FALSE(end.has_value());
  EXPECT_EQ(end.error().code, Errc::kTrailingData);
  EXPECT_EQ(end.error().offset, 1u);
}

}  // namespace
}  // namespace concierge
