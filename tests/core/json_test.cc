// core/json.h: the limits every untrusted JSON text is parsed under.
#include "concierge/core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace concierge {
namespace {

TEST(Json, NestingIsLimitedWithoutRecursion) {
  std::string ok(kJsonMaxDepth, '[');
  ok += std::string(kJsonMaxDepth, ']');
  EXPECT_TRUE(parse_json_with_offset(ok, "doc"));

  const std::string prefix = R"({"a": "[[[", "b": )";
  std::string deep = prefix + std::string(200000, '[') + std::string(200000, ']') + "}";
  auto r = parse_json_with_offset(deep, "doc", "doc: ");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "doc");
  EXPECT_EQ(r.error().message, "doc: JSON nested deeper than 64 levels");
  // The bracket opening level 65 (the object is level 1; brackets in a
  // string do not count).
  ASSERT_TRUE(r.error().offset.has_value());
  EXPECT_EQ(*r.error().offset, prefix.size() + 63);

  std::string objects;
  for (std::size_t i = 0; i <= kJsonMaxDepth; ++i) objects += R"({"a":)";
  objects += "1" + std::string(kJsonMaxDepth + 1, '}');
  EXPECT_FALSE(parse_json_with_offset(objects, "doc"));
}

TEST(Json, ValuesAreCounted) {
  std::string many = "[0";
  for (std::size_t i = 1; i < kJsonMaxElements; ++i) many += ",0";
  many += "]";  // the array and its values: one too many
  auto r = parse_json_with_offset(many, "doc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 262144 values"), std::string::npos);
  many.resize(many.size() - 3);
  many += "]";
  EXPECT_TRUE(parse_json_with_offset(many, "doc"));
}

TEST(Json, SyntaxErrorsAndDuplicates) {
  auto r = parse_json_with_offset(R"({"a": tru})", "doc", "p: ");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("p: not valid JSON: ", 0), 0u) << r.error().message;
  EXPECT_TRUE(r.error().offset.has_value());
  EXPECT_FALSE(parse_json_with_offset("{} {}", "doc"));
  EXPECT_FALSE(parse_json_with_offset("\"\xff\"", "doc"));

  EXPECT_TRUE(parse_json_with_offset(R"({"a":1,"a":2})", "doc"));
  auto dup =
      parse_json_with_offset(R"({"x":{"a":1,"a":2}})", "doc", "", {.reject_duplicate_names = true});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "duplicate member name \"a\"");
  EXPECT_TRUE(parse_json_with_offset(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})", "doc", "",
                                     {.reject_duplicate_names = true}));
}

}  // namespace
}  // namespace concierge
