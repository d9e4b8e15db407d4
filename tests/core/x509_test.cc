#include "concierge/core/x509.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using std::chrono::hours;
using testing::CertOptions;
using testing::Issued;
using testing::valid_for;

constexpr auto kDay = hours(24);

// root -> intermediate -> leaf, the CAs valid for a year either side of now.
struct Pki {
  Issued root;
  Issued intermediate;
  Issued leaf;
};

// `prefix` names the PKI ("Test Root", "Other Root"...).
Pki make_pki(testing::Validity leaf_validity = testing::valid_now(),
             std::vector<testing::CustomExtension> leaf_extensions = {},
             const std::string& prefix = "Test") {
  Issued root = testing::make_root({prefix + " Root", valid_for(-365 * kDay, 365 * kDay), {}, {}});
  Issued intermediate = testing::make_intermediate(
      root, {prefix + " Intermediate", valid_for(-365 * kDay, 365 * kDay), {}, {}});
  Issued leaf = testing::make_leaf(
      intermediate, {prefix + " Leaf", leaf_validity, std::move(leaf_extensions), {}});
  return Pki{std::move(root), std::move(intermediate), std::move(leaf)};
}

void expect_accepted(const Result<ChainVerdict>& r) {
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->accepted) << r->reason;
}

void expect_rejected(const Result<ChainVerdict>& r, std::string_view why, int depth) {
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_FALSE(r->accepted);
  EXPECT_NE(r->reason.find(why), std::string::npos) << r->reason;
  EXPECT_NE(r->reason.find("depth " + std::to_string(depth)), std::string::npos) << r->reason;
  EXPECT_TRUE(r->chain.empty());
}

TEST(X509Chain, AcceptsRootIntermediateLeaf) {
  Pki pki = make_pki();
  auto r = verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert});
  expect_accepted(r);
  ASSERT_EQ(r->chain.size(), 3u);
  EXPECT_EQ(r->chain[0].der(), pki.leaf.cert.der());
  EXPECT_EQ(r->chain[1].der(), pki.intermediate.cert.der());
  EXPECT_EQ(r->chain[2].der(), pki.root.cert.der());
  EXPECT_TRUE(r->reason.empty());
}

TEST(X509Chain, UnrelatedIntermediatesAndRootsAreIgnored) {
  Pki pki = make_pki();
  Pki other = make_pki(testing::valid_now(), {}, "Other");
  expect_accepted(verify_chain(pki.leaf.cert, {other.intermediate.cert, pki.intermediate.cert},
                               {other.root.cert, pki.root.cert}));
}

TEST(X509Chain, WrongRootIsRejected) {
  Pki pki = make_pki();
  Pki other = make_pki(testing::valid_now(), {}, "Other");
  auto r = verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {other.root.cert});
  expect_rejected(r, "unable to get local issuer certificate", 1);
  EXPECT_NE(r->reason.find("CN = Test Intermediate"), std::string::npos) << r->reason;
}

TEST(X509Chain, MissingIntermediateIsRejected) {
  Pki pki = make_pki();
  expect_rejected(verify_chain(pki.leaf.cert, {}, {pki.root.cert}),
                  "unable to get local issuer certificate", 0);
}

TEST(X509Chain, IntermediateIsNotATrustAnchor) {
  // No partial chains: trusting the intermediate alone is not enough.
  Pki pki = make_pki();
  auto r = verify_chain(pki.leaf.cert, {}, {pki.intermediate.cert});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->accepted);
}

TEST(X509Chain, NoRootsIsAnError) {
  Pki pki = make_pki();
  auto r = verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

TEST(X509Chain, ExpiredNowButAcceptedAtATimeInsideValidity) {
  Pki pki = make_pki(valid_for(-60 * kDay, -30 * kDay));
  expect_rejected(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}),
                  "certificate has expired", 0);
  ChainOptions then;
  then.at = std::chrono::system_clock::now() - 45 * kDay;
  expect_accepted(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, then));
}

TEST(X509Chain, NotYetValidIsRejected) {
  Pki pki = make_pki(valid_for(kDay, 30 * kDay));
  expect_rejected(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}),
                  "certificate is not yet valid", 0);
}

TEST(X509Chain, RevokedLeafIsRejected) {
  Pki pki = make_pki();
  ChainOptions options;
  options.crls.push_back(
      testing::make_crl(pki.intermediate, {42, testing::serial_of(pki.leaf.cert)}));
  expect_rejected(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options),
                  "certificate revoked", 0);
}

TEST(X509Chain, RevokedIntermediateIsRejected) {
  Pki pki = make_pki();
  ChainOptions options;
  options.crls.push_back(testing::make_crl(pki.intermediate, {}));
  options.crls.push_back(testing::make_crl(pki.root, {testing::serial_of(pki.intermediate.cert)}));
  auto r = verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options);
  expect_rejected(r, "certificate revoked", 1);
  EXPECT_NE(r->reason.find("Test Intermediate"), std::string::npos) << r->reason;
}

TEST(X509Chain, CrlsThatListNothingRelevantAreAccepted) {
  Pki pki = make_pki();
  Pki other = make_pki(testing::valid_now(), {}, "Other");
  ChainOptions options;
  // A CRL from an unrelated CA, and the intermediate's CRL revoking someone else.
  options.crls.push_back(
      testing::make_crl(other.intermediate, {testing::serial_of(pki.leaf.cert)}));
  options.crls.push_back(testing::make_crl(pki.intermediate, {7, 8, 9}));
  expect_accepted(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options));
}

TEST(X509Chain, RequireCrlForEveryCa) {
  Pki pki = make_pki();
  ChainOptions options;
  options.require_crl_for_every_ca = true;
  options.crls.push_back(testing::make_crl(pki.intermediate, {}));
  expect_rejected(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options),
                  "unable to get certificate CRL", 1);
  options.crls.push_back(testing::make_crl(pki.root, {}));
  expect_accepted(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options));
}

TEST(X509Chain, ExpiredCrlIsRejected) {
  Pki pki = make_pki();
  ChainOptions options;
  options.crls.push_back(testing::make_crl(pki.intermediate, {}, valid_for(-10 * kDay, -kDay)));
  expect_rejected(verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options),
                  "CRL has expired", 0);
  // ...but it was fine when it was current.
  options.at = std::chrono::system_clock::now() - 5 * kDay;
  Pki old = make_pki(valid_for(-20 * kDay, 20 * kDay));
  options.crls = {testing::make_crl(old.intermediate, {}, valid_for(-10 * kDay, -kDay))};
  expect_accepted(verify_chain(old.leaf.cert, {old.intermediate.cert}, {old.root.cert}, options));
}

TEST(X509Chain, CrlFromAnImpostorIsRejected) {
  // Same issuer name as the real intermediate, different key.
  Pki pki = make_pki();
  Issued impostor = testing::make_intermediate(
      pki.root, {"Test Intermediate", valid_for(-365 * kDay, 365 * kDay), {}, {}});
  ChainOptions options;
  options.crls.push_back(testing::make_crl(impostor, {}));
  auto r = verify_chain(pki.leaf.cert, {pki.intermediate.cert}, {pki.root.cert}, options);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->accepted);
  EXPECT_NE(r->reason.find("depth 0"), std::string::npos) << r->reason;
}

// ---- parsing and accessors ----

TEST(X509Certificate, Accessors) {
  const auto validity = valid_for(-hours(2), 10 * kDay);
  Pki pki = make_pki(validity);
  const Certificate& leaf = pki.leaf.cert;
  EXPECT_EQ(leaf.subject(), "O = Concierge Test, CN = Test Leaf");
  EXPECT_EQ(leaf.issuer(), "O = Concierge Test, CN = Test Intermediate");
  char serial[32];
  std::snprintf(serial, sizeof serial, "%04llx",
                static_cast<unsigned long long>(testing::serial_of(leaf)));
  EXPECT_EQ(leaf.serial_hex(), serial);
  using std::chrono::seconds;
  EXPECT_EQ(std::chrono::floor<seconds>(leaf.not_before()),
            std::chrono::floor<seconds>(validity.not_before));
  EXPECT_EQ(std::chrono::floor<seconds>(leaf.not_after()),
            std::chrono::floor<seconds>(validity.not_after));
  EXPECT_EQ(leaf.not_after_unix(),
            std::chrono::duration_cast<seconds>(validity.not_after.time_since_epoch()).count());
  EXPECT_TRUE(pki.root.cert.self_signed());
  EXPECT_FALSE(leaf.self_signed());
  auto key = leaf.public_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(*key->to_der(), *pki.leaf.key.public_key()->to_der());
  EXPECT_EQ(key->curve(), EcCurve::kP256);
  EXPECT_EQ(leaf.fingerprint_sha256(), *digest(HashAlg::kSha256, leaf.der()));
  auto again = Certificate::from_der(leaf.der());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->fingerprint_sha256(), leaf.fingerprint_sha256());
}

TEST(X509Certificate, CopiesShareTheObject) {
  Pki pki = make_pki();
  Certificate copy = pki.leaf.cert;
  EXPECT_EQ(copy.get(), pki.leaf.cert.get());
  Certificate assigned = pki.root.cert;
  assigned = copy;
  EXPECT_EQ(assigned.get(), pki.leaf.cert.get());
  Certificate moved = std::move(copy);
  EXPECT_EQ(moved.get(), pki.leaf.cert.get());
}

TEST(X509Certificate, ExtensionLookupReturnsExtnValue) {
  // An AMD-style extension whose value is DER INTEGER 5.
  const Bytes value = {0x02, 0x01, 0x05};
  Pki pki = make_pki(testing::valid_now(), {{"1.3.6.1.4.1.3704.1.3.1", value, false}});
  auto ext = pki.leaf.cert.extension("1.3.6.1.4.1.3704.1.3.1");
  ASSERT_TRUE(ext) << ext.error().to_string();
  EXPECT_EQ(*ext, value);
  // basicConstraints CA:FALSE is an empty SEQUENCE.
  EXPECT_EQ(hex_encode(*pki.leaf.cert.extension("2.5.29.19")), "3000");
  EXPECT_EQ(pki.leaf.cert.extension("1.3.6.1.4.1.3704.1.3.2").error().code, Errc::kNotFound);
  EXPECT_EQ(pki.leaf.cert.extension("basicConstraints").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(pki.leaf.cert.extension("1..2").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(pki.leaf.cert.extension("").error().code, Errc::kInvalidArgument);
}

TEST(X509Certificate, PemBundle) {
  Pki pki = make_pki();
  const std::string bundle = "Leaf first:\n" + testing::to_pem(pki.leaf.cert) +
                             "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n" +
                             "then the CA\n" + testing::to_pem(pki.intermediate.cert);
  auto certs = Certificate::from_pem_bundle(bundle);
  ASSERT_TRUE(certs) << certs.error().to_string();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].der(), pki.leaf.cert.der());
  EXPECT_EQ((*certs)[1].der(), pki.intermediate.cert.der());
  auto first = Certificate::from_pem(bundle);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->der(), pki.leaf.cert.der());

  EXPECT_EQ(Certificate::from_pem_bundle("no pem here").error().code, Errc::kMalformed);
  EXPECT_EQ(Certificate::from_pem("").error().code, Errc::kMalformed);
  std::string corrupt = testing::to_pem(pki.root.cert);
  corrupt[40] = '*';
  EXPECT_FALSE(Certificate::from_pem_bundle(testing::to_pem(pki.leaf.cert) + corrupt));
  // A well-formed PEM block whose content is not a certificate.
  EXPECT_FALSE(
      Certificate::from_pem("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"));
}

TEST(X509Certificate, MalformedDer) {
  Pki pki = make_pki();
  Bytes der = pki.leaf.cert.der();
  der.push_back(0);
  auto trailing = Certificate::from_der(der);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code, Errc::kTrailingData);
  der.resize(der.size() - 10);
  EXPECT_EQ(Certificate::from_der(der).error().code, Errc::kMalformed);
  EXPECT_EQ(Certificate::from_der({}).error().code, Errc::kMalformed);
}

TEST(X509Crl, ParsingAndAccessors) {
  Pki pki = make_pki();
  const std::uint64_t serial = testing::serial_of(pki.leaf.cert);
  const auto validity = valid_for(-hours(1), 7 * kDay);
  Crl crl = testing::make_crl(pki.intermediate, {serial}, validity);
  EXPECT_EQ(crl.issuer(), pki.intermediate.cert.subject());
  EXPECT_TRUE(crl.lists_serial(pki.leaf.cert.serial_hex()));
  EXPECT_FALSE(crl.lists_serial(pki.intermediate.cert.serial_hex()));
  EXPECT_FALSE(crl.lists_serial("zz"));
  ASSERT_TRUE(crl.next_update());
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(*crl.next_update()),
            std::chrono::floor<std::chrono::seconds>(validity.not_after));
  auto again = Crl::from_der(crl.der());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->der(), crl.der());
  const std::string pem =
      "-----BEGIN X509 CRL-----\n" + base64_encode(crl.der()) + "\n-----END X509 CRL-----\n";
  // PEM lines may be long for OpenSSL's reader as long as each is under its limit.
  auto from_pem = Crl::from_pem(pem);
  ASSERT_TRUE(from_pem) << from_pem.error().to_string();
  EXPECT_EQ(from_pem->der(), crl.der());
  Bytes trailing = crl.der();
  trailing.push_back(0);
  EXPECT_EQ(Crl::from_der(trailing).error().code, Errc::kTrailingData);
  EXPECT_EQ(Crl::from_der(as_bytes("junk")).error().code, Errc::kMalformed);
  EXPECT_EQ(Crl::from_pem(testing::to_pem(pki.leaf.cert)).error().code, Errc::kMalformed);
}

// ---- real vectors ----

TEST(X509Vectors, AmdMilanAskVerifiesUnderArk) {
  CONCIERGE_REQUIRE_VECTOR(path, "snp/amd-roots/ask_ark_milan.pem");
  const Bytes pem = testing::read_file(path);
  auto certs = Certificate::from_pem_bundle(as_chars(pem));
  ASSERT_TRUE(certs) << certs.error().to_string();
  ASSERT_EQ(certs->size(), 2u);
  const Certificate& ask = (*certs)[0];
  const Certificate& ark = (*certs)[1];
  EXPECT_NE(ask.subject().find("CN = SEV-Milan"), std::string::npos) << ask.subject();
  EXPECT_NE(ark.subject().find("CN = ARK-Milan"), std::string::npos) << ark.subject();
  EXPECT_TRUE(ark.self_signed());
  auto ark_key = ark.public_key();
  ASSERT_TRUE(ark_key);
  EXPECT_EQ(ark_key->bits(), 4096);
  ChainOptions options;
  options.at = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1);
  auto r = verify_chain(ask, {}, {ark}, options);
  expect_accepted(r);
  EXPECT_EQ(r->chain.size(), 2u);
  // The ASK does not verify under another product's ARK.
  if (auto genoa = testing::vector_path("snp/amd-roots/ask_ark_genoa.pem"); !genoa.empty()) {
    auto other = Certificate::from_pem_bundle(as_chars(testing::read_file(genoa)));
    ASSERT_TRUE(other);
    auto wrong = verify_chain(ask, {}, {other->back()}, options);
    ASSERT_TRUE(wrong);
    EXPECT_FALSE(wrong->accepted);
  }
}

TEST(X509Vectors, IntelQvlSamplePckChainWithCrls) {
  CONCIERGE_REQUIRE_VECTOR(dir_marker, "tdx/intel-qvl-sample/pckSignChain.pem");
  const auto dir = dir_marker.parent_path();
  auto chain = Certificate::from_pem_bundle(as_chars(testing::read_file(dir / "pckSignChain.pem")));
  auto root = Certificate::from_pem(as_chars(testing::read_file(dir / "trustedRootCaCert.pem")));
  auto leaf = Certificate::from_pem(as_chars(testing::read_file(dir / "pckCert.pem")));
  auto int_crl = Crl::from_der(testing::read_file(dir / "intermediateCaCrl.der"));
  auto root_crl = Crl::from_der(testing::read_file(dir / "rootCaCrl.der"));
  ASSERT_TRUE(chain && root && leaf && int_crl && root_crl);
  ChainOptions options;
  options.at = std::chrono::sys_days(std::chrono::year(2024) / 1 / 1);
  options.crls = {*int_crl, *root_crl};
  options.require_crl_for_every_ca = true;
  auto r = verify_chain(*leaf, *chain, {*root}, options);
  expect_accepted(r);
  EXPECT_EQ(r->chain.size(), 3u);
  // The SGX extensions (OID 1.2.840.113741.1.13.1) are a DER SEQUENCE.
  auto sgx = leaf->extension("1.2.840.113741.1.13.1");
  ASSERT_TRUE(sgx) << sgx.error().to_string();
  ASSERT_FALSE(sgx->empty());
  EXPECT_EQ((*sgx)[0], 0x30);
  // In 2032 the leaf has expired and the CRLs are past their nextUpdate.
  options.at = std::chrono::sys_days(std::chrono::year(2032) / 1 / 1);
  auto stale = verify_chain(*leaf, *chain, {*root}, options);
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->accepted);
}

}  // namespace
}  // namespace concierge
