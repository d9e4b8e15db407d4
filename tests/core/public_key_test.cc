#include "concierge/core/public_key.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"

namespace concierge {
namespace {

// Generated for this test with `openssl ecparam -name prime256v1 -genkey` and
// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`
// (SubjectPublicKeyInfo DER, hex).
constexpr char kEcSpki[] =
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004c6c495fe3b65d239722ac172f8b3ebd99d0cff1c"
    "d588bed42f7556eda46ef0e070784f276b7b7c48369f17781ccb8123a7c7a79ac36e9e1d3e9c449194ba6b86";

Bytes unhex(std::string_view s) { return hex_decode(s).value(); }

TEST(PublicKey, FromDerReportsTypeCurveBits) {
  auto key = PublicKey::from_der(unhex(kEcSpki));
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(key->type(), KeyType::kEc);
  EXPECT_EQ(key->curve(), EcCurve::kP256);
  EXPECT_EQ(key->bits(), 256);
  EXPECT_EQ(hex_encode(*key->to_der()), kEcSpki);
}

TEST(PublicKey, FromEcPointMatchesDer) {
  const Bytes spki = unhex(kEcSpki);
  const ByteView point = ByteView(spki).last(65);  // 0x04 || X || Y
  auto with_prefix = PublicKey::from_ec_point(EcCurve::kP256, point);
  auto bare = PublicKey::from_ec_point(EcCurve::kP256, point.subspan(1));
  auto coords =
      PublicKey::from_ec_coordinates(EcCurve::kP256, point.subspan(1, 32), point.subspan(33, 32));
  ASSERT_TRUE(with_prefix) << with_prefix.error().to_string();
  ASSERT_TRUE(bare) << bare.error().to_string();
  ASSERT_TRUE(coords) << coords.error().to_string();
  EXPECT_EQ(*with_prefix->to_der(), spki);
  EXPECT_EQ(*bare->to_der(), spki);
  EXPECT_EQ(*coords->to_der(), spki);
}

TEST(PublicKey, EcPointOffCurveOrWrongSizeIsMalformed) {
  Bytes point = unhex(kEcSpki);
  point.erase(point.begin(), point.end() - 64);
  point.back() ^= 1;  // Y no longer matches X
  auto off = PublicKey::from_ec_point(EcCurve::kP256, point);
  ASSERT_FALSE(off);
  EXPECT_EQ(off.error().code, Errc::kMalformed);
  auto short_point = PublicKey::from_ec_point(EcCurve::kP256, ByteView(point).first(63));
  ASSERT_FALSE(short_point);
  EXPECT_EQ(short_point.error().code, Errc::kMalformed);
  auto p384 = PublicKey::from_ec_point(EcCurve::kP384, point);  // 64 bytes, P-384 needs 96
  ASSERT_FALSE(p384);
  auto zero = PublicKey::from_ec_point(EcCurve::kP256, Bytes(64, 0));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, Errc::kMalformed);
}

TEST(PublicKey, FromRsaMatchesGeneratedKey) {
  auto priv = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(priv) << priv.error().to_string();
  auto pub = priv->public_key();
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->type(), KeyType::kRsa);
  EXPECT_EQ(pub->bits(), 2048);
  EXPECT_FALSE(pub->curve());
  // SPKI of a 2048-bit key: modulus at offset 33 (after 02 82 01 01 00), then 02 03 e.
  const Bytes der = *pub->to_der();
  ASSERT_EQ(der.size(), 294u);
  const ByteView n = ByteView(der).subspan(33, 256);
  const ByteView e = ByteView(der).subspan(291, 3);
  auto rebuilt = PublicKey::from_rsa(n, e);
  ASSERT_TRUE(rebuilt) << rebuilt.error().to_string();
  EXPECT_EQ(*rebuilt->to_der(), der);
  // Leading zeros on the modulus are tolerated.
  Bytes padded(2, 0);
  padded.insert(padded.end(), n.begin(), n.end());
  EXPECT_TRUE(PublicKey::from_rsa(padded, e));
}

TEST(PublicKey, FromRsaRejectsWeakParameters) {
  const Bytes small(64, 0xc3);  // 512-bit modulus
  auto weak = PublicKey::from_rsa(small, Bytes{0x01, 0x00, 0x01});
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, Errc::kUnsupported);
  const Bytes n(256, 0xc3);
  EXPECT_EQ(PublicKey::from_rsa(n, Bytes{0x02}).error().code, Errc::kMalformed);  // even
  EXPECT_EQ(PublicKey::from_rsa(n, Bytes{0x01}).error().code, Errc::kMalformed);  // e = 1
  EXPECT_EQ(PublicKey::from_rsa(n, Bytes{}).error().code, Errc::kMalformed);
}

TEST(PublicKey, PemRoundTrip) {
  auto key = PublicKey::from_der(unhex(kEcSpki));
  ASSERT_TRUE(key);
  auto pem = key->to_pem();
  ASSERT_TRUE(pem);
  EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  auto again = PublicKey::from_pem("leading text\n" + *pem);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(hex_encode(*again->to_der()), kEcSpki);
  auto copy = again->clone();
  EXPECT_EQ(copy.get(), again->get());
}

TEST(PublicKey, MalformedInputIsAnError) {
  auto garbage = PublicKey::from_der(as_bytes("not a key"));
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Errc::kMalformed);
  Bytes trailing = unhex(kEcSpki);
  trailing.push_back(0);
  auto t = PublicKey::from_der(trailing);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::kTrailingData);
  EXPECT_FALSE(PublicKey::from_der({}));
  auto pem = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n");
  ASSERT_FALSE(pem);
  EXPECT_EQ(pem.error().code, Errc::kMalformed);
}

TEST(PrivateKey, PemRoundTripKeepsTheKey) {
  auto key = PrivateKey::generate_ec(EcCurve::kP384);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->curve(), EcCurve::kP384);
  auto pem = key->to_pem();
  ASSERT_TRUE(pem);
  EXPECT_NE(pem->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  auto again = PrivateKey::from_pem(*pem);
  wipe(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(pem->data()), pem->size()));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again->public_key()->to_der(), *key->public_key()->to_der());
  EXPECT_EQ(PrivateKey::from_pem("nothing here").error().code, Errc::kMalformed);
  EXPECT_EQ(PrivateKey::generate_rsa(1024).error().code, Errc::kInvalidArgument);
}

TEST(PrivateKey, EncryptedPemFailsWithoutPrompting) {
  // A PKCS#8 EncryptedPrivateKeyInfo header with a body that never gets decrypted:
  // the passphrase callback refuses, so no terminal prompt happens.
  const std::string pem =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
  auto key = PrivateKey::from_pem(pem);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::kMalformed);
}

}  // namespace
}  // namespace concierge
