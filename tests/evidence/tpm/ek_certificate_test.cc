// EK certificates: a real swtpm chain, and swtpm-style chains built with the
// test PKI (keyEncipherment / keyAgreement, a critical subjectAltName holding
// only a directoryName, tcg-kp-EKCertificate, subjectDirectoryAttributes).
#include "concierge/evidence/tpm/ek_certificate.h"

#include <gtest/gtest.h>

#include <chrono>

#include "concierge/core/encoding.h"
#include "evidence/tpm/swtpm_vectors.h"
#include "support/test_cache.h"
#include "support/test_pki.h"

namespace concierge::evidence::tpm {
namespace {

namespace v = swtpm_vectors;
using concierge::testing::CertOptions;
using concierge::testing::CustomExtension;
using concierge::testing::Issued;

Bytes hex(const char* h) { return hex_decode(h).value(); }

Certificate pem(const char* text) {
  auto c = Certificate::from_pem(text);
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
  return std::move(c).value();
}

// swtpm's EK certificate extensions (swtpm_cert), as DER extension values.
const Bytes kEkEku = hex("300706056781050801");  // SEQUENCE { tcg-kp-EKCertificate }
// SEQUENCE { SEQUENCE { tcg-at-tpmSpecification, SET { SEQUENCE { "2.0", 0, 164 } } } }
const Bytes kSubjectDirectoryAttributes =
    hex("3019301706056781050210310e300c0c03322e30020100020200a4");

std::vector<CustomExtension> ek_extensions(bool san_critical = true) {
  return {
      {"2.5.29.17",
       concierge::testing::directory_name_san({{"2.23.133.2.1", "id:00001014"},
                                               {"2.23.133.2.2", "swtpm"},
                                               {"2.23.133.2.3", "id:20191023"}}),
       san_critical},
      {"2.5.29.37", kEkEku, false},
      {"2.5.29.9", kSubjectDirectoryAttributes, false},
  };
}

CertOptions named(const char* cn) {
  CertOptions o;
  o.common_name = cn;
  return o;
}

struct Pki {
  Issued root = concierge::testing::make_root(named("swtpm-localca-rootca"));
  Issued ca = concierge::testing::make_intermediate(root, named("swtpm-localca"));
};

Pki& pki() {
  static Pki p;
  return p;
}

// An EK certificate for `ek_key` issued by the swtpm-like CA.
Certificate ek_cert(const PrivateKey& ek_key, CertOptions options) {
  auto copy = PrivateKey::from_pem(ek_key.to_pem().value()).value();
  return concierge::testing::make_leaf(pki().ca, options, std::move(copy)).cert;
}

CertOptions ek_options(bool rsa) {
  CertOptions o = named("unknown");
  o.leaf_key_usage = rsa ? "critical,keyEncipherment" : "critical,keyAgreement";
  o.extensions = ek_extensions();
  return o;
}

Result<EkCertificateCheck> verify(const Certificate& cert, const TpmPublic* ek,
                                  const ChainOptions& options = {}) {
  return verify_ek_certificate(cert, {pki().ca.cert}, {pki().root.cert}, options, ek);
}

TEST(TpmEkCertificate, RealSwtpmCertificateVerifiesWithItsEk) {
  const Certificate root = pem(v::kRootPem);
  const Certificate ca = pem(v::kIntermediatePem);
  const Certificate cert = pem(v::kEkRsaCertPem);
  auto ek = parse_tpm_public(hex(v::kEkRsaPublicHex));
  ASSERT_TRUE(ek.has_value());
  ChainOptions at;
  at.at = cert.not_before() + std::chrono::hours(1);

  auto r = verify_ek_certificate(cert, {ca}, {root}, at, &*ek);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  EXPECT_EQ(r->verdict.chain.size(), 3u);
  EXPECT_EQ(r->manufacturer, "id:00001014");
  EXPECT_EQ(r->manufacturer_id, 0x00001014u);
  EXPECT_EQ(r->model, "swtpm");
  EXPECT_EQ(r->version, "id:20191023");
  EXPECT_EQ(r->key_matches_ek, true);

  // The same certificate for another EK (the TPM's ECC EK) is rejected.
  auto other = parse_tpm_public(hex(v::kEkEccPublicHex));
  ASSERT_TRUE(other.has_value());
  r = verify_ek_certificate(cert, {ca}, {root}, at, &*other);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_EQ(r->verdict.reason, "EK certificate key differs from the EK");
  EXPECT_TRUE(r->verdict.chain.empty());
  EXPECT_EQ(r->key_matches_ek, false);
  EXPECT_EQ(r->model, "swtpm");

  // Without the intermediate the chain does not verify.
  r = verify_ek_certificate(cert, {}, {root}, at, &*ek);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("unable to get local issuer certificate"), std::string::npos)
      << r->verdict.reason;
}

TEST(TpmEkCertificate, SwtpmStyleRsaAndEccCertificatesVerify) {
  for (bool rsa : {true, false}) {
    auto key = rsa ? Result<PrivateKey>(concierge::testing::cached_rsa_key(2048))
                   : PrivateKey::generate_ec(EcCurve::kP256);
    ASSERT_TRUE(key.has_value());
    auto ek = ek_public_from_key(key->public_key().value());
    ASSERT_TRUE(ek.has_value());
    const Certificate cert = ek_cert(*key, ek_options(rsa));

    auto r = verify(cert, &*ek);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
    EXPECT_EQ(r->manufacturer, "id:00001014");
    EXPECT_EQ(r->model, "swtpm");
    EXPECT_EQ(r->version, "id:20191023");
    EXPECT_EQ(r->key_matches_ek, true);

    // Without an EK only the chain and the claims.
    r = verify(cert, nullptr);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->verdict.accepted);
    EXPECT_FALSE(r->key_matches_ek.has_value());
  }
}

TEST(TpmEkCertificate, EmptySubjectWithCriticalSanVerifies) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  CertOptions o = ek_options(false);
  o.empty_subject = true;
  const Certificate cert = ek_cert(key, o);
  EXPECT_EQ(cert.subject(), "");
  auto r = verify(cert, nullptr);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  EXPECT_EQ(r->model, "swtpm");
}

TEST(TpmEkCertificate, AnotherKeyIsRejected) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  auto other_key = PrivateKey::generate_ec(EcCurve::kP256).value();
  auto other = ek_public_from_key(other_key.public_key().value());
  ASSERT_TRUE(other.has_value());
  auto r = verify(ek_cert(key, ek_options(false)), &*other);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_EQ(r->verdict.reason, "EK certificate key differs from the EK");
}

TEST(TpmEkCertificate, ChainFailuresComeFirst) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  auto ek = ek_public_from_key(key.public_key().value());
  CertOptions o = ek_options(false);
  o.validity = concierge::testing::valid_for(-std::chrono::hours(48), -std::chrono::hours(24));
  auto r = verify(ek_cert(key, o), &*ek);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("certificate has expired"), std::string::npos)
      << r->verdict.reason;
  EXPECT_EQ(r->key_matches_ek, true);
}

TEST(TpmEkCertificate, UnknownCriticalExtensionsAreNotIgnored) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  CertOptions o = ek_options(false);
  o.extensions.push_back({"1.3.6.1.4.1.99999.1", hex("0500"), true});
  auto r = verify(ek_cert(key, o), nullptr);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("unhandled critical extension"), std::string::npos)
      << r->verdict.reason;
}

TEST(TpmEkCertificate, ClaimsAreEmptyWithoutTheAttributes) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  CertOptions o = ek_options(false);
  o.extensions.clear();
  auto r = verify(ek_cert(key, o), nullptr);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->verdict.accepted);
  EXPECT_EQ(r->manufacturer, "");
  EXPECT_EQ(r->model, "");
  EXPECT_EQ(r->version, "");
  EXPECT_FALSE(r->manufacturer_id.has_value());

  // A manufacturer that is not "id:" + 8 hex digits has no vendor ID.
  o.extensions = {{"2.5.29.17",
                   concierge::testing::directory_name_san(
                       {{"2.23.133.2.1", "Example TPMs"}, {"2.23.133.2.2", "m"}}),
                   true}};
  auto id = ek_tpm_identity(ek_cert(key, o));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->manufacturer, "Example TPMs");
  EXPECT_FALSE(id->manufacturer_id.has_value());
  EXPECT_EQ(id->version, "");
}

TEST(TpmEkCertificate, MalformedSubjectAltNameIsAnError) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  CertOptions o = ek_options(false);
  o.extensions = {{"2.5.29.17", hex("3003a401"), false}};  // truncated GeneralNames
  auto id = ek_tpm_identity(ek_cert(key, o));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code, Errc::kMalformed);
  EXPECT_EQ(id.error().field, "subjectAltName");
}

}  // namespace
}  // namespace concierge::evidence::tpm
