#include "concierge/verifier/binding.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"

namespace concierge::verifier {
namespace {

// Members given out of order: the canonical form sorts them.
const nlohmann::json kRuntime = {
    {"tee-pubkey", {{"y", "BBBB"}, {"x", "AAAA"}, {"kty", "EC"}, {"crv", "P-256"}}},
    {"nonce", "n-123"}};

// SHA-384 / SHA-256 of
// {"nonce":"n-123","tee-pubkey":{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}},
// computed independently (Python hashlib).
constexpr const char* kSha384 =
    "1d4f0950227653453ef6d1d506e0c0c82bf29a826f67dd18626d11015342b5679f99b91868fc7ca34b99923e8b9ccf"
    "53";
constexpr const char* kSha256 = "76961ddcd81f82feb497fa0b1a4bf950a36910bd97b8bf592837ce6eb9253b6f";

TEST(Binding, DigestIsTheCanonicalJsonHashedAndPadded) {
  auto d = runtime_data_digest(kRuntime, HashAlg::kSha384, 64);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(hex_encode(*d), std::string(kSha384) + std::string(32, '0'));
  auto t = runtime_data_digest(kRuntime, HashAlg::kSha256, 32);
  ASSERT_TRUE(t);
  EXPECT_EQ(hex_encode(*t), kSha256);
  EXPECT_FALSE(runtime_data_digest(kRuntime, HashAlg::kSha384, 32));
}

TEST(Binding, AnotherKeyOrNonceIsRejected) {
  const Bytes good = runtime_data_digest(kRuntime, HashAlg::kSha384, 64).value();
  EXPECT_TRUE(check_binding(good, kRuntime, HashAlg::kSha384, 64).value());
  nlohmann::json other_key = kRuntime;
  other_key["tee-pubkey"]["x"] = "CCCC";
  Verdict v = check_binding(good, other_key, HashAlg::kSha384, 64).value();
  EXPECT_FALSE(v);
  EXPECT_EQ(v.reason.rfind("report data does not bind the runtime data", 0), 0u);
  nlohmann::json other_nonce = kRuntime;
  other_nonce["nonce"] = "n-124";
  EXPECT_FALSE(check_binding(good, other_nonce, HashAlg::kSha384, 64).value());
}

TEST(Binding, RuntimeDataMustBeExactlyNonceAndKey) {
  EXPECT_FALSE(runtime_data_digest(nlohmann::json{{"nonce", "x"}}, HashAlg::kSha384, 64));
  EXPECT_FALSE(runtime_data_digest(nlohmann::json{{"nonce", 1}, {"tee-pubkey", {{"kty", "EC"}}}},
                                   HashAlg::kSha384, 64));
  nlohmann::json extra = kRuntime;
  extra["extra"] = true;
  EXPECT_FALSE(runtime_data_digest(extra, HashAlg::kSha384, 64));
}

}  // namespace
}  // namespace concierge::verifier
