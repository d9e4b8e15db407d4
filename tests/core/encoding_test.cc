#include "concierge/core/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace concierge {
namespace {

struct Rfc4648Vector {
  const char* plain;
  const char* base64;
  const char* base64url;  // unpadded
  const char* hex;
};

// RFC 4648 §10 test vectors.
constexpr Rfc4648Vector kVectors[] = {
    {"", "", "", ""},
    {"f", "Zg==", "Zg", "66"},
    {"fo", "Zm8=", "Zm8", "666f"},
    {"foo", "Zm9v", "Zm9v", "666f6f"},
    {"foob", "Zm9vYg==", "Zm9vYg", "666f6f62"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy", "666f6f626172"},
};

TEST(Encoding, Rfc4648VectorsRoundTrip) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.plain);
    const ByteView plain = as_bytes(v.plain);
    EXPECT_EQ(base64_encode(plain), v.base64);
    EXPECT_EQ(base64url_encode(plain), v.base64url);
    EXPECT_EQ(hex_encode(plain), v.hex);
    EXPECT_EQ(as_chars(*base64_decode(v.base64)), v.plain);
    EXPECT_EQ(as_chars(*base64url_decode(v.base64url)), v.plain);
    EXPECT_EQ(as_chars(*hex_decode(v.hex)), v.plain);
  }
}

TEST(Encoding, Base64UrlAlphabetAndOptionalPadding) {
  const Bytes data = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64_encode(data), "+//+");
  EXPECT_EQ(base64url_encode(data), "-__-");
  EXPECT_EQ(*base64url_decode("-__-"), data);
  EXPECT_EQ(as_chars(*base64url_decode("Zm8=")), "fo");  // padding accepted
  EXPECT_FALSE(base64url_decode("+//+"));                // standard alphabet refused
  EXPECT_FALSE(base64_decode("-__-"));                   // url alphabet refused
}

TEST(Encoding, HexAcceptsEitherCaseAndRejectsJunk) {
  EXPECT_EQ(*hex_decode("DEADbeef"), (Bytes{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(hex_encode(Bytes{0xAB, 0x01}), "ab01");
  auto odd = hex_decode("abc");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code, Errc::kMalformed);
  auto bad = hex_decode("00zz");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().offset, 2u);
  EXPECT_FALSE(hex_decode("0x00"));
  EXPECT_FALSE(hex_decode(" 00"));
}

TEST(Encoding, Base64RejectsBadCharacters) {
  for (const char* text : {"Zm9v!mFy", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9vYmF\xff", "Zm=v"}) {
    SCOPED_TRACE(text);
    auto r = base64_decode(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kMalformed);
  }
  auto r = base64_decode("Zm9v!mFy");
  EXPECT_EQ(r.error().offset, 4u);
}

TEST(Encoding, Base64RejectsBadPaddingAndLength) {
  EXPECT_FALSE(base64_decode("Zg"));     // padding required
  EXPECT_FALSE(base64_decode("Zg="));    // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Zg==="));  // too much padding
  EXPECT_FALSE(base64_decode("Z==="));   // three pad characters
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(base64url_decode("Z"));      // impossible length
  EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(Encoding, Base64RejectsNonCanonicalTrailingBits) {
  // "Zg==" is canonical for "f"; "Zh==" has nonzero unused bits.
  EXPECT_TRUE(base64_decode("Zg=="));
  EXPECT_FALSE(base64_decode("Zh=="));
  EXPECT_FALSE(base64_decode("Zm9="));  // canonical is Zm8=
  EXPECT_FALSE(base64url_decode("Zh"));
  EXPECT_FALSE(base64url_decode("Zm9"));
}

TEST(Encoding, AllByteValuesRoundTrip) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const ByteView part = ByteView(all).first(len);
    EXPECT_EQ(*base64_decode(base64_encode(part)), Bytes(part.begin(), part.end()));
    EXPECT_EQ(*base64url_decode(base64url_encode(part)), Bytes(part.begin(), part.end()));
    EXPECT_EQ(*hex_decode(hex_encode(part)), Bytes(part.begin(), part.end()));
  }
}

}  // namespace
}  // namespace concierge
