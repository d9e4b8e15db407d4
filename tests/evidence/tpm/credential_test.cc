// make_credential against an independent software ActivateCredential
// (tests/support/soft_tpm_credential.h) with OpenSSL-generated EKs, and the
// tpm2-tools credential file.
#include "concierge/evidence/tpm/credential.h"

#include <gtest/gtest.h>
#include <tss2/tss2_mu.h>

#include <cstring>
#include <iostream>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "evidence/tpm/swtpm_vectors.h"
#include "support/soft_tpm_credential.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::evidence::tpm {
namespace {

namespace v = swtpm_vectors;
using concierge::testing::soft_activate_credential;

Bytes hex(const char* h) {
  auto r = hex_decode(h);
  EXPECT_TRUE(r.has_value());
  return r.value_or(Bytes{});
}

struct Ek {
  PrivateKey priv;
  TpmPublic pub;
};

Ek make_ek(bool rsa) {
  // A fresh EC key, or an RSA key made once per build of the test binary
  // (support/test_cache.h); each RSA EK made in a process gets a key of its
  // own, so "another TPM's EK" is never the shared one.
  static int rsa_keys = 0;
  Result<PrivateKey> priv =
      rsa ? Result<PrivateKey>(concierge::testing::cached_rsa_key(2048, rsa_keys++))
          : PrivateKey::generate_ec(EcCurve::kP256);
  EXPECT_TRUE(priv.has_value());
  auto pub = ek_public_from_key(priv->public_key().value());
  EXPECT_TRUE(pub.has_value()) << pub.error().to_string();
  return Ek{std::move(priv).value(), std::move(pub).value()};
}

// Generated once: RSA key generation is slow under sanitizers.
const Ek& rsa_ek() {
  static const Ek ek = make_ek(true);
  return ek;
}
const Ek& ecc_ek() {
  static const Ek ek = make_ek(false);
  return ek;
}

Result<Bytes> activate(const Ek& ek, ByteView name, const Credential& c) {
  return soft_activate_credential(ek.priv, ek.pub, name, c.id_object, c.encrypted_secret);
}

const Bytes kSecret = {'s', 'i', 'x', 't', 'e', 'e', 'n', ' ',
                       'b', 'y', 't', 'e', ' ', 'k', 'e', 'y'};

TEST(TpmCredential, RoundTripsWithRsaAndEccEks) {
  const Bytes name = hex(v::kAkEccNameHex);
  for (const Ek* ek : {&rsa_ek(), &ecc_ek()}) {
    for (std::size_t size : {std::size_t{1}, std::size_t{16}, std::size_t{32}}) {
      Bytes s(size);
      for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<std::uint8_t>(0xa0 + i);
      auto c = make_credential(ek->pub, name, s);
      ASSERT_TRUE(c.has_value()) << c.error().to_string();
      // TPM2B_ID_OBJECT: size, TPM2B_DIGEST(HMAC-SHA-256), encrypted TPM2B_DIGEST(secret).
      EXPECT_EQ(c->id_object.size(), 2 + 2 + 32 + 2 + size);
      EXPECT_EQ(c->encrypted_secret.size(), ek->pub.type == TPM2_ALG_RSA ? 2 + 256u : 2 + 68u);
      auto out = activate(*ek, name, *c);
      ASSERT_TRUE(out.has_value()) << out.error().to_string();
      EXPECT_EQ(*out, s);
    }
  }
}

TEST(TpmCredential, EachCredentialIsFresh) {
  const Bytes name = hex(v::kAkEccNameHex);
  auto a = make_credential(ecc_ek().pub, name, kSecret);
  auto b = make_credential(ecc_ek().pub, name, kSecret);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(a->id_object, b->id_object);
  EXPECT_NE(a->encrypted_secret, b->encrypted_secret);
}

TEST(TpmCredential, AnotherAkNameFailsTheIntegrityCheck) {
  const Bytes name = hex(v::kAkEccNameHex);
  const Bytes other = hex(v::kAkRsaNameHex);
  for (const Ek* ek : {&rsa_ek(), &ecc_ek()}) {
    auto c = make_credential(ek->pub, name, kSecret);
    ASSERT_TRUE(c.has_value());
    auto out = activate(*ek, other, *c);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().code, Errc::kDevice);
    EXPECT_EQ(out.error().message, "integrity check failed");
  }
}

TEST(TpmCredential, AnotherEkCannotActivate) {
  const Bytes name = hex(v::kAkEccNameHex);
  for (bool rsa : {true, false}) {
    const Ek& ek = rsa ? rsa_ek() : ecc_ek();
    const Ek other = make_ek(rsa);
    auto c = make_credential(ek.pub, name, kSecret);
    ASSERT_TRUE(c.has_value());
    // The other EK's private key with the right EK public (x, nameAlg).
    auto out =
        soft_activate_credential(other.priv, ek.pub, name, c->id_object, c->encrypted_secret);
    EXPECT_FALSE(out.has_value());
  }
}

TEST(TpmCredential, EveryTamperedByteIsRefused) {
  const Bytes name = hex(v::kAkEccNameHex);
  for (const Ek* ek : {&rsa_ek(), &ecc_ek()}) {
    auto c = make_credential(ek->pub, name, kSecret);
    ASSERT_TRUE(c.has_value());
    // Every byte of the blob after its size field: the HMAC and encIdentity.
    for (std::size_t i = 2; i < c->id_object.size(); ++i) {
      Credential bad = *c;
      bad.id_object[i] ^= 0x01;
      auto out = activate(*ek, name, bad);
      EXPECT_FALSE(out.has_value()) << i;
    }
    // A few bytes of the encrypted seed / the ephemeral point.
    for (std::size_t i : {std::size_t{4}, std::size_t{20}, c->encrypted_secret.size() - 1}) {
      Credential bad = *c;
      bad.encrypted_secret[i] ^= 0x01;
      auto out = activate(*ek, name, bad);
      EXPECT_FALSE(out.has_value()) << i;
    }
  }
}

TEST(TpmCredential, LargerNameAlgAndKeysWork) {
  // An ECC P-384 EK with nameAlg SHA-384 and AES-256 (like the profile's
  // high-range templates), built from the L-2 template.
  auto priv = PrivateKey::generate_ec(EcCurve::kP384);
  ASSERT_TRUE(priv.has_value());
  TPM2B_PUBLIC t = ek_template(EkTemplate::kEccP256);
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA384;
  p.authPolicy.size = 48;  // any 48-byte policy
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
  p.parameters.eccDetail.symmetric.keyBits.aes = 256;
  // unique: the P-384 point, from the key's DER (uncompressed point at the end).
  const Bytes der = priv->public_key().value().to_der().value();
  ASSERT_GE(der.size(), 97u);
  const std::uint8_t* point = der.data() + der.size() - 96;
  p.unique.ecc.x.size = p.unique.ecc.y.size = 48;
  std::memcpy(p.unique.ecc.x.buffer, point, 48);
  std::memcpy(p.unique.ecc.y.buffer, point + 48, 48);
  Bytes tpmt(sizeof p);
  std::size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPMT_PUBLIC_Marshal(&p, tpmt.data(), tpmt.size(), &off), TSS2_RC_SUCCESS);
  tpmt.resize(off);
  auto pub = parse_tpm_public(tpmt);
  ASSERT_TRUE(pub.has_value()) << pub.error().to_string();
  ASSERT_EQ(pub->key.to_der().value(), der);

  Ek ek{std::move(priv).value(), std::move(pub).value()};
  const Bytes name = hex(v::kAkEccNameHex);
  const Bytes secret(48, 0x5a);  // up to the SHA-384 digest size
  auto c = make_credential(ek.pub, name, secret);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->id_object.size(), 2 + 2 + 48 + 2 + 48u);
  auto out = activate(ek, name, *c);
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(*out, secret);
}

TEST(TpmCredential, RealSwtpmEksAreAccepted) {
  // These EK public areas and AK names are a real TPM's; credentials made here
  // for them were activated by that TPM when the vectors were captured.
  auto rsa = parse_tpm_public(hex(v::kEkRsaPublicHex));
  auto ecc = parse_tpm_public(hex(v::kEkEccPublicHex));
  ASSERT_TRUE(rsa.has_value() && ecc.has_value());
  auto a = make_credential(*rsa, hex(v::kAkEccNameHex), kSecret);
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  auto b = make_credential(*ecc, hex(v::kAkRsaNameHex), kSecret);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->encrypted_secret.size(), 2 + 68u);
}

TEST(TpmCredential, BadArgumentsAreRefused) {
  const Ek& ek = ecc_ek();
  const Bytes name = hex(v::kAkEccNameHex);

  auto r = make_credential(ek.pub, name, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  r = make_credential(ek.pub, name, Bytes(33, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

  const struct {
    Bytes name;
    std::size_t offset;
  } bad_names[] = {
      {{}, 0},
      {{0x00}, 0},
      {{0x00, 0x05, 1, 2, 3}, 0},                // not a hash
      {Bytes(name.begin(), name.end() - 1), 2},  // short digest
      {[&] {
         Bytes n = name;
         n.push_back(0);
         return n;
       }(),
       2},                                       // long digest
      {Bytes(name.begin() + 2, name.end()), 0},  // no algorithm
  };
  for (const auto& b : bad_names) {
    r = make_credential(ek.pub, b.name, kSecret);
    ASSERT_FALSE(r.has_value()) << hex_encode(b.name);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(r.error().field, "ak_name");
    EXPECT_EQ(r.error().offset, b.offset) << hex_encode(b.name);
  }

  // An AK (a signing key) is not an EK.
  auto ak = parse_tpm_public(hex(v::kAkEccPublicHex));
  ASSERT_TRUE(ak.has_value());
  r = make_credential(*ak, name, kSecret);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

  // A storage key with another symmetric algorithm.
  auto odd = parse_tpm_public(hex(v::kEkEccPublicHex));
  ASSERT_TRUE(odd.has_value());
  odd->sym_alg = TPM2_ALG_CAMELLIA;
  r = make_credential(*odd, name, kSecret);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
}

// ---- the credential file ----

TEST(TpmCredentialFile, RoundTrips) {
  auto c = make_credential(rsa_ek().pub, hex(v::kAkEccNameHex), kSecret);
  ASSERT_TRUE(c.has_value());
  const Bytes file = encode_credential_file(*c);
  EXPECT_EQ(hex_encode(ByteView(file).first(8)), "badcc0de00000001");
  auto back = parse_credential_file(file);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->id_object, c->id_object);
  EXPECT_EQ(back->encrypted_secret, c->encrypted_secret);
}

TEST(TpmCredentialFile, ReadsWhatTpm2ToolsWrites) {
  const Bytes file = hex(v::kTpm2ToolsCredentialHex);
  auto c = parse_credential_file(file);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->id_object.size(), 2 + 52u);
  EXPECT_EQ(c->encrypted_secret.size(), 2 + 256u);
  EXPECT_EQ(encode_credential_file(*c), file);
}

TEST(TpmCredentialFile, MalformedFilesNameFieldAndOffset) {
  const Bytes file = hex(v::kTpm2ToolsCredentialHex);

  Bytes bad = file;
  bad[0] = 0xbb;
  auto r = parse_credential_file(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "magic");
  EXPECT_EQ(r.error().offset, 0u);

  bad = file;
  bad[7] = 2;
  r = parse_credential_file(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  EXPECT_EQ(r.error().field, "version");
  EXPECT_EQ(r.error().offset, 4u);

  for (std::size_t n = 0; n < file.size(); ++n) {
    r = parse_credential_file(ByteView(file).first(n));
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, Errc::kTruncated) << n << ": " << r.error().to_string();
    EXPECT_TRUE(r.error().offset.has_value()) << n;
  }
  // Cut inside the encrypted secret: the error is at its start (8 + 54).
  r = parse_credential_file(ByteView(file).first(file.size() - 1));
  EXPECT_EQ(r.error().field, "TPM2B_ENCRYPTED_SECRET");
  EXPECT_EQ(r.error().offset, 62u);

  bad = file;
  bad.push_back(0);
  r = parse_credential_file(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTrailingData);
  EXPECT_EQ(r.error().offset, file.size());

  // A TPM2B_ID_OBJECT larger than the structure can hold.
  bad = file;
  bad[8] = 0x7f;
  bad.resize(8 + 2 + 0x7f34 + 300, 0);
  r = parse_credential_file(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed) << r.error().to_string();
  EXPECT_EQ(r.error().field, "TPM2B_ID_OBJECT");
  EXPECT_EQ(r.error().offset, 8u);
}

// tpm2-tools' offline tpm2_makecredential (-T none) is a third implementation:
// what it makes for our EK public area must activate.
TEST(TpmCredentialFile, Tpm2ToolsOfflineMakeCredentialActivates) {
  if (concierge::testing::run_shell("command -v tpm2_makecredential").exit_code != 0) {
    GTEST_SKIP() << "tpm2_makecredential (tpm2-tools) is not installed";
  }
  concierge::testing::TempDir dir;
  const Bytes name = hex(v::kAkEccNameHex);
  for (const Ek* ek : {&rsa_ek(), &ecc_ek()}) {
    concierge::testing::write_file(dir / "ek.pub", marshal_tpm2b_public(ek->pub).value());
    concierge::testing::write_file(dir / "secret.bin", kSecret);
    const auto run = concierge::testing::run_shell(
        "tpm2_makecredential -T none -u '" + (dir / "ek.pub").string() + "' -s '" +
        (dir / "secret.bin").string() + "' -n " + hex_encode(name) + " -o '" +
        (dir / "cred.bin").string() + "'");
    if (run.exit_code != 0 && ek->pub.type == TPM2_ALG_ECC) {
      // Older tpm2-tools make credentials offline for RSA EKs only.
      std::cerr << "tpm2_makecredential refuses the ECC EK offline: " << run.err << "\n";
      continue;
    }
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto c = parse_credential_file(concierge::testing::read_file(dir / "cred.bin"));
    ASSERT_TRUE(c.has_value()) << c.error().to_string();
    auto out = activate(*ek, name, *c);
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    EXPECT_EQ(*out, kSecret);
  }
}

}  // namespace
}  // namespace concierge::evidence::tpm
