#include "concierge/core/jcs.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "concierge/core/json.h"

namespace concierge::jcs {
namespace {

using Json = nlohmann::json;

std::string canon(std::string_view text) {
  auto r = canonicalize_text(text);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : std::string();
}

double from_ieee_hex(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// RFC 8785 section 3.2.2 (and its appendix A sample): literals, numbers and
// string escaping in one object.
TEST(Jcs, Rfc8785PrimitivesExample) {
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(canon(input),
            "{\"literals\":[null,true,false],"
            "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

// RFC 8785 section 3.2.3: names sort by UTF-16 code units, so the emoji
// (surrogates D83D DE00) sorts before U+FB33 although its UTF-8 bytes (F0..)
// are greater than U+FB33's (EF..).
TEST(Jcs, Rfc8785SortingExample) {
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(canon(input),
            "{\"\\r\":\"Carriage Return\","
            "\"1\":\"One\","
            "\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
            "\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(Jcs, Utf16OrderDiffersFromByteOrderAboveTheBmp) {
  const std::string emoji = "\xF0\x9F\x98\x80";    // U+1F600 -> D83D DE00
  const std::string private_use = "\xEE\x80\x80";  // U+E000
  EXPECT_TRUE(utf16_less(emoji, private_use));
  EXPECT_FALSE(utf16_less(private_use, emoji));
  EXPECT_LT(private_use, emoji);  // byte order says the opposite
  EXPECT_TRUE(utf16_less("a", "ab"));
  EXPECT_FALSE(utf16_less("ab", "ab"));
  EXPECT_TRUE(utf16_less("B", "a"));
  // An object built in code sorts the same way.
  Json j = {{private_use, 1}, {emoji, 2}, {"z", 3}};
  EXPECT_EQ(*canonicalize(j), "{\"z\":3,\"" + emoji + "\":2,\"" + private_use + "\":1}");
}

// RFC 8785 appendix B: IEEE 754 bit patterns and their ECMAScript forms.
TEST(Jcs, Rfc8785AppendixBNumbers) {
  const std::pair<std::uint64_t, const char*> cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& [bits, expected] : cases) {
    auto s = number_to_string(from_ieee_hex(bits));
    ASSERT_TRUE(s) << std::hex << bits;
    EXPECT_EQ(*s, expected) << std::hex << bits;
  }
  EXPECT_FALSE(number_to_string(from_ieee_hex(0x7fffffffffffffff)));  // NaN
  EXPECT_FALSE(number_to_string(from_ieee_hex(0x7ff0000000000000)));  // Infinity
  EXPECT_FALSE(number_to_string(-std::numeric_limits<double>::infinity()));
}

TEST(Jcs, NumberFormsAtTheNotationBoundaries) {
  EXPECT_EQ(*number_to_string(1e21), "1e+21");
  EXPECT_EQ(*number_to_string(1e20), "100000000000000000000");
  EXPECT_EQ(*number_to_string(1e-7), "1e-7");
  EXPECT_EQ(*number_to_string(0.000001), "0.000001");
  EXPECT_EQ(*number_to_string(-0.0), "0");
  EXPECT_EQ(*number_to_string(333333333.3333333), "333333333.3333333");
  EXPECT_EQ(*number_to_string(1e30), "1e+30");
  EXPECT_EQ(*number_to_string(1.23e-18), "1.23e-18");
  EXPECT_EQ(*number_to_string(-1.5e-9), "-1.5e-9");
  EXPECT_EQ(*number_to_string(0.1), "0.1");
  EXPECT_EQ(*number_to_string(4.5), "4.5");
  EXPECT_EQ(*number_to_string(5.0), "5");
  EXPECT_EQ(*number_to_string(123456789.0), "123456789");
  // As values inside documents, parsed and built.
  EXPECT_EQ(canon("[1E30, -0.0, 1e-7, 0.000001, 1e21, 10.0]"), "[1e+30,0,1e-7,0.000001,1e+21,10]");
  EXPECT_EQ(*canonicalize(Json::array({1e21, -0.0, 0.5})), "[1e+21,0,0.5]");
  Json nan = Json::array({std::numeric_limits<double>::quiet_NaN()});
  EXPECT_EQ(canonicalize(nan).error().code, Errc::kMalformed);
}

TEST(Jcs, IntegersAreExactDecimal) {
  EXPECT_EQ(canon("[0, -0, 42, -42, 9007199254740991, -9007199254740991]"),
            "[0,0,42,-42,9007199254740991,-9007199254740991]");
  // Outside I-JSON's range: kept exact rather than rounded through a double.
  Json big = {std::numeric_limits<std::uint64_t>::max(), std::numeric_limits<std::int64_t>::min()};
  EXPECT_EQ(*canonicalize(big), "[18446744073709551615,-9223372036854775808]");
}

TEST(Jcs, StringEscapingFollowsJsonStringify) {
  std::string s;
  for (int c = 0; c < 0x20; ++c) s.push_back(static_cast<char>(c));
  s += "\x7F\"\\/\xE2\x80\xA8\xC3\xA9";
  EXPECT_EQ(*quote_string(s),
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\x7F\\\"\\\\/\xE2\x80\xA8\xC3\xA9\"");
  EXPECT_EQ(*quote_string(""), "\"\"");
  EXPECT_EQ(*quote_string("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
}

TEST(Jcs, IllFormedUtf8IsRejected) {
  const char* bad[] = {
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong
      "\xED\xA0\x80",      // encoded surrogate U+D800
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xF8\x88\x80\x80",  // 5-byte form
      "\x80",              // lone continuation
      "abc\xE2\x82",       // truncated
      "\xFF",
  };
  for (const char* s : bad) {
    EXPECT_EQ(quote_string(s).error().code, Errc::kMalformed) << s;
    EXPECT_FALSE(canonicalize(Json(std::string(s))));
    EXPECT_FALSE(canonicalize(Json::object({{std::string(s), 1}})));
  }
}

TEST(Jcs, NestedStructuresSortEveryLevelAndDropWhitespace) {
  EXPECT_EQ(canon(R"( { "b" : [ { "z" : 1 , "a" : { "y" : null , "x" : [ ] } } , { } ] ,
                        "a" : "" } )"),
            R"({"a":"","b":[{"a":{"x":[],"y":null},"z":1},{}]})");
  EXPECT_EQ(canon("\"top\""), "\"top\"");
  EXPECT_EQ(canon("true"), "true");
  EXPECT_EQ(canon("[]"), "[]");
  EXPECT_EQ(canon("{}"), "{}");
}

TEST(Jcs, StrictParsingRejectsDuplicatesAndGarbage) {
  EXPECT_EQ(parse_strict(R"({"a":1,"a":2})").error().code, Errc::kMalformed);
  EXPECT_EQ(parse_strict(R"({"x":{"a":1,"b":{"a":2},"a":3}})").error().code, Errc::kMalformed);
  // The same name in different objects is fine.
  EXPECT_TRUE(parse_strict(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"));
  EXPECT_FALSE(parse_strict(R"({"a":1} x)"));
  EXPECT_FALSE(parse_strict(R"({"a":1,})"));
  EXPECT_FALSE(parse_strict("\"\xC0\xAF\""));
  EXPECT_FALSE(parse_strict(R"("\ud800")"));  // lone surrogate escape
  EXPECT_FALSE(parse_strict(""));
  // Parsing is limited by core/json.h, more tightly than the serializer.
  std::string deep(kJsonMaxDepth + 1, '[');
  deep += std::string(kJsonMaxDepth + 1, ']');
  EXPECT_EQ(parse_strict(deep).error().code, Errc::kMalformed);
  std::string ok(kJsonMaxDepth, '[');
  ok += std::string(kJsonMaxDepth, ']');
  EXPECT_TRUE(parse_strict(ok));
}

TEST(Jcs, CanonicalFormIsAFixedPoint) {
  const std::string once = canon(R"({"n":[1.5e300,-2,3e-9],"s":"\u00e9\n","o":{"k":[true]}})");
  EXPECT_EQ(canon(once), once);
}

TEST(Jcs, BinaryAndTooDeepValuesAreUnsupported) {
  Json bin = Json::binary({1, 2, 3});
  EXPECT_EQ(canonicalize(bin).error().code, Errc::kUnsupported);
  Json deep = Json::array();
  for (std::size_t i = 0; i < kMaxDepth + 1; ++i) deep = Json::array({std::move(deep)});
  EXPECT_EQ(canonicalize(deep).error().code, Errc::kUnsupported);
}

}  // namespace
}  // namespace concierge::jcs
