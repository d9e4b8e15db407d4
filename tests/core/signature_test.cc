#include "concierge/core/signature.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "support/test_cache.h"

namespace concierge {
namespace {

// Known-answer vectors, generated for this test with the openssl CLI:
//   printf 'concierge known-answer test' > msg.txt
//   openssl ecparam -name prime256v1 -genkey -noout -out ec.pem
//   openssl dgst -sha256 -sign ec.pem msg.txt                        (kEcSig)
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
//   openssl dgst -sha384 -sign rsa.pem msg.txt                       (kRsaPkcs1Sha384)
//   openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
//       -sign rsa.pem msg.txt                                        (kRsaPssSha256)
constexpr char kMessage[] = "concierge known-answer test";
constexpr char kEcSpki[] =
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004c6c495fe3b65d239722ac172f8b3ebd99d0cff1c"
    "d588bed42f7556eda46ef0e070784f276b7b7c48369f17781ccb8123a7c7a79ac36e9e1d3e9c449194ba6b86";
constexpr char kEcSig[] =
    "304502203ff315679b9f07d0aaa6d660f59bf702e5e4092bf2d1d3079f5ecfb3f67a10b6022100a5513d77ebf5ce46"
    "9bb8ac588d4c7a616174fcd95cfe45c28bd8a7d4421141f8";
constexpr char kRsaSpki[] =
    "30820122300d06092a864886f70d01010105000382010f003082010a0282010100b94e996524765dbb682303ac6777"
    "0617a7e2f87ec7fa5c505cf1cd8d894d2809ac007f3b08ccc3ed0a8f005ee18721bfcabfa47b2850f076842e30e437"
    "2f2b5038932ffc6cc06db1830db76e4b25e08090ecdc09fbcd7bd694e8d11cc91743aee868151399243373f0a8253e"
    "e807b6a0c6ce59cb0dae5c366deccb5164b49c322f87a807e2df0ec1cc24d28cbb45b3816a18fd16ff5688c4c250a8"
    "65eb67f179147fcd387cf82ef37f621f4f37da8d336e617d702e9e2e285d284d34405f1a2789354f1aa8e06a7b3eeb"
    "92a6413ab49b89969e9599da0cbd4fc88058b08adb2a23a1fee3876e65319dd1d7065e2437353f63a5d4470dd38b4f"
    "cb12a2e6e2a4cb0203010001";
constexpr char kRsaPkcs1Sha384[] =
    "0d351c310c790cd48fcfb859a9c9dabdd47c12998da902eafe8850de035901c27cf39472a3c6cc3ec33ba784b038ae"
    "5ea10934356fcf330d7cfcb978004f019a6ec2319cfee30db224500cd3b560cf82ab919cd95a2772f405b9966f4425"
    "14de87e82396e8cfc61041911b1e2d956777df4d6ec0b16089403c1504f2ca0646e23d0f06294db1cb857f0ed07fd9"
    "11740b797966a59f231b89a33f15fed6c0faa64176334dbfbea68cacfb309b652061bd81a7d770f37bd58eab1d6f66"
    "30cbc22eed76d937284e8521ae1ac26ebbf236597a01285ed8dce74a46980be004ee3a7354a38ae0a9dcee3ecb5954"
    "ac0033488512205cf1ce5e5c1624b03fc205923428";
constexpr char kRsaPssSha256[] =
    "79568bbfca9d9c67dbdd86b5fbd997162857f9cb12583600ac1cc1cf609576907dcfaab54c37576dfc56fd4d3b163f"
    "4ebafcfb87158b376f3728784394aa8e6473d2f5456b036f16fb45d8fb4f6b94284b12bd890072d31856398d4b1fc9"
    "c2dc37aebe90befacacd7cf1234e6a63da09f7c75c474f84b88da0b8ca2d6d642d65656537a42545bc22e4b2fdcc8a"
    "b7210affcff8b81a2f4f45dbe1937ef34f98075e72a06c7e2c0e1008419c62f10bb76d4cc30271bf2ec7c849127da9"
    "6fb7fd7a6a2816e555d9b6cac2461ec7c91e8395a0438c3184895a5b6e134999e60cced8c9e9420675671d38418fa8"
    "14b3373b0261003a3d9f5b54f99c275a986453b71a";

Bytes unhex(std::string_view s) { return hex_decode(s).value(); }

PublicKey pub(std::string_view spki_hex) { return PublicKey::from_der(unhex(spki_hex)).value(); }

// Expects an accepted verdict.
void expect_accept(const Result<Verdict>& r) {
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->accepted) << r->reason;
}
// Expects a rejection (not an Error) whose reason contains `why`.
void expect_reject(const Result<Verdict>& r, std::string_view why = "") {
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->accepted);
  EXPECT_FALSE(r->reason.empty());
  EXPECT_NE(r->reason.find(why), std::string::npos) << r->reason;
}

// RSA keys are slow to generate: two independent keys, made once per build
// of the test binary (support/test_cache.h).
class SignatureRsa : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new PrivateKey(concierge::testing::cached_rsa_key(2048, 0));
    other_ = new PrivateKey(concierge::testing::cached_rsa_key(2048, 1));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
    key_ = other_ = nullptr;
  }
  static PrivateKey* key_;
  static PrivateKey* other_;
};
PrivateKey* SignatureRsa::key_ = nullptr;
PrivateKey* SignatureRsa::other_ = nullptr;

// ---- known answers ----

TEST(SignatureKat, EcdsaP256Sha256) {
  expect_accept(
      verify_ecdsa_der(pub(kEcSpki), HashAlg::kSha256, as_bytes(kMessage), unhex(kEcSig)));
  expect_reject(
      verify_ecdsa_der(pub(kEcSpki), HashAlg::kSha384, as_bytes(kMessage), unhex(kEcSig)));
  // The same signature as raw r || s and as little-endian components.
  auto raw = ecdsa_der_to_raw(unhex(kEcSig), 32);
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 64u);
  EXPECT_EQ(hex_encode(ByteView(*raw).first(32)),
            "3ff315679b9f07d0aaa6d660f59bf702e5e4092bf2d1d3079f5ecfb3f67a10b6");
  expect_accept(verify_ecdsa_raw(pub(kEcSpki), HashAlg::kSha256, as_bytes(kMessage), *raw));
  EXPECT_EQ(hex_encode(*ecdsa_raw_to_der(ByteView(*raw).first(32), ByteView(*raw).last(32))),
            kEcSig);
  auto le = ecdsa_swap_endianness(*raw);
  ASSERT_TRUE(le);
  EXPECT_EQ((*le)[0], 0xb6);
  expect_accept(verify_ecdsa_le(pub(kEcSpki), HashAlg::kSha256, as_bytes(kMessage), *le, 32));
  // Prehashed with the SHA-256 of the message.
  expect_accept(verify_ecdsa_prehashed_der(
      pub(kEcSpki), *digest(HashAlg::kSha256, as_bytes(kMessage)), unhex(kEcSig)));
}

TEST(SignatureKat, RsaPkcs1AndPss) {
  expect_accept(verify_rsa_pkcs1(pub(kRsaSpki), HashAlg::kSha384, as_bytes(kMessage),
                                 unhex(kRsaPkcs1Sha384)));
  expect_accept(
      verify_rsa_pss(pub(kRsaSpki), HashAlg::kSha256, as_bytes(kMessage), unhex(kRsaPssSha256)));
  expect_accept(verify_rsa_pss(pub(kRsaSpki), HashAlg::kSha256, as_bytes(kMessage),
                               unhex(kRsaPssSha256), PssSalt::kAuto));
  // Scheme confusion is a rejection.
  expect_reject(
      verify_rsa_pss(pub(kRsaSpki), HashAlg::kSha384, as_bytes(kMessage), unhex(kRsaPkcs1Sha384)));
  expect_reject(
      verify_rsa_pkcs1(pub(kRsaSpki), HashAlg::kSha256, as_bytes(kMessage), unhex(kRsaPssSha256)));
  expect_accept(verify_rsa_pkcs1_prehashed(pub(kRsaSpki), HashAlg::kSha384,
                                           *digest(HashAlg::kSha384, as_bytes(kMessage)),
                                           unhex(kRsaPkcs1Sha384)));
  expect_accept(verify_rsa_pss_prehashed(pub(kRsaSpki), HashAlg::kSha256,
                                         *digest(HashAlg::kSha256, as_bytes(kMessage)),
                                         unhex(kRsaPssSha256)));
}

// ---- ECDSA with generated keys ----

struct EcCase {
  EcCurve curve;
  HashAlg hash;
};

TEST(SignatureEcdsa, RoundTripsEveryCurveAndDigest) {
  for (EcCase c :
       {EcCase{EcCurve::kP256, HashAlg::kSha256}, EcCase{EcCurve::kP256, HashAlg::kSha384},
        EcCase{EcCurve::kP256, HashAlg::kSha512}, EcCase{EcCurve::kP384, HashAlg::kSha256},
        EcCase{EcCurve::kP384, HashAlg::kSha384}, EcCase{EcCurve::kP384, HashAlg::kSha512}}) {
    SCOPED_TRACE(std::string(ec_curve_name(c.curve)) + "/" + std::string(hash_name(c.hash)));
    auto key = PrivateKey::generate_ec(c.curve);
    ASSERT_TRUE(key);
    auto pk = key->public_key().value();
    const Bytes msg = {1, 2, 3, 4, 5};
    auto der = key->sign_ecdsa_der(c.hash, msg);
    ASSERT_TRUE(der);
    expect_accept(verify_ecdsa_der(pk, c.hash, msg, *der));
    auto raw = key->sign_ecdsa_raw(c.hash, msg);
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 2 * ec_coordinate_size(c.curve));
    expect_accept(verify_ecdsa_raw(pk, c.hash, msg, *raw));
  }
}

TEST(SignatureEcdsa, WrongMessageKeyOrBitIsRejected) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  auto other = PrivateKey::generate_ec(EcCurve::kP256).value();
  const Bytes msg(100, 0x5a);
  const Bytes der = key.sign_ecdsa_der(HashAlg::kSha256, msg).value();
  const PublicKey pk = key.public_key().value();
  Bytes wrong_msg = msg;
  wrong_msg[50] ^= 0x01;
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, wrong_msg, der), "does not verify");
  expect_reject(verify_ecdsa_der(other.public_key().value(), HashAlg::kSha256, msg, der));
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha384, msg, der));
  // Flip one bit at a time near the end (inside s): every variant fails.
  for (std::size_t bit = 0; bit < 16; ++bit) {
    Bytes flipped = der;
    flipped[flipped.size() - 1 - bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, flipped));
  }
  Bytes raw = key.sign_ecdsa_raw(HashAlg::kSha256, msg).value();
  raw[3] ^= 0x80;
  expect_reject(verify_ecdsa_raw(pk, HashAlg::kSha256, msg, raw));
}

TEST(SignatureEcdsa, MalformedDerIsRejectedNotAnError) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  const PublicKey pk = key.public_key().value();
  const Bytes msg = {0x42};
  const Bytes good = key.sign_ecdsa_der(HashAlg::kSha256, msg).value();

  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, {}));
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, as_bytes("garbage")), "DER");
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, ByteView(good).first(good.size() - 1)));
  Bytes trailing = good;
  trailing.push_back(0);
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, trailing));
  // BER long-form length for the SEQUENCE: same content, not canonical DER.
  Bytes ber(good.size() + 1);
  ber[0] = 0x30;
  ber[1] = 0x81;
  std::copy(good.begin() + 1, good.end(), ber.begin() + 2);
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, ber), "DER");
  // r one byte wider than P-256 allows.
  Bytes wide_r(33, 0x11);
  const Bytes wide = ecdsa_raw_to_der(wide_r, Bytes(32, 0x22)).value();
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, wide), "wide");
  // Zero r and s: valid DER, never a valid signature.
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, *ecdsa_raw_to_der(Bytes{0}, Bytes{0})));
  // Negative r (0x80 without a leading zero).
  const Bytes negative = {0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01};
  expect_reject(verify_ecdsa_der(pk, HashAlg::kSha256, msg, negative));
  EXPECT_FALSE(ecdsa_der_to_raw(negative, 32));
  EXPECT_FALSE(ecdsa_der_to_raw(wide, 32));
}

TEST(SignatureEcdsa, RawComponentsWiderThanTheCurveAreRejected) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  const PublicKey pk = key.public_key().value();
  const Bytes msg = {7};
  const Bytes raw = key.sign_ecdsa_raw(HashAlg::kSha256, msg).value();
  // Zero-padding each half to 40 bytes is fine.
  Bytes padded(80, 0);
  std::copy(raw.begin(), raw.begin() + 32, padded.begin() + 8);
  std::copy(raw.begin() + 32, raw.end(), padded.begin() + 48);
  expect_accept(verify_ecdsa_raw(pk, HashAlg::kSha256, msg, padded));
  padded[0] = 1;  // a nonzero byte beyond 32: too wide
  expect_reject(verify_ecdsa_raw(pk, HashAlg::kSha256, msg, padded), "wide");
  expect_reject(verify_ecdsa_raw(pk, HashAlg::kSha256, msg, ByteView(raw).first(63)), "halves");
  expect_reject(verify_ecdsa_raw(pk, HashAlg::kSha256, msg, {}));
}

TEST(SignatureEcdsa, LittleEndianSnpStyle) {
  auto key = PrivateKey::generate_ec(EcCurve::kP384).value();
  const PublicKey pk = key.public_key().value();
  const Bytes report(0x2a0, 0x33);
  const Bytes raw = key.sign_ecdsa_raw(HashAlg::kSha384, report).value();
  // SEV-SNP: r and s each little-endian in a 72-byte field, zero-padded.
  Bytes sig(144, 0);
  std::reverse_copy(raw.begin(), raw.begin() + 48, sig.begin());
  std::reverse_copy(raw.begin() + 48, raw.end(), sig.begin() + 72);
  expect_accept(verify_ecdsa_le(pk, HashAlg::kSha384, report, sig, 72));
  expect_reject(verify_ecdsa_le(pk, HashAlg::kSha384, report, ByteView(sig).first(143), 72),
                "expected");
  Bytes high = sig;
  high[71] = 1;  // nonzero padding makes r 72 bytes wide
  expect_reject(verify_ecdsa_le(pk, HashAlg::kSha384, report, high, 72), "wide");
  Bytes flipped = sig;
  flipped[0] ^= 1;
  expect_reject(verify_ecdsa_le(pk, HashAlg::kSha384, report, flipped, 72));
  EXPECT_EQ(verify_ecdsa_le(pk, HashAlg::kSha384, report, sig, 0).error().code,
            Errc::kInvalidArgument);
  EXPECT_FALSE(ecdsa_swap_endianness(Bytes(3, 0)));
}

TEST(SignatureEcdsa, Prehashed) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  const PublicKey pk = key.public_key().value();
  const Bytes d = digest(HashAlg::kSha256, as_bytes("TPMS_ATTEST")).value();
  const Bytes der = key.sign_ecdsa_prehashed_der(d).value();
  expect_accept(verify_ecdsa_prehashed_der(pk, d, der));
  expect_accept(verify_ecdsa_der(pk, HashAlg::kSha256, as_bytes("TPMS_ATTEST"), der));
  expect_accept(verify_ecdsa_prehashed_raw(pk, d, ecdsa_der_to_raw(der, 32).value()));
  Bytes other = d;
  other[0] ^= 1;
  expect_reject(verify_ecdsa_prehashed_der(pk, other, der));
  // A SHA-1 digest (legacy TPM banks) is a valid input length.
  const Bytes sha1 = digest(HashAlg::kSha1, as_bytes("x")).value();
  expect_accept(verify_ecdsa_prehashed_der(pk, sha1, key.sign_ecdsa_prehashed_der(sha1).value()));
  EXPECT_EQ(verify_ecdsa_prehashed_der(pk, Bytes(10, 0), der).error().code, Errc::kInvalidArgument);
}

// ---- RSA ----

TEST_F(SignatureRsa, Pkcs1RoundTripAndRejections) {
  const PublicKey pk = key_->public_key().value();
  const Bytes msg = {9, 8, 7};
  for (HashAlg h : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    SCOPED_TRACE(hash_name(h));
    const Bytes sig = key_->sign_rsa_pkcs1(h, msg).value();
    EXPECT_EQ(sig.size(), 256u);
    expect_accept(verify_rsa_pkcs1(pk, h, msg, sig));
    expect_accept(verify_rsa_pkcs1_prehashed(pk, h, *digest(h, msg), sig));
    expect_reject(verify_rsa_pkcs1(pk, h, Bytes{9, 8, 6}, sig));
    expect_reject(verify_rsa_pkcs1(other_->public_key().value(), h, msg, sig));
    Bytes flipped = sig;
    flipped[100] ^= 0x10;
    expect_reject(verify_rsa_pkcs1(pk, h, msg, flipped));
  }
  const Bytes sig = key_->sign_rsa_pkcs1(HashAlg::kSha256, msg).value();
  expect_reject(verify_rsa_pkcs1(pk, HashAlg::kSha256, msg, ByteView(sig).first(255)), "bytes");
  expect_reject(verify_rsa_pkcs1(pk, HashAlg::kSha256, msg, {}));
  EXPECT_EQ(verify_rsa_pkcs1_prehashed(pk, HashAlg::kSha256, Bytes(20, 0), sig).error().code,
            Errc::kInvalidArgument);
}

TEST_F(SignatureRsa, PssRoundTripAndSaltModes) {
  const PublicKey pk = key_->public_key().value();
  const Bytes msg(1000, 0xee);
  for (HashAlg h : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    SCOPED_TRACE(hash_name(h));
    const Bytes sig = key_->sign_rsa_pss(h, msg).value();
    expect_accept(verify_rsa_pss(pk, h, msg, sig));
    expect_accept(verify_rsa_pss(pk, h, msg, sig, PssSalt::kAuto));
    expect_accept(verify_rsa_pss_prehashed(pk, h, *digest(h, msg), sig));
    Bytes flipped = sig;
    flipped[0] ^= 0x01;
    expect_reject(verify_rsa_pss(pk, h, msg, flipped));
    expect_reject(verify_rsa_pkcs1(pk, h, msg, sig));
    expect_reject(verify_rsa_pss(other_->public_key().value(), h, msg, sig));
  }
}

TEST_F(SignatureRsa, WrongKeyTypeIsAnError) {
  auto ec = PrivateKey::generate_ec(EcCurve::kP256).value();
  const Bytes msg = {1};
  const Bytes ec_sig = ec.sign_ecdsa_der(HashAlg::kSha256, msg).value();
  const Bytes rsa_sig = key_->sign_rsa_pkcs1(HashAlg::kSha256, msg).value();
  auto r1 = verify_ecdsa_der(key_->public_key().value(), HashAlg::kSha256, msg, ec_sig);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, Errc::kInvalidArgument);
  auto r2 = verify_rsa_pkcs1(ec.public_key().value(), HashAlg::kSha256, msg, rsa_sig);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(verify_rsa_pss(ec.public_key().value(), HashAlg::kSha256, msg, rsa_sig));
  EXPECT_FALSE(ec.sign_rsa_pkcs1(HashAlg::kSha256, msg));
  EXPECT_FALSE(key_->sign_ecdsa_der(HashAlg::kSha256, msg));
}

TEST(SignatureRsaLarge, Rsa3072Pss) {
  auto key = PrivateKey::generate_rsa(3072);
  ASSERT_TRUE(key) << key.error().to_string();
  const PublicKey pk = key->public_key().value();
  EXPECT_EQ(pk.bits(), 3072);
  const Bytes sig = key->sign_rsa_pss(HashAlg::kSha384, as_bytes("ask")).value();
  EXPECT_EQ(sig.size(), 384u);
  expect_accept(verify_rsa_pss(pk, HashAlg::kSha384, as_bytes("ask"), sig));
}

}  // namespace
}  // namespace concierge
