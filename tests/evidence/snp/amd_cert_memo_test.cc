// AmdChainCache::parse_certificate: certificates parsed once by their exact
// DER bytes, with Certificate::from_der's outcomes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "concierge/core/cert_builder.h"
#include "concierge/core/private_key.h"
#include "concierge/evidence/snp/amd_chain.h"

namespace concierge::evidence::snp {
namespace {

Certificate make_cert(const std::string& cn, const PrivateKey& key) {
  CertSpec spec;
  spec.subject = {{NameAttribute::kCommonName, cn}};
  spec.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  spec.not_after = spec.not_before + std::chrono::hours(48);
  return self_sign_certificate(spec, key).value();
}

Certificate make_cert(const std::string& cn) {
  return make_cert(cn, PrivateKey::generate_ec(EcCurve::kP256).value());
}

TEST(SnpAmdCertMemo, TheSameBytesGiveTheSameParsedCertificate) {
  AmdChainCache cache;
  const Bytes der = make_cert("memo one").der();
  auto first = cache.parse_certificate(der);
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = cache.parse_certificate(Bytes(der));  // equal bytes, another buffer
  ASSERT_TRUE(second);
  EXPECT_EQ(first->get(), second->get());  // one X509, shared
  EXPECT_EQ(first->der(), der);

  const Bytes other = make_cert("memo two").der();
  auto third = cache.parse_certificate(other);
  ASSERT_TRUE(third);
  EXPECT_NE(third->get(), first->get());
  EXPECT_EQ(third->der(), other);

  cache.clear();
  auto after_clear = cache.parse_certificate(der);
  ASSERT_TRUE(after_clear);
  EXPECT_EQ(after_clear->der(), der);
}

TEST(SnpAmdCertMemo, MalformedBytesFailAsFromDerDoes) {
  AmdChainCache cache;
  Bytes der = make_cert("memo malformed").der();
  der.push_back(0);  // trailing byte
  auto trailing = cache.parse_certificate(der);
  auto direct = Certificate::from_der(der);
  ASSERT_FALSE(trailing);
  ASSERT_FALSE(direct);
  EXPECT_EQ(trailing.error().code, direct.error().code);
  der.pop_back();
  der[der.size() / 2] ^= 0xff;  // inside the structure
  auto broken = cache.parse_certificate(der);
  auto broken_direct = Certificate::from_der(der);
  EXPECT_EQ(broken.has_value(), broken_direct.has_value());
  EXPECT_FALSE(cache.parse_certificate(Bytes{}));
}

TEST(SnpAmdCertMemo, StaysBoundedAndServesManyThreads) {
  AmdChainCache cache;
  std::vector<Bytes> ders;
  for (int i = 0; i < 4; ++i) ders.push_back(make_cert("memo thread " + std::to_string(i)).der());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const Bytes& der = ders[(t + i) % ders.size()];
        auto c = cache.parse_certificate(der);
        if (!c || c->der() != der) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  // More distinct certificates than the memo holds: still right, still bounded.
  const auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  for (int i = 0; i < 1100; ++i) {
    const Bytes der = make_cert("memo bound " + std::to_string(i), key).der();
    auto c = cache.parse_certificate(der);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->der(), der);
  }
}

}  // namespace
}  // namespace concierge::evidence::snp
