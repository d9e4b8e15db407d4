// The built-in Intel SGX Root CA: pinned fingerprint, shape, equality with the
// copy in the vectors folder and with the root of a real quote's PCK chain.
#include "concierge/evidence/dcap/intel_root.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

// `openssl x509 -in intel-sgx-root-ca.pem -outform der | sha256sum`
constexpr const char* kPinnedSha256 =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

std::string read_text(const std::filesystem::path& p) {
  return std::string(as_chars(concierge::testing::read_file(p)));
}

TEST(IntelRoot, FingerprintIsPinned) {
  EXPECT_EQ(hex_encode(intel_sgx_root_ca().fingerprint_sha256()), kPinnedSha256);
  EXPECT_EQ(kIntelSgxRootCaSha256, kPinnedSha256);
}

TEST(IntelRoot, IsIntelsSelfSignedP256Root) {
  const Certificate& root = intel_sgx_root_ca();
  EXPECT_EQ(root.subject(),
            "CN = Intel SGX Root CA, O = Intel Corporation, L = Santa Clara, ST = CA, C = US");
  EXPECT_EQ(root.issuer(), root.subject());
  EXPECT_TRUE(root.self_signed());
  EXPECT_EQ(root.serial_hex(), "22650cd65a9d3489f383b49552bf501b392706ac");
  EXPECT_EQ(root.not_before_unix(), 1526899510);  // 2018-05-21T10:45:10Z
  EXPECT_EQ(root.not_after_unix(), 2524607999);   // 2049-12-31T23:59:59Z
  auto key = root.public_key();
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->type(), KeyType::kEc);
  EXPECT_EQ(key->curve(), EcCurve::kP256);
  auto again = Certificate::from_pem(intel_sgx_root_ca_pem());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->der(), root.der());
}

TEST(IntelRoot, SameObjectFromEveryThread) {
  std::vector<const Certificate*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &intel_sgx_root_ca(); });
  }
  for (std::thread& t : threads) t.join();
  for (const Certificate* c : seen) EXPECT_EQ(c, &intel_sgx_root_ca());
}

TEST(IntelRoot, EqualsTheVectorCopy) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/intel-sgx-root-ca.pem");
  auto file = Certificate::from_pem(read_text(path));
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  EXPECT_EQ(hex_encode(file->fingerprint_sha256()), kPinnedSha256);
  EXPECT_EQ(file->der(), intel_sgx_root_ca().der());
}

TEST(IntelRoot, EqualsTheRootOfARealQuoteChain) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  const std::string bytes = read_text(path);
  const std::size_t begin = bytes.find("-----BEGIN CERTIFICATE-----");
  ASSERT_NE(begin, std::string::npos);
  auto certs = Certificate::from_pem_bundle(std::string_view(bytes).substr(begin));
  ASSERT_TRUE(certs.has_value()) << certs.error().to_string();
  ASSERT_EQ(certs->size(), 3u);
  EXPECT_EQ(certs->back().der(), intel_sgx_root_ca().der());
}

TEST(IntelRoot, IntelsTestRootIsADifferentCertificate) {
  for (const char* rel : {"sgx/intel-qvl-sample/trustedRootCaCert.pem",
                          "tdx/intel-qvl-sample/trustedRootCaCert.pem"}) {
    SCOPED_TRACE(rel);
    CONCIERGE_REQUIRE_VECTOR(path, rel);
    auto test_root = Certificate::from_pem(read_text(path));
    ASSERT_TRUE(test_root.has_value());
    EXPECT_EQ(test_root->subject(), intel_sgx_root_ca().subject());  // same name,
    EXPECT_NE(test_root->der(), intel_sgx_root_ca().der());          // another key
  }
}

}  // namespace
}  // namespace concierge::evidence::dcap
