// KDFa and KDFe: published known answers, and a cross-check against OpenSSL's
// own KBKDF and SSKDF (tests/support/soft_tpm_credential.h).
#include "concierge/evidence/tpm/kdf.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "concierge/core/encoding.h"
#include "support/soft_tpm_credential.h"

namespace concierge::evidence::tpm {
namespace {

Bytes hex(const char* h) {
  auto r = hex_decode(h);
  EXPECT_TRUE(r.has_value()) << h;
  return r.value_or(Bytes{});
}

Bytes random(std::size_t n) {
  Bytes b(n);
  if (n > 0) {
    EXPECT_EQ(RAND_bytes(b.data(), static_cast<int>(n)), 1);
  }
  return b;
}

// The TPM 2.0 reference implementation's KDFa self-test (KdfTestData.h, used
// by TestKDFa in AlgorithmTests.c): a 20-byte key, label
// "KDFSELFTESTLABEL", 8-byte contexts, 160 bits, one answer per hash.
TEST(TpmKdf, KdfaMatchesTheReferenceImplementationSelfTest) {
  const Bytes key = hex("271fa08bbdc5060ec3dfa928ff9b73123a12da0c");
  const Bytes u = hex("ce244f395dca7391");
  const Bytes v = hex("da504031ddf12e83");
  const struct {
    HashAlg alg;
    const char* out;
  } cases[] = {
      {HashAlg::kSha1, "55b5a7184aa07423c47dae766c26a2377d7cf851"},
      {HashAlg::kSha256, "bb0259e1c8ba607e6a2cd704b69a902e9ade84c4"},
      {HashAlg::kSha384, "1dce70c9113eb2dba47bd9cfc72bf46f45b09312"},
      {HashAlg::kSha512, "8be2c1b85b78569b9fa759f5857c56d684810fd3"},
  };
  for (const auto& c : cases) {
    auto out = kdfa(c.alg, key, "KDFSELFTESTLABEL", u, v, 160);
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    EXPECT_EQ(hex_encode(*out), c.out) << hash_name(c.alg);
  }
  // A label given with its NUL is the same label.
  EXPECT_EQ(
      kdfa(HashAlg::kSha256, key, std::string_view("KDFSELFTESTLABEL\0", 17), u, v, 160).value(),
      hex("bb0259e1c8ba607e6a2cd704b69a902e9ade84c4"));
}

// Vectors from github.com/chrisfenner/tpm-test-vectors (vectors/kdfe.json,
// generated with go-tpm's KDFe), including bit lengths that are not whole
// bytes.
TEST(TpmKdf, KdfeMatchesPublishedVectors) {
  const struct {
    HashAlg alg;
    const char *z, *use, *u, *v;
    std::size_t bits;
    const char* out;
  } cases[] = {
      {HashAlg::kSha1, "9b050039c8e5ca60deeb978f2faf573c94af61", "IDENTITY",
       "ff1a1852db7b60a5c963f17eb306f3a905d100ae", "0047ee45771a256d58b091b6d6", 32, "94c3c160"},
      {HashAlg::kSha1, "356f9d00d61b54cf010580b1755d1975905c00", "CFB",
       "006c5c2bcdd650f6c836dba98c4734", "8849bd3d05d69f", 7, "58"},
      {HashAlg::kSha256, "00", "OBFUSCATE",
       "ebcb3cd4a002941ed496ef1d32a70b0b7f6f05b8a51803d5a9ff9b",
       "a1f79a7ee2beee21e2bfaee67769874687bfe21b2468fc8e721b6e967e12ff", 496,
       "dcd14d72e0d5d8ec15b5ea15ae060e02f0e042f3af7efbd73650bb4457d73b060ef8f78bdf8cea099fe98fad63"
       "59bcfe92c1c6be8a157c1064c85ada3ad2"},
      {HashAlg::kSha256, "ffe8361b9fdfe01398db23a1b2a1bc35ffe737", "IDENTITY", "",
       "ff26e2f76cb6fbf1", 659,
       "007d2cb3d906980fbce09d1bfe42b8d3c827c2d9fed082e0344e40c80f08c0a9eb629068d66164fbf03b3e1812"
       "4f8ae3400647cf06f6c43be3740a49ec96c25f9115cff6625822878a451c601fa6bf749d2321"},
      {HashAlg::kSha384,
       "d3752788fb54bf2c0c91e2698117157b3e4507c64c337746177cb3dded582edd62c2151ff91a5ade73f877cb31"
       "5fff",
       "DUPLICATE", "0062b7bc996f0ac1c9836ba8bd31d1d5a5608cea46f9080a179f309b4adf94a8ebef4fecf67f",
       "ffc03109c3f0d4c78b82d2562442071d3d90bb", 12, "0d2c"},
      {HashAlg::kSha384, "ff1f419e5f1dbb2077d6a82e82a928a56bedf5c8c223a10c6646ca5f0db99f91f0",
       "XOR",
       "6dcf4b9a62a0438b83c7e27d18ecd75075341ae7bd1d3a2615ff09885363abcef324eb1396816c3bb196",
       "004352c8abc6f41bc955e09f9eeab29e83b3451f", 232,
       "af807b1ff3cf665c976579e765cb93d6c1f35159364fb8e5b6f1742015"},
  };
  for (const auto& c : cases) {
    auto out = kdfe(c.alg, hex(c.z), c.use, hex(c.u), hex(c.v), c.bits);
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    EXPECT_EQ(hex_encode(*out), c.out) << c.use << " " << c.bits;
  }
}

TEST(TpmKdf, BothAgreeWithOpenSslsKdfsOnWholeBytes) {
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    for (std::size_t bytes : {1u, 16u, 20u, 32u, 33u, 64u, 100u}) {
      const Bytes key = random(digest_size(alg));
      const Bytes u = random(bytes % 7 == 0 ? 0 : 34);
      const Bytes v = random(bytes % 3 == 0 ? 0 : 32);
      auto ours = kdfa(alg, key, "STORAGE", u, v, 8 * bytes);
      auto theirs = testing::openssl_kdfa(alg, key, "STORAGE", u, v, bytes);
      ASSERT_TRUE(ours.has_value()) << ours.error().to_string();
      ASSERT_TRUE(theirs.has_value()) << theirs.error().to_string();
      EXPECT_EQ(*ours, *theirs) << hash_name(alg) << " " << bytes;

      auto ours_e = kdfe(alg, key, "IDENTITY", u, v, 8 * bytes);
      auto theirs_e = testing::openssl_kdfe(alg, key, "IDENTITY", u, v, bytes);
      ASSERT_TRUE(ours_e.has_value()) << ours_e.error().to_string();
      ASSERT_TRUE(theirs_e.has_value()) << theirs_e.error().to_string();
      EXPECT_EQ(*ours_e, *theirs_e) << hash_name(alg) << " " << bytes;
    }
  }
}

TEST(TpmKdf, PartialBytesClearTheHighBitsOfTheFirstByte) {
  const Bytes key = random(32);
  for (std::size_t bits : {1u, 7u, 9u, 13u, 255u}) {
    auto out = kdfa(HashAlg::kSha256, key, "TEST", {}, {}, bits);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->size(), (bits + 7) / 8);
    EXPECT_EQ((*out)[0] >> (bits % 8), 0) << bits;
  }
}

TEST(TpmKdf, BadLengthsAreInvalidArguments) {
  const Bytes key = random(32);
  for (std::size_t bits : {std::size_t{0}, std::size_t{8 * 65535 + 1}}) {
    auto a = kdfa(HashAlg::kSha256, key, "STORAGE", {}, {}, bits);
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(a.error().code, Errc::kInvalidArgument);
    auto e = kdfe(HashAlg::kSha256, key, "IDENTITY", {}, {}, bits);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, Errc::kInvalidArgument);
  }
}

}  // namespace
}  // namespace concierge::evidence::tpm
