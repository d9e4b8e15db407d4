#include "concierge/core/digest.h"

#include <gtest/gtest.h>

#include <string>

#include "concierge/core/encoding.h"

namespace concierge {
namespace {

struct Known {
  HashAlg alg;
  const char* abc;  // digest of "abc" (FIPS 180 examples; GB/T 32905 for SM3)
};

constexpr Known kAbc[] = {
    {HashAlg::kSha1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {HashAlg::kSha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {HashAlg::kSha384,
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c82"
     "5a7"},
    {HashAlg::kSha512,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3fee"
     "bbd"
     "454d4423643ce80e2a9ac94fa54ca49f"},
};

constexpr char kSm3Abc[] = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

TEST(Digest, NistAbcVectors) {
  for (const Known& k : kAbc) {
    SCOPED_TRACE(hash_name(k.alg));
    auto d = digest(k.alg, as_bytes("abc"));
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(hex_encode(*d), k.abc);
    EXPECT_EQ(d->size(), digest_size(k.alg));
  }
}

TEST(Digest, Sm3WhenAvailable) {
  if (!sm3_available()) {
    auto d = digest(HashAlg::kSm3_256, as_bytes("abc"));
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::kUnsupported);
    GTEST_SKIP() << "this OpenSSL has no SM3";
  }
  EXPECT_EQ(hex_encode(*digest(HashAlg::kSm3_256, as_bytes("abc"))), kSm3Abc);
}

TEST(Digest, EmptyInputSha256) {
  EXPECT_EQ(hex_encode(*digest(HashAlg::kSha256, {})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Digest, HasherIncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>('a' + i % 26);
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    SCOPED_TRACE(hash_name(alg));
    auto h = Hasher::create(alg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->alg(), alg);
    const ByteView all = as_bytes(data);
    h->update(all.first(1)).update(all.subspan(1, 99)).update({}).update(all.subspan(100));
    Hasher moved = std::move(*h);
    auto inc = moved.finish();
    ASSERT_TRUE(inc);
    EXPECT_EQ(*inc, *digest(alg, all));
  }
}

TEST(Digest, Digest2IntoIsDigestOfConcatenation) {
  const Bytes a(32, 0x00);
  const Bytes b = *digest(HashAlg::kSha256, as_bytes("event"));
  Bytes concat = a;
  concat.insert(concat.end(), b.begin(), b.end());
  Bytes out(32);
  ASSERT_TRUE(digest2_into(HashAlg::kSha256, a, b, out));
  EXPECT_EQ(out, *digest(HashAlg::kSha256, concat));
  // In place, as a PCR extend does: pcr = H(pcr || measurement).
  Bytes pcr(48, 0);
  const Bytes m = *digest(HashAlg::kSha384, as_bytes("m"));
  Bytes expect_in = pcr;
  expect_in.insert(expect_in.end(), m.begin(), m.end());
  ASSERT_TRUE(digest2_into(HashAlg::kSha384, pcr, m, pcr));
  EXPECT_EQ(pcr, *digest(HashAlg::kSha384, expect_in));
  Bytes small(10);
  EXPECT_FALSE(digest2_into(HashAlg::kSha256, a, b, small));
}

TEST(Digest, NamesAndIds) {
  for (HashAlg alg :
       {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kSm3_256}) {
    EXPECT_EQ(hash_from_name(hash_name(alg)), alg);
    EXPECT_EQ(hash_from_tcg_id(static_cast<std::uint16_t>(alg)), alg);
  }
  EXPECT_EQ(hash_from_name("sm3"), HashAlg::kSm3_256);
  EXPECT_FALSE(hash_from_name("md5"));
  EXPECT_FALSE(hash_from_tcg_id(0x0010));
  EXPECT_EQ(digest_size(HashAlg::kSm3_256), 32u);
}

}  // namespace
}  // namespace concierge
