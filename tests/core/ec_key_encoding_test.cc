// The EC key paths that bypass OpenSSL's generic encoder and decoder
// (PublicKey::from_der / to_der for named-curve SPKIs, PrivateKey::public_key,
// the JWK of a key): each must give exactly what OpenSSL's own i2d_PUBKEY /
// d2i_PUBKEY give, and refuse what they refuse.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"

namespace concierge {
namespace {

// OpenSSL's own SubjectPublicKeyInfo encoding of `pkey`.
Bytes openssl_spki(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  const int len = i2d_PUBKEY(pkey, &buf);
  EXPECT_GT(len, 0);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

// The same key decoded by OpenSSL's own decoder.
EVP_PKEY* openssl_decode(ByteView spki) {
  const unsigned char* p = spki.data();
  return d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
}

class EcKeyEncoding : public ::testing::TestWithParam<EcCurve> {};

INSTANTIATE_TEST_SUITE_P(Curves, EcKeyEncoding, ::testing::Values(EcCurve::kP256, EcCurve::kP384),
                         [](const auto& curve) {
                           return curve.param == EcCurve::kP256 ? std::string("P256")
                                                                : std::string("P384");
                         });

TEST_P(EcKeyEncoding, PublicKeyAndDerMatchOpenSslsEncoder) {
  for (int i = 0; i < 8; ++i) {  // several keys: coordinates with leading zero bytes happen
    auto priv = PrivateKey::generate_ec(GetParam());
    ASSERT_TRUE(priv) << priv.error().to_string();
    auto pub = priv->public_key();
    ASSERT_TRUE(pub) << pub.error().to_string();
    EXPECT_EQ(pub->curve(), GetParam());
    EXPECT_EQ(EVP_PKEY_eq(pub->get(), priv->get()), 1);  // the same public key
    // A PublicKey holds no private part.
    BIGNUM* d = nullptr;
    EXPECT_NE(EVP_PKEY_get_bn_param(pub->get(), OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    BN_free(d);

    const Bytes expected = openssl_spki(priv->get());
    auto der = pub->to_der();
    ASSERT_TRUE(der) << der.error().to_string();
    EXPECT_EQ(hex_encode(*der), hex_encode(expected));

    auto parsed = PublicKey::from_der(expected);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(EVP_PKEY_eq(parsed->get(), priv->get()), 1);
    EXPECT_EQ(parsed->curve(), GetParam());
  }
}

TEST_P(EcKeyEncoding, JwkCoordinatesAreThePoint) {
  auto priv = PrivateKey::generate_ec(GetParam());
  ASSERT_TRUE(priv);
  auto pub = priv->public_key();
  ASSERT_TRUE(pub);
  auto jwk = jose::jwk_from_public_key(*pub);
  ASSERT_TRUE(jwk) << jwk.error().to_string();
  const Bytes spki = openssl_spki(priv->get());
  const std::size_t n = ec_coordinate_size(GetParam());
  const ByteView point = ByteView(spki).last(2 * n);
  EXPECT_EQ((*jwk)["kty"], "EC");
  EXPECT_EQ((*jwk)["crv"], std::string(ec_curve_name(GetParam())));
  EXPECT_EQ((*jwk)["x"], base64url_encode(point.first(n)));
  EXPECT_EQ((*jwk)["y"], base64url_encode(point.last(n)));
  auto back = jose::public_key_from_jwk(*jwk);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(EVP_PKEY_eq(back->get(), pub->get()), 1);
}

TEST_P(EcKeyEncoding, AnSpkiOffTheCurveIsRefusedLikeOpenSslRefusesIt) {
  auto priv = PrivateKey::generate_ec(GetParam());
  ASSERT_TRUE(priv);
  Bytes spki = openssl_spki(priv->get());
  spki.back() ^= 0x01;  // Y no longer belongs to X
  EVP_PKEY* theirs = openssl_decode(spki);
  EXPECT_EQ(theirs, nullptr);
  EVP_PKEY_free(theirs);
  auto ours = PublicKey::from_der(spki);
  ASSERT_FALSE(ours);
  EXPECT_EQ(ours.error().code, Errc::kMalformed);

  // The point at infinity's coordinates (all zero) in the same frame.
  Bytes zero = openssl_spki(priv->get());
  std::fill(zero.end() - 2 * static_cast<std::ptrdiff_t>(ec_coordinate_size(GetParam())),
            zero.end(), 0);
  auto at_zero = PublicKey::from_der(zero);
  ASSERT_FALSE(at_zero);
  EXPECT_EQ(at_zero.error().code, Errc::kMalformed);
}

TEST_P(EcKeyEncoding, OtherShapesStillGoThroughOpenSsl) {
  auto priv = PrivateKey::generate_ec(GetParam());
  ASSERT_TRUE(priv);
  const Bytes spki = openssl_spki(priv->get());

  // A byte after the key: refused as trailing data, with its offset.
  Bytes longer = spki;
  longer.push_back(0x00);
  auto trailing = PublicKey::from_der(longer);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code, Errc::kTrailingData);

  // The compressed form (another length): read by OpenSSL's decoder, and
  // written back compressed, as OpenSSL writes it.
  EVP_PKEY* compressed = openssl_decode(spki);
  ASSERT_NE(compressed, nullptr);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(compressed, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           "compressed"),
            1);
  const Bytes compressed_spki = openssl_spki(compressed);
  EXPECT_LT(compressed_spki.size(), spki.size());
  auto key = PublicKey::from_der(compressed_spki);
  ASSERT_TRUE(key) << key.error().to_string();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), priv->get()), 1);
  auto again = key->to_der();
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(hex_encode(*again), hex_encode(compressed_spki));
  // Its JWK carries both coordinates, as for any key.
  auto jwk = jose::jwk_from_public_key(*key);
  ASSERT_TRUE(jwk) << jwk.error().to_string();
  auto from_jwk = jose::public_key_from_jwk(*jwk);
  ASSERT_TRUE(from_jwk);
  EXPECT_EQ(EVP_PKEY_eq(from_jwk->get(), priv->get()), 1);
  PublicKey owned = PublicKey::adopt(compressed);
  auto owned_der = owned.to_der();
  ASSERT_TRUE(owned_der);
  EXPECT_EQ(hex_encode(*owned_der), hex_encode(compressed_spki));

  // The same frame on the other curve's length: not the fast path's shape.
  Bytes wrong_length(spki.begin(), spki.end() - 1);
  EXPECT_FALSE(PublicKey::from_der(wrong_length));
}

TEST(EcKeyEncodingRsa, RsaKeysAreUnchanged) {
  auto priv = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(priv);
  auto pub = priv->public_key();
  ASSERT_TRUE(pub) << pub.error().to_string();
  EXPECT_EQ(pub->type(), KeyType::kRsa);
  const Bytes expected = openssl_spki(priv->get());
  auto der = pub->to_der();
  ASSERT_TRUE(der);
  EXPECT_EQ(*der, expected);
  auto parsed = PublicKey::from_der(expected);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(EVP_PKEY_eq(parsed->get(), priv->get()), 1);
  EXPECT_FALSE(jose::jwk_from_public_key(*pub));
}

}  // namespace
}  // namespace concierge
