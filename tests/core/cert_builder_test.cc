#include "concierge/core/cert_builder.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "concierge/core/encoding.h"
#include "support/test_cache.h"

namespace concierge {
namespace {

using std::chrono::hours;

constexpr auto kDay = hours(24);

PrivateKey ec_key(EcCurve curve = EcCurve::kP256) {
  Result<PrivateKey> k = PrivateKey::generate_ec(curve);
  EXPECT_TRUE(k) << k.error().to_string();
  return std::move(k).value();
}

// One RSA-2048 key for the whole file (generation is the slow part: made
// once per build of the test binary, support/test_cache.h).
const PrivateKey& rsa_key() {
  static const PrivateKey key = concierge::testing::cached_rsa_key(2048);
  return key;
}

CertSpec ca_spec(const std::string& cn) {
  CertSpec s;
  s.subject = {{NameAttribute::kOrganization, "Concierge Test"}, {NameAttribute::kCommonName, cn}};
  const TimePoint now = std::chrono::system_clock::now();
  s.not_before = now - kDay;
  s.not_after = now + 365 * kDay;
  s.basic_constraints = BasicConstraints{true, std::nullopt, true};
  s.key_usage = KeyUsage{key_usage::kKeyCertSign | key_usage::kCrlSign, true};
  return s;
}

CertSpec leaf_spec(const std::string& cn) {
  CertSpec s = ca_spec(cn);
  s.basic_constraints = BasicConstraints{false, std::nullopt, true};
  s.key_usage = KeyUsage{key_usage::kDigitalSignature, true};
  return s;
}

PublicKey public_of(const PrivateKey& k) {
  Result<PublicKey> p = k.public_key();
  EXPECT_TRUE(p);
  return std::move(p).value();
}

bool contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// The RSASSA-PSS-params fields of AMD's certificates (RFC 4055): SHA-384, MGF1
// with SHA-384, salt length 48 (AMD also writes the default trailerField).
const Bytes kPssSha384Params = [] {
  Result<Bytes> b = hex_decode(
      "a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402"
      "020500a203020130");
  return b ? *b : Bytes{};
}();

TEST(CertBuilder, RsaPssRootAndIntermediateVerify) {
  CertSpec root_spec = ca_spec("PSS Root");
  root_spec.signature = SignatureScheme::kRsaPssSha384;
  root_spec.authority_key_identifier = false;
  Result<Certificate> root = self_sign_certificate(root_spec, rsa_key());
  ASSERT_TRUE(root) << root.error().to_string();
  EXPECT_TRUE(root->self_signed());

  int md = 0, pk = 0;
  ASSERT_EQ(X509_get_signature_info(root->get(), &md, &pk, nullptr, nullptr), 1);
  EXPECT_EQ(md, NID_sha384);
  EXPECT_EQ(pk, NID_rsassaPss);
  EXPECT_TRUE(contains(root->der(), kPssSha384Params));

  // An EC leaf signed by the RSA root with PSS, as AMD's ASK signs a VCEK.
  PrivateKey leaf_key = ec_key(EcCurve::kP384);
  CertSpec ls = leaf_spec("Leaf");
  ls.signature = SignatureScheme::kRsaPssSha384;
  Result<Certificate> leaf = issue_certificate(ls, public_of(leaf_key), *root, rsa_key());
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  Result<ChainVerdict> v = verify_chain(*leaf, {}, {*root});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
}

TEST(CertBuilder, EcdsaChainWithIntermediateVerifies) {
  PrivateKey root_key = ec_key(EcCurve::kP384);
  Result<Certificate> root = self_sign_certificate(ca_spec("EC Root"), root_key);
  ASSERT_TRUE(root) << root.error().to_string();
  int md = 0;
  ASSERT_EQ(X509_get_signature_info(root->get(), &md, nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(md, NID_sha384);  // the default for a P-384 key

  PrivateKey ca_key = ec_key();
  CertSpec cs = ca_spec("EC Intermediate");
  cs.basic_constraints->path_len = 0;
  cs.signature = SignatureScheme::kEcdsaSha256;
  Result<Certificate> ca = issue_certificate(cs, public_of(ca_key), *root, root_key);
  ASSERT_TRUE(ca) << ca.error().to_string();
  EXPECT_EQ(X509_get_pathlen(ca->get()), 0);

  PrivateKey leaf_key = ec_key();
  Result<Certificate> leaf =
      issue_certificate(leaf_spec("EC Leaf"), public_of(leaf_key), *ca, ca_key);
  ASSERT_TRUE(leaf) << leaf.error().to_string();
  EXPECT_EQ(X509_get_key_usage(leaf->get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));

  // authorityKeyIdentifier = the issuer's subjectKeyIdentifier.
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf->get());
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(ca->get());
  ASSERT_NE(aki, nullptr);
  ASSERT_NE(ski, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ski), 0);

  Result<ChainVerdict> v = verify_chain(*leaf, {*ca}, {*root});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
}

TEST(CertBuilder, RsaPkcs1Signature) {
  CertSpec s = ca_spec("PKCS1 Root");
  s.signature = SignatureScheme::kRsaPkcs1Sha384;
  Result<Certificate> root = self_sign_certificate(s, rsa_key());
  ASSERT_TRUE(root) << root.error().to_string();
  int md = 0, pk = 0;
  ASSERT_EQ(X509_get_signature_info(root->get(), &md, &pk, nullptr, nullptr), 1);
  EXPECT_EQ(md, NID_sha384);
  EXPECT_EQ(pk, NID_rsaEncryption);
  EXPECT_TRUE(root->self_signed());
}

TEST(CertBuilder, SerialZeroAndLongSerialsRoundTrip) {
  PrivateKey key = ec_key();
  CertSpec s = leaf_spec("Serial");
  s.serial = Bytes{};
  Result<Certificate> zero = self_sign_certificate(s, key);
  ASSERT_TRUE(zero) << zero.error().to_string();
  EXPECT_EQ(zero->serial_hex(), "00");

  s.serial = serial_from_u64(0);
  EXPECT_EQ(self_sign_certificate(s, key)->serial_hex(), "00");

  s.serial = Bytes(20, 0xAB);
  EXPECT_EQ(self_sign_certificate(s, key)->serial_hex(), hex_encode(Bytes(20, 0xAB)));

  s.serial = serial_from_u64(0x10000);
  EXPECT_EQ(self_sign_certificate(s, key)->serial_hex(), "010000");

  // Unset: random, positive, 16 bytes at most; two draws differ.
  s.serial.reset();
  Result<Certificate> a = self_sign_certificate(s, key);
  Result<Certificate> b = self_sign_certificate(s, key);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->serial_hex(), b->serial_hex());
  EXPECT_LE(a->serial_hex().size(), 32u);
  EXPECT_NE(a->serial_hex()[0], '-');
}

TEST(CertBuilder, SerialFromU64IsMinimal) {
  EXPECT_EQ(serial_from_u64(0), Bytes{});
  EXPECT_EQ(serial_from_u64(1), Bytes{1});
  EXPECT_EQ(serial_from_u64(0x10101), (Bytes{1, 1, 1}));
  EXPECT_EQ(serial_from_u64(~0ull), Bytes(8, 0xFF));
}

TEST(CertBuilder, CustomExtensionVisibleThroughCertificate) {
  PrivateKey key = ec_key();
  CertSpec s = leaf_spec("Custom");
  s.extensions = {{"1.3.6.1.4.1.3704.1.3.8", Bytes{0x02, 0x02, 0x00, 0xD1}, false},
                  {"1.2.3.4.5", Bytes{0x0C, 0x02, 'h', 'i'}, true},
                  {"1.3.6.1.4.1.3704.1.4", Bytes(64, 0x3A), false}};  // raw, not DER
  Result<Certificate> c = self_sign_certificate(s, key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(*c->extension("1.3.6.1.4.1.3704.1.3.8"), (Bytes{0x02, 0x02, 0x00, 0xD1}));
  EXPECT_EQ(*c->extension("1.2.3.4.5"), (Bytes{0x0C, 0x02, 'h', 'i'}));
  EXPECT_EQ(*c->extension("1.3.6.1.4.1.3704.1.4"), Bytes(64, 0x3A));
  EXPECT_EQ(c->extension("1.2.3.4.6").error().code, Errc::kNotFound);

  ASN1_OBJECT* obj = OBJ_txt2obj("1.2.3.4.5", 1);
  const int at = X509_get_ext_by_OBJ(c->get(), obj, -1);
  ASN1_OBJECT_free(obj);
  ASSERT_GE(at, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(c->get(), at)), 1);
}

TEST(CertBuilder, SubjectAttributesInOrderAndEmptySubject) {
  PrivateKey key = ec_key();
  CertSpec s = leaf_spec("x");
  s.subject = {{NameAttribute::kOrganizationalUnit, "Engineering"},
               {NameAttribute::kCountry, "US"},
               {NameAttribute::kLocality, "Santa Clara"},
               {NameAttribute::kState, "CA"},
               {NameAttribute::kOrganization, "Concierge"},
               {NameAttribute::kCommonName, "SEV-VCEK"}};
  Result<Certificate> c = self_sign_certificate(s, key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->subject(),
            "OU = Engineering, C = US, L = Santa Clara, ST = CA, O = Concierge, "
            "CN = SEV-VCEK");
  EXPECT_EQ(c->issuer(), c->subject());

  s.subject = {};
  s.extensions = {{"2.5.29.17", Bytes{0x30, 0x03, 0x82, 0x01, 'a'}, true}};
  Result<Certificate> empty = self_sign_certificate(s, key);
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_EQ(empty->subject(), "");
}

TEST(CertBuilder, ValidityRoundTripsIncludingGeneralizedTime) {
  PrivateKey key = ec_key();
  CertSpec s = leaf_spec("Time");
  s.not_before = std::chrono::sys_days(std::chrono::year(2020) / 10 / 22) + hours(17);
  s.not_after = std::chrono::sys_days(std::chrono::year(2050) / 1 / 1);
  Result<Certificate> c = self_sign_certificate(s, key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->not_before_unix(), 1603386000);
  EXPECT_EQ(c->not_after_unix(), 2524608000);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notAfter(c->get())), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_notBefore(c->get())), V_ASN1_UTCTIME);
}

TEST(CertBuilder, OptionalStandardExtensionsCanBeLeftOut) {
  PrivateKey key = ec_key();
  CertSpec s = leaf_spec("Bare");
  s.basic_constraints.reset();
  s.key_usage.reset();
  s.subject_key_identifier = false;
  s.authority_key_identifier = false;
  Result<Certificate> c = self_sign_certificate(s, key);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(X509_get_ext_count(c->get()), 0);
}

TEST(CertBuilder, RejectsUnusableRequests) {
  PrivateKey key = ec_key();
  PrivateKey other = ec_key();
  Result<Certificate> root = self_sign_certificate(ca_spec("Root"), key);
  ASSERT_TRUE(root);

  // The issuer key must match the issuer certificate.
  Result<Certificate> r = issue_certificate(leaf_spec("L"), public_of(other), *root, other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

  CertSpec s = leaf_spec("L");
  s.signature = SignatureScheme::kRsaPssSha384;  // EC key
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
  s.signature = SignatureScheme::kEcdsaSha384;
  EXPECT_EQ(self_sign_certificate(s, rsa_key()).error().code, Errc::kInvalidArgument);

  s = leaf_spec("L");
  s.extensions = {{"not.an.oid", {0x05, 0x00}, false}};
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
  s.extensions = {{"1.2.3", {0x05, 0x00}, false}, {"1.2.3", {0x05, 0x00}, false}};
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
  s.extensions = {{"2.5.29.19", {0x30, 0x00}, false}};  // basicConstraints again
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);

  s = leaf_spec("L");
  s.basic_constraints->path_len = 1;  // on a CA:FALSE certificate
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
  s = leaf_spec("L");
  s.key_usage = KeyUsage{0, true};
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
  s = leaf_spec("L");
  s.subject = {{NameAttribute::kCountry, "USA"}};
  EXPECT_EQ(self_sign_certificate(s, key).error().code, Errc::kInvalidArgument);
}

TEST(CertBuilder, CrlListsRevokedSerialsAndIsChecked) {
  PrivateKey root_key = ec_key();
  Result<Certificate> root = self_sign_certificate(ca_spec("CRL Root"), root_key);
  ASSERT_TRUE(root);
  PrivateKey leaf_key = ec_key();
  CertSpec ls = leaf_spec("Revoked Leaf");
  ls.serial = serial_from_u64(0x1234);
  Result<Certificate> leaf = issue_certificate(ls, public_of(leaf_key), *root, root_key);
  ASSERT_TRUE(leaf);

  const TimePoint now = std::chrono::system_clock::now();
  CrlSpec cs;
  cs.this_update = now - hours(1);
  cs.next_update = now + kDay;
  cs.revoked = {{serial_from_u64(0x1234), std::nullopt}, {Bytes{}, now - hours(2)}};
  cs.crl_number = serial_from_u64(7);
  cs.authority_key_identifier = true;
  Result<Crl> crl = issue_crl(cs, *root, root_key);
  ASSERT_TRUE(crl) << crl.error().to_string();
  EXPECT_TRUE(crl->lists_serial("1234"));
  EXPECT_TRUE(crl->lists_serial("00"));
  EXPECT_FALSE(crl->lists_serial("1235"));
  EXPECT_EQ(crl->issuer(), root->subject());
  ASSERT_TRUE(crl->next_update().has_value());

  ChainOptions options;
  options.crls = {*crl};
  Result<ChainVerdict> v = verify_chain(*leaf, {}, {*root}, options);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->accepted);
  EXPECT_NE(v->reason.find("revoked"), std::string::npos) << v->reason;

  // An RSA-PSS-signed CRL (as AMD's KDS publishes) from an RSA root.
  CertSpec rs = ca_spec("PSS CRL Root");
  rs.signature = SignatureScheme::kRsaPssSha384;
  Result<Certificate> rsa_root = self_sign_certificate(rs, rsa_key());
  ASSERT_TRUE(rsa_root);
  CrlSpec ps;
  ps.this_update = now - hours(1);
  ps.next_update = now + kDay;
  ps.signature = SignatureScheme::kRsaPssSha384;
  Result<Crl> pss_crl = issue_crl(ps, *rsa_root, rsa_key());
  ASSERT_TRUE(pss_crl) << pss_crl.error().to_string();
  EXPECT_TRUE(contains(pss_crl->der(), kPssSha384Params));
  EXPECT_EQ(X509_CRL_verify(pss_crl->get(), X509_get0_pubkey(rsa_root->get())), 1);

  // Wrong issuer key.
  EXPECT_EQ(issue_crl(cs, *root, leaf_key).error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace concierge
