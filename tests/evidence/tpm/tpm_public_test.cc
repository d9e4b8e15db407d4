// TPM public areas: real EK and AK public areas from swtpm (names as the TPM
// computed them), the default templates, AK attribute checks, and malformed
// input.
#include "concierge/evidence/tpm/tpm_public.h"

#include <gtest/gtest.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "concierge/evidence/tpm/quote.h"
#include "evidence/tpm/swtpm_vectors.h"
#include "support/test_cache.h"

namespace concierge::evidence::tpm {
namespace {

namespace v = swtpm_vectors;

Bytes hex(const char* h) {
  auto r = hex_decode(h);
  EXPECT_TRUE(r.has_value());
  return r.value_or(Bytes{});
}

TpmPublic parse_ok(ByteView in) {
  auto r = parse_tpm_public(in);
  if (!r) ADD_FAILURE() << r.error().to_string();
  return std::move(r).value();
}

Bytes marshal_tpmt(const TPMT_PUBLIC& p) {
  Bytes out(sizeof p);
  std::size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPMT_PUBLIC_Marshal(&p, out.data(), out.size(), &off), TSS2_RC_SUCCESS);
  out.resize(off);
  return out;
}

// An ECC P-256 AK public area (the AK template with a real point).
Bytes ecc_ak_tpmt() {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value().public_key().value();
  auto ek_like = ek_public_from_key(key);  // borrow its unique (x, y)
  EXPECT_TRUE(ek_like.has_value());
  TPM2B_PUBLIC t = ak_template(AkTemplate::kEccP256);
  auto& u = t.publicArea.unique.ecc;
  u.x.size = u.y.size = 32;
  std::memcpy(u.x.buffer, ek_like->ecc_x.data(), 32);
  std::memcpy(u.y.buffer, ek_like->ecc_y.data(), 32);
  return marshal_tpmt(t.publicArea);
}

TEST(TpmPublic, RealRsaEkIsTheDefaultTemplateL1) {
  const Bytes tpm2b = hex(v::kEkRsaPublicHex);
  const TpmPublic ek = parse_ok(tpm2b);
  EXPECT_EQ(ek.type, TPM2_ALG_RSA);
  EXPECT_EQ(ek.name_alg, HashAlg::kSha256);
  EXPECT_EQ(ek.attributes, kEkAttributes);
  EXPECT_EQ(ek.auth_policy, Bytes(std::begin(kEkPolicyASha256), std::end(kEkPolicyASha256)));
  EXPECT_EQ(ek.sym_alg, TPM2_ALG_AES);
  EXPECT_EQ(ek.sym_key_bits, 128);
  EXPECT_EQ(ek.sym_mode, TPM2_ALG_CFB);
  EXPECT_EQ(ek.scheme, TPM2_ALG_NULL);
  EXPECT_EQ(ek.rsa_key_bits, 2048);
  EXPECT_EQ(ek.rsa_exponent, 0u);
  EXPECT_EQ(ek.key.type(), KeyType::kRsa);
  EXPECT_EQ(ek.key.bits(), 2048);
  EXPECT_EQ(ek.tpmt_public, Bytes(tpm2b.begin() + 2, tpm2b.end()));

  // A verifier with only the EK's key gets the same public area and name.
  auto from_key = ek_public_from_key(ek.key);
  ASSERT_TRUE(from_key.has_value()) << from_key.error().to_string();
  EXPECT_EQ(from_key->tpmt_public, ek.tpmt_public);
  EXPECT_EQ(from_key->name, ek.name);
  EXPECT_EQ(marshal_tpm2b_public(*from_key).value(), tpm2b);
}

TEST(TpmPublic, RealEccEkIsTheDefaultTemplateL2) {
  const Bytes tpm2b = hex(v::kEkEccPublicHex);
  const TpmPublic ek = parse_ok(tpm2b);
  EXPECT_EQ(ek.type, TPM2_ALG_ECC);
  EXPECT_EQ(ek.attributes, kEkAttributes);
  EXPECT_EQ(ek.ecc_curve, TPM2_ECC_NIST_P256);
  EXPECT_EQ(ek.ecc_kdf, TPM2_ALG_NULL);
  EXPECT_EQ(ek.sym_alg, TPM2_ALG_AES);
  EXPECT_EQ(ek.ecc_x.size(), 32u);
  EXPECT_EQ(ek.ecc_y.size(), 32u);
  EXPECT_EQ(ek.key.curve(), EcCurve::kP256);

  auto from_key = ek_public_from_key(ek.key);
  ASSERT_TRUE(from_key.has_value()) << from_key.error().to_string();
  EXPECT_EQ(from_key->tpmt_public, ek.tpmt_public);
  EXPECT_EQ(from_key->name, ek.name);
}

TEST(TpmPublic, RealAkNamesAreTheTpmsNames) {
  const TpmPublic ecc = parse_ok(hex(v::kAkEccPublicHex));
  EXPECT_EQ(ecc.name, hex(v::kAkEccNameHex));
  EXPECT_EQ(ecc.attributes, kAkAttributes);
  EXPECT_EQ(ecc.scheme, TPM2_ALG_ECDSA);
  EXPECT_EQ(ecc.scheme_hash, TPM2_ALG_SHA256);
  EXPECT_EQ(ecc.sym_alg, TPM2_ALG_NULL);
  EXPECT_EQ(ecc.sym_key_bits, 0);
  EXPECT_TRUE(check_ak_attributes(ecc).accepted);

  const TpmPublic rsa = parse_ok(hex(v::kAkRsaPublicHex));
  EXPECT_EQ(rsa.name, hex(v::kAkRsaNameHex));
  EXPECT_EQ(rsa.scheme, TPM2_ALG_RSASSA);
  EXPECT_EQ(rsa.scheme_hash, TPM2_ALG_SHA256);
  EXPECT_TRUE(check_ak_attributes(rsa).accepted);

  // parse_ak_public is the key of parse_tpm_public.
  auto key = parse_ak_public(hex(v::kAkEccPublicHex));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->to_der().value(), ecc.key.to_der().value());
}

TEST(TpmPublic, NameIsNameAlgThenTheDigestOfTheTpmtPublic) {
  const Bytes tpmt = ecc_ak_tpmt();
  const TpmPublic pub = parse_ok(tpmt);
  ASSERT_EQ(pub.name.size(), 34u);
  EXPECT_EQ(pub.name[0], 0x00);
  EXPECT_EQ(pub.name[1], 0x0b);
  EXPECT_EQ(Bytes(pub.name.begin() + 2, pub.name.end()), digest(HashAlg::kSha256, tpmt).value());
  EXPECT_EQ(tpm_object_name(HashAlg::kSha256, tpmt).value(), pub.name);
  EXPECT_EQ(tpm_object_name(HashAlg::kSha1, tpmt).value().size(), 22u);

  // The same area wrapped in a TPM2B_PUBLIC has the same name.
  const Bytes tpm2b = marshal_tpm2b_public(pub).value();
  ASSERT_EQ(tpm2b.size(), tpmt.size() + 2);
  EXPECT_EQ(tpm2b[0] << 8 | tpm2b[1], static_cast<int>(tpmt.size()));
  EXPECT_EQ(parse_ok(tpm2b).name, pub.name);
  EXPECT_EQ(parse_ok(tpm2b).tpmt_public, tpmt);
}

TEST(TpmPublic, TemplatesHaveTheProfilesValues) {
  const TPM2B_PUBLIC rsa = ek_template(EkTemplate::kRsa2048);
  EXPECT_EQ(rsa.size, 0);
  EXPECT_EQ(rsa.publicArea.type, TPM2_ALG_RSA);
  EXPECT_EQ(rsa.publicArea.nameAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(rsa.publicArea.objectAttributes, 0x000300b2u);
  EXPECT_EQ(hex_encode(ByteView(rsa.publicArea.authPolicy.buffer, rsa.publicArea.authPolicy.size)),
            "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.symmetric.algorithm, TPM2_ALG_AES);
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.symmetric.keyBits.aes, 128);
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.symmetric.mode.aes, TPM2_ALG_CFB);
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.scheme.scheme, TPM2_ALG_NULL);
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.keyBits, 2048);
  EXPECT_EQ(rsa.publicArea.parameters.rsaDetail.exponent, 0u);
  ASSERT_EQ(rsa.publicArea.unique.rsa.size, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(rsa.publicArea.unique.rsa.buffer[i], 0);

  const TPM2B_PUBLIC ecc = ek_template(EkTemplate::kEccP256);
  EXPECT_EQ(ecc.publicArea.type, TPM2_ALG_ECC);
  EXPECT_EQ(ecc.publicArea.objectAttributes, kEkAttributes);
  EXPECT_EQ(ecc.publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
  EXPECT_EQ(ecc.publicArea.parameters.eccDetail.kdf.scheme, TPM2_ALG_NULL);
  EXPECT_EQ(ecc.publicArea.parameters.eccDetail.scheme.scheme, TPM2_ALG_NULL);
  EXPECT_EQ(ecc.publicArea.unique.ecc.x.size, 32);
  EXPECT_EQ(ecc.publicArea.unique.ecc.y.size, 32);

  const TPM2B_PUBLIC ak = ak_template();
  EXPECT_EQ(ak.publicArea.type, TPM2_ALG_ECC);
  EXPECT_EQ(ak.publicArea.objectAttributes, 0x00050072u);
  EXPECT_EQ(ak.publicArea.authPolicy.size, 0);
  EXPECT_EQ(ak.publicArea.parameters.eccDetail.symmetric.algorithm, TPM2_ALG_NULL);
  EXPECT_EQ(ak.publicArea.parameters.eccDetail.scheme.scheme, TPM2_ALG_ECDSA);
  EXPECT_EQ(ak.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(ak.publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
  EXPECT_EQ(ak.publicArea.unique.ecc.x.size, 0);

  const TPM2B_PUBLIC ak_rsa = ak_template(AkTemplate::kRsa2048);
  EXPECT_EQ(ak_rsa.publicArea.type, TPM2_ALG_RSA);
  EXPECT_EQ(ak_rsa.publicArea.objectAttributes, kAkAttributes);
  EXPECT_EQ(ak_rsa.publicArea.parameters.rsaDetail.scheme.scheme, TPM2_ALG_RSASSA);
  EXPECT_EQ(ak_rsa.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(ak_rsa.publicArea.parameters.rsaDetail.keyBits, 2048);

  // The real AKs were made from these templates (the TPM only added unique).
  const TpmPublic real = parse_ok(hex(v::kAkEccPublicHex));
  TPM2B_PUBLIC t = ak_template(AkTemplate::kEccP256);
  t.publicArea.unique.ecc.x.size = static_cast<UINT16>(real.ecc_x.size());
  t.publicArea.unique.ecc.y.size = static_cast<UINT16>(real.ecc_y.size());
  std::memcpy(t.publicArea.unique.ecc.x.buffer, real.ecc_x.data(), real.ecc_x.size());
  std::memcpy(t.publicArea.unique.ecc.y.buffer, real.ecc_y.data(), real.ecc_y.size());
  EXPECT_EQ(marshal_tpmt(t.publicArea), real.tpmt_public);
}

TEST(TpmPublic, EkFromKeySupportsOnlyTheLowRangeTemplates) {
  auto p384 = PrivateKey::generate_ec(EcCurve::kP384).value().public_key().value();
  auto r = ek_public_from_key(p384);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);

  auto rsa3072 = concierge::testing::cached_rsa_key(3072).public_key().value();
  r = ek_public_from_key(rsa3072);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
}

TEST(TpmPublic, AkAttributeChecksNameTheAttribute) {
  TpmPublic ak = parse_ok(hex(v::kAkEccPublicHex));
  const std::uint32_t good = ak.attributes;
  const struct {
    std::uint32_t flip;
    const char* reason;
  } cases[] = {
      {TPMA_OBJECT_FIXEDTPM, "AK attribute fixedTPM is not set"},
      {TPMA_OBJECT_FIXEDPARENT, "AK attribute fixedParent is not set"},
      {TPMA_OBJECT_SENSITIVEDATAORIGIN, "AK attribute sensitiveDataOrigin is not set"},
      {TPMA_OBJECT_RESTRICTED, "AK attribute restricted is not set"},
      {TPMA_OBJECT_SIGN_ENCRYPT, "AK attribute sign is not set"},
      {TPMA_OBJECT_DECRYPT, "AK attribute decrypt is set"},
  };
  for (const auto& c : cases) {
    ak.attributes = good ^ c.flip;
    const Verdict verdict = check_ak_attributes(ak);
    EXPECT_FALSE(verdict.accepted);
    EXPECT_EQ(verdict.reason, c.reason);
  }
  // Attributes an AK may have either way.
  ak.attributes = good & ~TPMA_OBJECT_USERWITHAUTH;
  EXPECT_TRUE(check_ak_attributes(ak).accepted);
  ak.attributes = good | TPMA_OBJECT_NODA;
  EXPECT_TRUE(check_ak_attributes(ak).accepted);

  // An EK is a decryption key, not an AK.
  const TpmPublic ek = parse_ok(hex(v::kEkRsaPublicHex));
  EXPECT_EQ(check_ak_attributes(ek).reason, "AK attribute sign is not set");
}

TEST(TpmPublic, TruncationAndTrailingBytesAreErrorsWithOffsets) {
  const Bytes tpm2b = hex(v::kEkRsaPublicHex);
  const Bytes tpmt(tpm2b.begin() + 2, tpm2b.end());
  for (const Bytes* in : {&tpm2b, &tpmt}) {
    for (std::size_t n = 0; n < in->size(); ++n) {
      auto r = parse_tpm_public(ByteView(*in).first(n));
      ASSERT_FALSE(r.has_value()) << n;
      EXPECT_TRUE(r.error().offset.has_value()) << n << ": " << r.error().to_string();
    }
  }
  Bytes trailing = tpmt;
  trailing.push_back(0);
  auto r = parse_tpm_public(trailing);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTrailingData);
  EXPECT_EQ(r.error().offset, tpmt.size());
}

TEST(TpmPublic, UnsupportedValuesNameTheirField) {
  Bytes tpmt = ecc_ak_tpmt();
  Bytes bad = tpmt;
  bad[3] = 0x05;  // nameAlg 0x0005: not a hash HashAlg knows
  auto r = parse_tpm_public(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_EQ(r.error().field, "nameAlg");
  EXPECT_EQ(r.error().offset, 2u);

  // curveID: after type, nameAlg, attributes, an empty authPolicy (10 bytes),
  // symmetric NULL (2) and scheme ECDSA + hash (4).
  bad = tpmt;
  ASSERT_EQ(bad[16] << 8 | bad[17], TPM2_ECC_NIST_P256);
  bad[17] = 0x10;  // TPM2_ECC_BN_P256
  r = parse_tpm_public(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_EQ(r.error().field, "parameters.eccDetail.curveID");
  EXPECT_EQ(r.error().offset, 16u);

  // A point that is not on the curve: malformed, at unique.
  bad = tpmt;
  bad.back() ^= 0x01;
  r = parse_tpm_public(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "unique.ecc");
  EXPECT_EQ(r.error().offset, tpmt.size() - 68);

  // A keyed-hash object: not a key type handled here.
  TPMT_PUBLIC kh{};
  kh.type = TPM2_ALG_KEYEDHASH;
  kh.nameAlg = TPM2_ALG_SHA256;
  kh.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  r = parse_tpm_public(marshal_tpmt(kh));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_EQ(r.error().field, "type");
  EXPECT_EQ(r.error().offset, 0u);
}

}  // namespace
}  // namespace concierge::evidence::tpm
