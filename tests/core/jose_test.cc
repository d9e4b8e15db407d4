#include "concierge/core/jose.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/jcs.h"
#include "concierge/core/signature.h"
#include "support/jwcrypto.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

const std::vector<JwsAlg> kBoth = {JwsAlg::kEs256, JwsAlg::kEs384};

// A key of a type these functions do not take.
constexpr const char* kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBoUS2TfSxh5N5pCDSVNrpeUFzGEtxVSpRxURRS/eAWZ\n"
    "-----END PRIVATE KEY-----\n";

PrivateKey gen(EcCurve curve) {
  auto k = PrivateKey::generate_ec(curve);
  EXPECT_TRUE(k);
  return std::move(k).value();
}

PublicKey pub(const PrivateKey& k) { return std::move(k.public_key()).value(); }

std::string b64(std::string_view s) { return base64url_encode(as_bytes(s)); }

Bytes bytes_of(std::string_view s) {
  const ByteView b = as_bytes(s);
  return Bytes(b.begin(), b.end());
}

// A compact JWS assembled by hand: header text, payload, signature bytes.
std::string assemble(std::string_view header, std::string_view payload, ByteView sig) {
  return b64(header) + "." + b64(payload) + "." + base64url_encode(sig);
}

std::string segment(const std::string& token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const std::size_t end = token.find('.', start);
  return token.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Json decode_json_segment(const std::string& token, int index) {
  auto bytes = base64url_decode(segment(token, index));
  EXPECT_TRUE(bytes);
  return Json::parse(as_chars(*bytes));
}

// RFC 7515 appendix A.3: the ES256 example key (public part) and token.
const Json kRfc7515A3Jwk = {{"kty", "EC"},
                            {"crv", "P-256"},
                            {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                            {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
constexpr const char* kRfc7515A3Token =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

TEST(Jwk, RoundTripsBothCurvesWithFixedWidthCoordinates) {
  for (EcCurve curve : {EcCurve::kP256, EcCurve::kP384}) {
    const PrivateKey key = gen(curve);
    const PublicKey p = pub(key);
    auto jwk = jwk_from_public_key(p);
    ASSERT_TRUE(jwk) << jwk.error().to_string();
    EXPECT_EQ((*jwk)["kty"], "EC");
    EXPECT_EQ((*jwk)["crv"], std::string(ec_curve_name(curve)));
    EXPECT_EQ(jwk->size(), 4u);
    EXPECT_EQ(base64url_decode((*jwk)["x"].get<std::string>())->size(), ec_coordinate_size(curve));
    EXPECT_EQ(base64url_decode((*jwk)["y"].get<std::string>())->size(), ec_coordinate_size(curve));
    auto back = public_key_from_jwk(*jwk);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back->to_der(), *p.to_der());
  }
}

TEST(Jwk, CoordinatesKeepLeadingZeros) {
  // 379 * G on P-256: x has a leading zero byte (x < 2^248).
  const Bytes x = *hex_decode("005543894af3d00ed7d740abdbd75c96b06877b787db5f70eea78b90a8d7c00a");
  const Bytes y = *hex_decode("bb4c85a3d8ea29efaafa24406912dd84d5b14dc32bf656ef6c6bd58a5d943f92");
  auto key = PublicKey::from_ec_coordinates(EcCurve::kP256, ByteView(x).subspan(1), y);
  ASSERT_TRUE(key) << key.error().to_string();
  auto jwk = jwk_from_public_key(*key);
  ASSERT_TRUE(jwk);
  EXPECT_EQ((*jwk)["x"], "AFVDiUrz0A7X10Cr29dclrBod7eH219w7qeLkKjXwAo");
  EXPECT_EQ((*jwk)["y"], "u0yFo9jqKe-q-iRAaRLdhNWxTcMr9lbvbGvVil2UP5I");
  EXPECT_EQ(*base64url_decode((*jwk)["x"].get<std::string>()), x);
  EXPECT_EQ(*public_key_from_jwk(*jwk)->to_der(), *key->to_der());
  // A JWK that drops the leading zero is not the fixed width RFC 7518 6.2.1.2 asks for.
  Json short_x = *jwk;
  short_x["x"] = base64url_encode(ByteView(x).subspan(1));
  EXPECT_EQ(public_key_from_jwk(short_x).error().code, Errc::kMalformed);
}

TEST(Jwk, StrictParsing) {
  EXPECT_TRUE(public_key_from_jwk(kRfc7515A3Jwk));
  Json j = kRfc7515A3Jwk;
  j["crv"] = "P-521";
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kUnsupported);
  j = kRfc7515A3Jwk;
  j["kty"] = "RSA";
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kUnsupported);
  j = kRfc7515A3Jwk;
  j["x"] = b64(std::string(31, 'a'));  // short coordinate
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kMalformed);
  j = kRfc7515A3Jwk;
  j["x"] = j["x"].get<std::string>() + "=";
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kMalformed);
  j = kRfc7515A3Jwk;
  j["y"] = j["x"];  // not on the curve
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kMalformed);
  j = kRfc7515A3Jwk;
  j.erase("y");
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kMalformed);
  j = kRfc7515A3Jwk;
  j["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
  EXPECT_EQ(public_key_from_jwk(j).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(public_key_from_jwk(Json::array()).error().code, Errc::kMalformed);
}

// RFC 7638 section 3.1 (RSA) and a value computed by jwcrypto for RFC 7515
// A.3's EC key.
TEST(Jwk, ThumbprintsMatchRfc7638) {
  const Json rsa = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
       "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
       "kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  EXPECT_EQ(*jwk_thumbprint(rsa), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(*jwk_thumbprint(kRfc7515A3Jwk), "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  Json with_extras = kRfc7515A3Jwk;
  with_extras["kid"] = "x";
  with_extras["use"] = "sig";
  EXPECT_EQ(*jwk_thumbprint(with_extras), "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  EXPECT_EQ(*jwk_thumbprint(*public_key_from_jwk(kRfc7515A3Jwk)),
            "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  EXPECT_EQ(jwk_thumbprint(Json{{"kty", "XYZ"}}).error().code, Errc::kUnsupported);
  EXPECT_EQ(jwk_thumbprint(Json{{"kty", "EC"}, {"crv", "P-256"}}).error().code, Errc::kMalformed);
}

TEST(Jwk, JwksAddAndSerialize) {
  const PrivateKey k256 = gen(EcCurve::kP256);
  const PrivateKey k384 = gen(EcCurve::kP384);
  Jwks set;
  auto kid256 = set.add(pub(k256));
  ASSERT_TRUE(kid256);
  EXPECT_EQ(*kid256, *jwk_thumbprint(pub(k256)));
  ASSERT_TRUE(set.add(pub(k384), JwsAlg::kEs384, "verifier-2"));
  EXPECT_EQ(set.add(pub(k384), std::nullopt, "verifier-2").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(set.add(pub(k384), JwsAlg::kEs256).error().code, Errc::kInvalidArgument);
  auto ed25519 = PrivateKey::from_pem(kEd25519Pem);
  ASSERT_TRUE(ed25519);
  EXPECT_EQ(set.add(*ed25519->public_key()).error().code, Errc::kInvalidArgument);

  const Json j = set.to_json();
  ASSERT_EQ(j["keys"].size(), 2u);
  EXPECT_EQ(j["keys"][0]["kid"], *kid256);
  EXPECT_EQ(j["keys"][0]["alg"], "ES256");
  EXPECT_EQ(j["keys"][0]["use"], "sig");
  EXPECT_EQ(j["keys"][1]["kid"], "verifier-2");
  EXPECT_EQ(j["keys"][1]["alg"], "ES384");
  EXPECT_EQ(j["keys"][1]["crv"], "P-384");

  auto back = Jwks::from_json_text(j.dump());
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->to_json(), j);
  const Jwks copy = back->clone();
  ASSERT_NE(copy.find("verifier-2"), nullptr);
  EXPECT_EQ(copy.find("verifier-2")->alg, JwsAlg::kEs384);
  EXPECT_EQ(copy.find("nope"), nullptr);
}

TEST(Jwk, JwksParsingSkipsWhatItCannotUse) {
  Json ec = kRfc7515A3Jwk;
  Json no_kid = ec;
  Json rsa = {{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}, {"kid", "r"}};
  Json okp = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  Json enc = ec;
  enc["use"] = "enc";
  enc["kid"] = "enc";
  Json es512 = ec;
  es512["alg"] = "ES512";
  es512["kid"] = "512";
  Json p521 = {{"kty", "EC"}, {"crv", "P-521"}, {"x", "AA"}, {"y", "AA"}};
  auto set = Jwks::from_json(Json{{"keys", {rsa, okp, enc, es512, p521, no_kid}}});
  ASSERT_TRUE(set) << set.error().to_string();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  EXPECT_EQ(set->keys()[0].alg, JwsAlg::kEs256);

  Json dup = ec;
  dup["kid"] = "a";
  EXPECT_EQ(Jwks::from_json(Json{{"keys", {dup, dup}}}).error().code, Errc::kMalformed);
  Json mismatch = ec;
  mismatch["alg"] = "ES384";
  EXPECT_EQ(Jwks::from_json(Json{{"keys", {mismatch}}}).error().code, Errc::kMalformed);
  Json broken = ec;
  broken["x"] = "AAAA";
  EXPECT_EQ(Jwks::from_json(Json{{"keys", {broken}}}).error().code, Errc::kMalformed);
  Json priv = ec;
  priv["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
  EXPECT_FALSE(Jwks::from_json(Json{{"keys", {priv}}}));
  EXPECT_EQ(Jwks::from_json(Json{{"keys", 1}}).error().code, Errc::kMalformed);
  EXPECT_EQ(Jwks::from_json(Json::array()).error().code, Errc::kMalformed);
  EXPECT_EQ(Jwks::from_json_text(R"({"keys":[],"keys":[]})").error().code, Errc::kMalformed);
}

TEST(Jws, VerifiesTheRfc7515A3Example) {
  const PublicKey key = *public_key_from_jwk(kRfc7515A3Jwk);
  auto v = verify_jws(kRfc7515A3Token, key, {JwsAlg::kEs256});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(v->header, Json({{"alg", "ES256"}}));
  EXPECT_EQ(v->payload,
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
  // Through a key set: no kid in the header, so every ES256 key is tried.
  Jwks set;
  ASSERT_TRUE(set.add(pub(gen(EcCurve::kP256))));
  ASSERT_TRUE(set.add(key));
  auto s = verify_jws(kRfc7515A3Token, set, {JwsAlg::kEs256});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->verdict) << s->verdict.reason;
  EXPECT_EQ(s->kid, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
  // Only ES384 allowed: a rejection, not an error.
  auto r = verify_jws(kRfc7515A3Token, key, {JwsAlg::kEs384});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->verdict);
  EXPECT_TRUE(r->payload.empty());
  EXPECT_TRUE(r->header.is_null());
}

TEST(Jws, SignAndVerifyBothAlgorithms) {
  for (EcCurve curve : {EcCurve::kP256, EcCurve::kP384}) {
    const JwsAlg alg = jws_alg_for_curve(curve);
    const PrivateKey key = gen(curve);
    Jwks set;
    const std::string kid = *set.add(pub(key));
    auto token = sign_jws(key, alg, Json{{"typ", "example+jwt"}}, "payload \x01 bytes");
    ASSERT_TRUE(token) << token.error().to_string();
    const Json header = decode_json_segment(*token, 0);
    EXPECT_EQ(
        header,
        Json({{"alg", std::string(jws_alg_name(alg))}, {"kid", kid}, {"typ", "example+jwt"}}));
    // The header is written canonically (RFC 8785).
    EXPECT_EQ(*base64url_decode(segment(*token, 0)), bytes_of(*jcs::canonicalize(header)));
    // Raw r || s, not DER.
    EXPECT_EQ(base64url_decode(segment(*token, 2))->size(), 2 * ec_coordinate_size(curve));

    auto v = verify_jws(*token, set, kBoth);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->verdict) << v->verdict.reason;
    EXPECT_EQ(v->payload, "payload \x01 bytes");
    EXPECT_EQ(v->kid, kid);
    EXPECT_EQ(v->alg, alg);
    EXPECT_EQ(v->header["typ"], "example+jwt");
    auto direct = verify_jws(*token, pub(key), {alg});
    ASSERT_TRUE(direct);
    EXPECT_TRUE(direct->verdict);
  }
}

TEST(Jws, ExplicitKidAndEmptyPayload) {
  const PrivateKey key = gen(EcCurve::kP256);
  Jwks set;
  ASSERT_TRUE(set.add(pub(key), std::nullopt, "my-key"));
  auto token = sign_jws(key, JwsAlg::kEs256, Json{{"kid", "my-key"}}, "");
  ASSERT_TRUE(token);
  auto v = verify_jws(*token, set, {JwsAlg::kEs256});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(v->payload, "");
  EXPECT_EQ(v->kid, "my-key");
}

TEST(Jws, SigningArgumentsAreChecked) {
  const PrivateKey k256 = gen(EcCurve::kP256);
  EXPECT_EQ(sign_jws(k256, JwsAlg::kEs384, nullptr, "x").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(sign_jws(k256, JwsAlg::kEs256, Json::array(), "x").error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(sign_jws(k256, JwsAlg::kEs256, Json{{"alg", "none"}}, "x").error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(sign_jws(k256, JwsAlg::kEs256, Json{{"crit", {"exp"}}}, "x").error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(sign_jws(k256, JwsAlg::kEs256, Json{{"kid", 5}}, "x").error().code,
            Errc::kInvalidArgument);
  EXPECT_TRUE(sign_jws(k256, JwsAlg::kEs256, Json{{"alg", "ES256"}}, "x"));
  auto ed25519 = PrivateKey::from_pem(kEd25519Pem);
  ASSERT_TRUE(ed25519);
  EXPECT_EQ(sign_jws(*ed25519, JwsAlg::kEs256, nullptr, "x").error().code, Errc::kInvalidArgument);
}

class JwsRejection : public ::testing::Test {
 protected:
  void SetUp() override {
    kid_ = *set_.add(pub(key_));
    token_ = *sign_jws(key_, JwsAlg::kEs256, nullptr, "hello");
  }
  // A rejected verdict (not an Error, and not accepted).
  void expect_rejected(const std::string& token, const std::string& reason_part,
                       const std::vector<JwsAlg>& allowed = kBoth) {
    auto v = verify_jws(token, set_, allowed);
    ASSERT_TRUE(v) << "expected a rejection, got error " << v.error().to_string();
    EXPECT_FALSE(v->verdict);
    EXPECT_NE(v->verdict.reason.find(reason_part), std::string::npos) << v->verdict.reason;
    EXPECT_TRUE(v->payload.empty());
  }
  void expect_error(const std::string& token) {
    auto v = verify_jws(token, set_, kBoth);
    EXPECT_FALSE(v) << "expected an error for " << token;
    if (!v) {
      EXPECT_EQ(v.error().code, Errc::kMalformed) << v.error().to_string();
    }
  }
  std::string header_with(const Json& extra) {
    Json h = {{"alg", "ES256"}, {"kid", kid_}};
    if (extra.is_object()) h.update(extra);
    return h.dump();
  }
  Bytes sign_input(const std::string& header, const std::string& payload) {
    return *key_.sign_ecdsa_raw(HashAlg::kSha256, as_bytes(b64(header) + "." + b64(payload)));
  }

  PrivateKey key_ = gen(EcCurve::kP256);
  Jwks set_;
  std::string kid_;
  std::string token_;
};

TEST_F(JwsRejection, AlgNoneAndUnknownAlgorithms) {
  expect_rejected(b64(R"({"alg":"none"})") + "." + b64("hello") + ".", "\"none\" is not allowed");
  const std::string h = header_with({{"alg", "HS256"}});
  expect_rejected(assemble(h, "hello", sign_input(h, "hello")), "HS256");
  expect_rejected(token_, "ES256\" is not allowed", {JwsAlg::kEs384});
  EXPECT_EQ(verify_jws(token_, set_, {}).error().code, Errc::kInvalidArgument);
}

TEST_F(JwsRejection, KidNotInTheSetOrKeyForAnotherAlg) {
  const std::string h = header_with({{"kid", "someone-else"}});
  expect_rejected(assemble(h, "hello", sign_input(h, "hello")), "not in the key set");
  // The kid names a P-256 key but the header claims ES384.
  const std::string h384 = header_with({{"alg", "ES384"}});
  expect_rejected(assemble(h384, "hello", sign_input(h384, "hello")), "is for ES256");
  // Against a bare key of the other curve.
  auto v = verify_jws(token_, pub(gen(EcCurve::kP384)), kBoth);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->verdict);
}

TEST_F(JwsRejection, SignaturesOfTheWrongShape) {
  const std::string h = header_with({});
  const Bytes raw = sign_input(h, "hello");
  Bytes longer = raw;
  longer.push_back(0);
  expect_rejected(assemble(h, "hello", longer), "64");
  expect_rejected(assemble(h, "hello", ByteView(raw).first(63)), "63 bytes");
  const Bytes der = *ecdsa_raw_to_der(ByteView(raw).first(32), ByteView(raw).subspan(32));
  expect_rejected(assemble(h, "hello", der), "bytes");
  expect_rejected(assemble(h, "hello", {}), "0 bytes");
  // Right shape, wrong message / wrong key.
  expect_rejected(assemble(h, "hellO", raw), "does not verify");
  const PrivateKey other = gen(EcCurve::kP256);
  expect_rejected(*sign_jws(other, JwsAlg::kEs256, Json{{"kid", kid_}}, "hello"),
                  "does not verify");
  expect_rejected(assemble(h, "hello", Bytes(64, 0)), "does not verify");
}

TEST_F(JwsRejection, CriticalExtensionsAreRefused) {
  const std::string h = header_with({{"crit", {"exp"}}, {"exp", 1}});
  expect_rejected(assemble(h, "hello", sign_input(h, "hello")), "crit");
  const std::string b = header_with({{"b64", false}});
  expect_rejected(assemble(b, "hello", sign_input(b, "hello")), "b64");
}

TEST_F(JwsRejection, GarbageIsAnError) {
  expect_error("");
  expect_error("abc");
  expect_error("a.b");
  expect_error(token_ + ".x");
  expect_error(token_ + "=");
  expect_error("!" + token_);
  const Bytes sig(64, 1);
  expect_error(assemble("not json", "hello", sig));
  expect_error(assemble("[1]", "hello", sig));
  expect_error(assemble(R"({"kid":"a"})", "hello", sig));                    // no alg
  expect_error(assemble(R"({"alg":7})", "hello", sig));                      // alg not a string
  expect_error(assemble(R"({"alg":"ES256","kid":1})", "hello", sig));        // kid not a string
  expect_error(assemble(R"({"alg":"ES256","alg":"ES256"})", "hello", sig));  // duplicate
}

TEST_F(JwsRejection, EveryChangedCharacterFails) {
  // The low bit of each character's 6-bit value: at a segment's last character
  // it may be an unused bit, which a strict (canonical) decoder must refuse.
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::size_t variants = 0;
  for (std::size_t i = 0; i < token_.size(); ++i) {
    if (token_[i] == '.') continue;
    std::string t = token_;
    t[i] = kAlphabet[kAlphabet.find(token_[i]) ^ 1];
    auto v = verify_jws(t, set_, kBoth);
    EXPECT_TRUE(!v || !v->verdict) << "accepted with position " << i << " changed";
    ++variants;
  }
  EXPECT_EQ(variants, token_.size() - 2);
  // The high bit (always a used bit).
  for (const std::string& t : testing::tampered_tokens(token_)) {
    auto v = verify_jws(t, set_, kBoth);
    EXPECT_TRUE(!v || !v->verdict) << t;
  }
}

// ---- JWT ----

TimePoint at(std::int64_t unix) { return TimePoint(seconds(unix)); }

TEST(Jwt, SignedClaimsRoundTripWithTimeChecks) {
  const PrivateKey key = gen(EcCurve::kP384);
  Jwks set;
  ASSERT_TRUE(set.add(pub(key)));
  const Json claims = {{"iss", "concierge"}, {"iat", 1000}, {"nbf", 1000}, {"exp", 2000}};
  auto token = sign_jwt(key, JwsAlg::kEs384, claims);
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(decode_json_segment(*token, 0)["typ"], "JWT");
  EXPECT_EQ(*base64url_decode(segment(*token, 1)), bytes_of(*jcs::canonicalize(claims)));

  const auto check = [&](std::int64_t now, std::int64_t leeway) {
    return verify_jwt(*token, set, kBoth, JwtTimeCheck{at(now), seconds(leeway)});
  };
  auto ok = check(1500, 0);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(ok->verdict) << ok->verdict.reason;
  EXPECT_EQ(ok->claims, claims);
  EXPECT_EQ(ok->alg, JwsAlg::kEs384);

  EXPECT_FALSE(check(2000, 0)->verdict);  // exp is exclusive
  EXPECT_NE(check(2000, 0)->verdict.reason.find("expired"), std::string::npos);
  EXPECT_TRUE(check(2059, 60)->verdict);
  EXPECT_FALSE(check(2060, 60)->verdict);
  EXPECT_FALSE(check(999, 0)->verdict);  // nbf (and iat) in the future
  EXPECT_TRUE(check(940, 60)->verdict);
  EXPECT_FALSE(check(939, 60)->verdict);
  EXPECT_TRUE(check(1999, 0)->claims.is_object());
  EXPECT_TRUE(check(2000, 0)->claims.is_null());  // nothing handed out on rejection
}

TEST(Jwt, TimeClaimRules) {
  const JwtTimeCheck t{at(1000), seconds(0)};
  EXPECT_TRUE(*check_jwt_times(Json{{"exp", 1001}}, t));
  EXPECT_TRUE(*check_jwt_times(Json{{"exp", 1000.5}}, t));  // NumericDate may be fractional
  EXPECT_FALSE(*check_jwt_times(Json::object(), t));        // exp required
  EXPECT_TRUE(*check_jwt_times(Json::object(), JwtTimeCheck{at(1000), seconds(0), false}));
  EXPECT_FALSE(*check_jwt_times(Json{{"exp", 1001}, {"iat", 1001}}, t));
  EXPECT_EQ(check_jwt_times(Json{{"exp", "1001"}}, t).error().code, Errc::kMalformed);
  EXPECT_EQ(check_jwt_times(Json{{"exp", 1001}, {"nbf", true}}, t).error().code, Errc::kMalformed);
  EXPECT_FALSE(*check_jwt_times(Json{{"exp", -1e300}}, t));
}

TEST(Jwt, ClaimsMustBeAnObject) {
  const PrivateKey key = gen(EcCurve::kP256);
  Jwks set;
  ASSERT_TRUE(set.add(pub(key)));
  EXPECT_EQ(sign_jwt(key, JwsAlg::kEs256, Json::array()).error().code, Errc::kInvalidArgument);
  const JwtTimeCheck t{at(1000), seconds(0), false};
  for (const char* payload : {"[1]", "not json", R"({"a":1,"a":2})"}) {
    auto token = sign_jws(key, JwsAlg::kEs256, nullptr, payload);
    ASSERT_TRUE(token);
    auto v = verify_jwt(*token, set, kBoth, t);
    ASSERT_FALSE(v) << payload;
    EXPECT_EQ(v.error().code, Errc::kMalformed);
  }
  // A bad signature is a rejection even when the payload is garbage.
  auto token =
      sign_jws(gen(EcCurve::kP256), JwsAlg::kEs256, Json{{"kid", set.keys()[0].kid}}, "[1]");
  auto v = verify_jwt(*token, set, kBoth, t);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->verdict);
}

// ---- interoperability with python3-jwcrypto ----

class JoseInterop : public ::testing::Test {
 protected:
  struct Ours {
    std::string token;
    Json jwks;
    std::size_t every;  // tampered_tokens sampling: jwcrypto's P-384 is slow (~1.6 ms)
  };
  static void SetUpTestSuite() {
    for (EcCurve curve : {EcCurve::kP256, EcCurve::kP384}) {
      const PrivateKey key = gen(curve);
      Jwks set;
      ASSERT_TRUE(set.add(pub(key)));
      auto token = sign_jws(key, jws_alg_for_curve(curve), Json{{"typ", "JWT"}},
                            R"({"hello":"jwcrypto","n":1})");
      ASSERT_TRUE(token);
      ours_.push_back(Ours{*token, set.to_json(), curve == EcCurve::kP256 ? 1u : 3u});
    }
    std::vector<testing::JwcryptoVerifyRequest> verify;
    for (const Ours& o : ours_) {
      verify.push_back({o.token, o.jwks, {"ES256", "ES384"}, false});
      for (const std::string& t : testing::tampered_tokens(o.token, o.every)) {
        verify.push_back({t, o.jwks, {"ES256", "ES384"}, false});
      }
    }
    std::vector<testing::JwcryptoSignRequest> sign = {
        {"P-256", "ES256", "py-256", "from jwcrypto \xE2\x82\xAC", nullptr, false},
        {"P-384", "ES384", "py-384", "from jwcrypto 384", nullptr, false},
        {"P-256", "ES256", "py-jwt", "", Json{{"sub", "x"}, {"exp", 4102444800}}, true},
    };
    run_ = testing::run_jwcrypto(verify, sign);
  }
  static inline std::vector<Ours> ours_;
  static inline testing::JwcryptoRun run_;
};

TEST_F(JoseInterop, JwcryptoVerifiesOurTokensAndRejectsEveryChange) {
  CONCIERGE_REQUIRE_JWCRYPTO(run_);
  std::size_t i = 0;
  for (const Ours& o : ours_) {
    const auto& good = run_.verified[i++];
    EXPECT_TRUE(good.valid) << good.error;
    EXPECT_EQ(good.payload, R"({"hello":"jwcrypto","n":1})");
    for (std::size_t k = 0; k < testing::tampered_tokens(o.token, o.every).size(); ++k) {
      const auto& bad = run_.verified[i++];
      EXPECT_FALSE(bad.valid) << "jwcrypto accepted tampered variant " << k;
    }
  }
  EXPECT_EQ(i, run_.verified.size());
}

TEST_F(JoseInterop, WeVerifyJwcryptoTokens) {
  CONCIERGE_REQUIRE_JWCRYPTO(run_);
  const char* payloads[] = {"from jwcrypto \xE2\x82\xAC", "from jwcrypto 384"};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& made = run_.made[i];
    auto set = Jwks::from_json(made.jwks);
    ASSERT_TRUE(set) << set.error().to_string() << " " << made.jwks.dump();
    auto v = verify_jws(made.token, *set, kBoth);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->verdict) << v->verdict.reason;
    EXPECT_EQ(v->payload, payloads[i]);
    EXPECT_EQ(v->kid, i == 0 ? "py-256" : "py-384");
    for (const std::string& t : testing::tampered_tokens(made.token, i == 0 ? 1 : 3)) {
      auto bad = verify_jws(t, *set, kBoth);
      EXPECT_TRUE(!bad || !bad->verdict) << t;
    }
  }
  const auto& jwt = run_.made[2];
  auto set = Jwks::from_json(jwt.jwks);
  ASSERT_TRUE(set);
  auto v = verify_jwt(jwt.token, *set, {JwsAlg::kEs256}, JwtTimeCheck{at(1700000000)});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(v->claims["sub"], "x");
}

}  // namespace
}  // namespace concierge::jose
