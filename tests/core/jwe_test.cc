#include "concierge/core/jwe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;

// ---- Keys (RSA generation is slow: each RSA key is made once per build of
// the test binary, support/test_cache.h; each key is made on first use) ----

enum class Kind { kP256, kP384, kRsa2048, kRsa3072 };
constexpr Kind kAllKinds[] = {Kind::kP256, Kind::kP384, Kind::kRsa2048, Kind::kRsa3072};

std::string kind_name(Kind k) {
  switch (k) {
    case Kind::kP256:
      return "P-256";
    case Kind::kP384:
      return "P-384";
    case Kind::kRsa2048:
      return "RSA-2048";
    case Kind::kRsa3072:
      return "RSA-3072";
  }
  return "?";
}

PrivateKey make(Kind k, int which) {
  if (k == Kind::kRsa2048) return concierge::testing::cached_rsa_key(2048, which);
  if (k == Kind::kRsa3072) return concierge::testing::cached_rsa_key(3072, which);
  Result<PrivateKey> key =
      PrivateKey::generate_ec(k == Kind::kP256 ? EcCurve::kP256 : EcCurve::kP384);
  if (!key) std::abort();
  return std::move(key).value();
}

// Two independent keys of each kind: [0] the recipient, [1] someone else.
const PrivateKey& key(Kind k, int which = 0) {
  static std::optional<PrivateKey> keys[4][2];
  std::optional<PrivateKey>& slot = keys[static_cast<int>(k)][which];
  if (!slot) slot.emplace(make(k, which));
  return *slot;
}

PublicKey pub(const PrivateKey& k) { return std::move(k.public_key()).value(); }

JweAlg alg_of(Kind k) {
  return k == Kind::kP256 || k == Kind::kP384 ? JweAlg::kEcdhEsA256kw : JweAlg::kRsaOaep256;
}

std::string b64(std::string_view s) { return base64url_encode(as_bytes(s)); }

Json encrypt(std::string_view plaintext, Kind k, const Json& extra = nullptr) {
  auto jwe = jwe_encrypt(as_bytes(plaintext), pub(key(k)), extra);
  EXPECT_TRUE(jwe) << jwe.error().to_string();
  return jwe ? *jwe : Json();
}

Json header_of(const Json& jwe) {
  auto bytes = base64url_decode(jwe["protected"].get<std::string>());
  EXPECT_TRUE(bytes);
  return Json::parse(as_chars(*bytes));
}

// `jwe` with its protected header replaced (the tag no longer matches).
Json with_header(Json jwe, const std::function<void(Json&)>& change) {
  Json header = header_of(jwe);
  change(header);
  jwe["protected"] = b64(header.dump());
  return jwe;
}

// `text` (base64url) with its i-th character's high bit flipped: the decoded
// bytes change and the encoding stays canonical.
std::string flip(std::string text, std::size_t i) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  text[i] = kAlphabet[kAlphabet.find(text[i]) ^ 32];
  return text;
}

// A member's bytes with one bit flipped, re-encoded.
std::string flip_byte(const std::string& member, std::size_t i) {
  Bytes b = std::move(base64url_decode(member)).value();
  b[i] ^= 0x01;
  return base64url_encode(b);
}

void expect_accepted(const Result<JweDecryption>& d, std::string_view plaintext) {
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_TRUE(d->verdict) << d->verdict.reason;
  EXPECT_EQ(as_chars(d->plaintext), plaintext);
}

void expect_rejected(const Result<JweDecryption>& d, std::string_view reason_part = "") {
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_FALSE(d->verdict.accepted);
  EXPECT_NE(d->verdict.reason.find(reason_part), std::string::npos) << d->verdict.reason;
  EXPECT_TRUE(d->plaintext.empty());
  EXPECT_TRUE(d->header.is_null());
}

void expect_error(const Result<JweDecryption>& d, Errc code, std::string_view message_part = "") {
  ASSERT_FALSE(d) << "expected " << errc_name(code)
                  << ", got a verdict: " << (d->verdict ? "accepted" : d->verdict.reason);
  EXPECT_EQ(d.error().code, code) << d.error().to_string();
  EXPECT_NE(d.error().message.find(message_part), std::string::npos) << d.error().to_string();
}

// ---- Algorithms and JWKs ----

TEST(JweAlg, NamesRoundTrip) {
  for (JweAlg alg : {JweAlg::kEcdhEsA256kw, JweAlg::kRsaOaep256}) {
    EXPECT_EQ(parse_jwe_alg(jwe_alg_name(alg)), alg);
  }
  EXPECT_EQ(jwe_alg_name(JweAlg::kEcdhEsA256kw), "ECDH-ES+A256KW");
  EXPECT_EQ(jwe_alg_name(JweAlg::kRsaOaep256), "RSA-OAEP-256");
  for (const char* other : {"RSA-OAEP", "RSA1_5", "ECDH-ES", "ECDH-ES+A128KW", "dir", "", "none"}) {
    EXPECT_FALSE(parse_jwe_alg(other)) << other;
  }
}

TEST(JweAlg, ForKey) {
  for (Kind k : kAllKinds) {
    auto alg = jwe_alg_for_key(pub(key(k)));
    ASSERT_TRUE(alg) << alg.error().to_string();
    EXPECT_EQ(*alg, alg_of(k)) << kind_name(k);
  }
  auto ed = PrivateKey::from_pem(
      "-----BEGIN PRIVATE KEY-----\n"
      "MC4CAQAwBQYDK2VwBCIEIBoUS2TfSxh5N5pCDSVNrpeUFzGEtxVSpRxURRS/eAWZ\n"
      "-----END PRIVATE KEY-----\n");
  ASSERT_TRUE(ed);
  auto alg = jwe_alg_for_key(pub(*ed));
  ASSERT_FALSE(alg);
  EXPECT_EQ(alg.error().code, Errc::kInvalidArgument);
  auto jwe = jwe_encrypt(as_bytes("x"), pub(*ed));
  ASSERT_FALSE(jwe);
  EXPECT_EQ(jwe.error().code, Errc::kInvalidArgument);
  auto jwk = encryption_jwk(pub(*ed));
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error().code, Errc::kInvalidArgument);
}

TEST(JweJwk, EcRoundTrip) {
  for (Kind k : {Kind::kP256, Kind::kP384}) {
    const PublicKey p = pub(key(k));
    auto jwk = encryption_jwk(p);
    ASSERT_TRUE(jwk) << jwk.error().to_string();
    EXPECT_EQ((*jwk)["kty"], "EC");
    EXPECT_EQ((*jwk)["crv"], kind_name(k));
    EXPECT_EQ((*jwk)["alg"], "ECDH-ES+A256KW");
    EXPECT_FALSE(jwk->contains("d"));
    auto back = public_key_from_encryption_jwk(*jwk);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back->to_der(), *p.to_der());
    Json with_use = *jwk;
    with_use["use"] = "enc";
    EXPECT_TRUE(public_key_from_encryption_jwk(with_use));
    Json without_alg = *jwk;
    without_alg.erase("alg");
    EXPECT_TRUE(public_key_from_encryption_jwk(without_alg));
  }
}

TEST(JweJwk, RsaRoundTrip) {
  for (Kind k : {Kind::kRsa2048, Kind::kRsa3072}) {
    const PublicKey p = pub(key(k));
    auto jwk = encryption_jwk(p);
    ASSERT_TRUE(jwk) << jwk.error().to_string();
    EXPECT_EQ((*jwk)["kty"], "RSA");
    EXPECT_EQ((*jwk)["alg"], "RSA-OAEP-256");
    EXPECT_EQ((*jwk)["e"], "AQAB");
    auto n = base64url_decode((*jwk)["n"].get<std::string>());
    ASSERT_TRUE(n);
    EXPECT_EQ(n->size() * 8, static_cast<std::size_t>(p.bits()));
    EXPECT_NE((*n)[0], 0);
    auto back = public_key_from_encryption_jwk(*jwk);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back->to_der(), *p.to_der());
  }
}

TEST(JweJwk, RefusesMismatchedOrUnusableKeys) {
  const Json ec = *encryption_jwk(pub(key(Kind::kP256)));
  const Json rsa = *encryption_jwk(pub(key(Kind::kRsa2048)));
  const auto code = [](const Json& jwk) {
    auto k = public_key_from_encryption_jwk(jwk);
    return k ? std::optional<Errc>() : std::optional<Errc>(k.error().code);
  };
  Json j = ec;
  j["alg"] = "RSA-OAEP-256";
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = rsa;
  j["alg"] = "ECDH-ES+A256KW";
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = ec;
  j["alg"] = "ES256";  // a signature algorithm
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = ec;
  j["alg"] = 7;
  EXPECT_EQ(code(j), Errc::kMalformed);
  j = ec;
  j["use"] = "sig";
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = rsa;
  j["d"] = "AQAB";
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = ec;
  j["d"] = "AQAB";
  EXPECT_EQ(code(j), Errc::kInvalidArgument);
  j = ec;
  j["crv"] = "P-521";
  EXPECT_EQ(code(j), Errc::kUnsupported);
  j = ec;
  j["y"] = ec["x"];  // almost surely not on the curve
  EXPECT_EQ(code(j), Errc::kMalformed);
  EXPECT_EQ(code(Json{{"kty", "oct"}, {"k", "AAAA"}}), Errc::kUnsupported);
  EXPECT_EQ(code(Json{{"kty", 1}}), Errc::kMalformed);
  EXPECT_EQ(code(Json::array()), Errc::kMalformed);
  // RSA: a leading zero octet, padding, missing members, a small modulus.
  Bytes n = std::move(base64url_decode(rsa["n"].get<std::string>())).value();
  Bytes padded_n(n.size() + 1, 0);
  std::copy(n.begin(), n.end(), padded_n.begin() + 1);
  j = rsa;
  j["n"] = base64url_encode(padded_n);
  EXPECT_EQ(code(j), Errc::kMalformed);
  j = rsa;
  j["e"] = "AAEAAQ";
  EXPECT_EQ(code(j), Errc::kMalformed);
  j = rsa;
  j["e"] = "AQAB==";
  EXPECT_EQ(code(j), Errc::kMalformed);
  j = rsa;
  j.erase("n");
  EXPECT_EQ(code(j), Errc::kMalformed);
  j = rsa;
  j["n"] = base64url_encode(Bytes(128, 0xc3));  // an RSA-1024 modulus
  EXPECT_EQ(code(j), Errc::kUnsupported);
}

// ---- Round trips ----

TEST(JweRoundTrip, EveryKeyKind) {
  const std::string plaintext = "a secret for the attested guest \xE2\x82\xAC";
  for (Kind k : kAllKinds) {
    SCOPED_TRACE(kind_name(k));
    const Json jwe = encrypt(plaintext, k, Json{{"kid", "guest-key"}});
    ASSERT_TRUE(jwe.is_object());
    for (const char* m : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
      EXPECT_TRUE(jwe.contains(m) && jwe[m].is_string()) << m;
    }
    EXPECT_EQ(jwe.size(), 5u);
    const Json header = header_of(jwe);
    EXPECT_EQ(header["alg"], std::string(jwe_alg_name(alg_of(k))));
    EXPECT_EQ(header["enc"], "A256GCM");
    EXPECT_EQ(header["kid"], "guest-key");
    if (alg_of(k) == JweAlg::kEcdhEsA256kw) {
      EXPECT_EQ(header["epk"]["kty"], "EC");
      EXPECT_EQ(header["epk"]["crv"], kind_name(k));
      EXPECT_FALSE(header["epk"].contains("d"));
      EXPECT_EQ(base64url_decode(jwe["encrypted_key"].get<std::string>())->size(), 40u);
    } else {
      EXPECT_FALSE(header.contains("epk"));
      EXPECT_EQ(base64url_decode(jwe["encrypted_key"].get<std::string>())->size() * 8,
                static_cast<std::size_t>(pub(key(k)).bits()));
    }
    EXPECT_EQ(base64url_decode(jwe["iv"].get<std::string>())->size(), 12u);
    EXPECT_EQ(base64url_decode(jwe["tag"].get<std::string>())->size(), 16u);

    auto d = jwe_decrypt(jwe, key(k));
    expect_accepted(d, plaintext);
    EXPECT_EQ(d->header, header);
    expect_accepted(jwe_decrypt(jwe.dump(), key(k)), plaintext);
  }
}

TEST(JweRoundTrip, FreshKeyAndIvEachTime) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    const Json a = encrypt("same", k);
    const Json b = encrypt("same", k);
    for (const char* m : {"encrypted_key", "iv", "ciphertext", "tag"}) EXPECT_NE(a[m], b[m]) << m;
    if (k == Kind::kP256) {
      EXPECT_NE(header_of(a)["epk"], header_of(b)["epk"]);
    }
  }
}

TEST(JweRoundTrip, EmptyAndLargePlaintexts) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    const Json empty = encrypt("", k);
    EXPECT_EQ(empty["ciphertext"], "");
    expect_accepted(jwe_decrypt(empty, key(k)), "");
    std::string large(1 << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 + 7);
    expect_accepted(jwe_decrypt(encrypt(large, k), key(k)), large);
  }
}

TEST(JweRoundTrip, PartyInfoIsUsedByTheKdf) {
  const Json jwe =
      encrypt("with apu/apv", Kind::kP256, Json{{"apu", b64("Alice")}, {"apv", b64("Bob")}});
  expect_accepted(jwe_decrypt(jwe, key(Kind::kP256)), "with apu/apv");
  // Dropping or changing apv changes the key-wrapping key: the unwrap fails
  // before the tag is even looked at.
  expect_rejected(jwe_decrypt(with_header(jwe, [](Json& h) { h.erase("apv"); }), key(Kind::kP256)),
                  "unwrap");
  expect_rejected(
      jwe_decrypt(with_header(jwe, [](Json& h) { h["apv"] = b64("Eve"); }), key(Kind::kP256)),
      "unwrap");
  expect_error(
      jwe_decrypt(with_header(jwe, [](Json& h) { h["apu"] = "not base64url!"; }), key(Kind::kP256)),
      Errc::kMalformed);
  auto bad = jwe_encrypt(as_bytes("x"), pub(key(Kind::kP256)), Json{{"apu", 1}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST(JweRoundTrip, GeneralSerializationWithOneRecipient) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    Json jwe = encrypt("general", k);
    Json general = jwe;
    general.erase("encrypted_key");
    general["recipients"] = Json::array({Json{{"encrypted_key", jwe["encrypted_key"]}}});
    expect_accepted(jwe_decrypt(general, key(k)), "general");

    Json two = general;
    two["recipients"].push_back(two["recipients"][0]);
    expect_error(jwe_decrypt(two, key(k)), Errc::kUnsupported, "recipients");
    Json none = general;
    none["recipients"] = Json::array();
    expect_error(jwe_decrypt(none, key(k)), Errc::kUnsupported, "recipients");
    Json both = general;
    both["encrypted_key"] = jwe["encrypted_key"];
    expect_error(jwe_decrypt(both, key(k)), Errc::kMalformed);
    Json per_recipient_header = general;
    per_recipient_header["recipients"][0]["header"] = Json{{"alg", "x"}};
    expect_error(jwe_decrypt(per_recipient_header, key(k)), Errc::kUnsupported, "header");
    Json not_array = general;
    not_array["recipients"] = Json::object();
    expect_error(jwe_decrypt(not_array, key(k)), Errc::kMalformed);
  }
}

TEST(JweRoundTrip, ExtraHeaderMayNotSetReservedMembers) {
  for (const char* name : {"alg", "enc", "epk", "zip", "crit"}) {
    auto jwe = jwe_encrypt(as_bytes("x"), pub(key(Kind::kP256)), Json{{name, "DEF"}});
    ASSERT_FALSE(jwe) << name;
    EXPECT_EQ(jwe.error().code, Errc::kInvalidArgument);
  }
  auto jwe = jwe_encrypt(as_bytes("x"), pub(key(Kind::kP256)), Json::array());
  ASSERT_FALSE(jwe);
  EXPECT_EQ(jwe.error().code, Errc::kInvalidArgument);
  // A header member that is not well-formed UTF-8 cannot be serialized.
  jwe = jwe_encrypt(as_bytes("x"), pub(key(Kind::kP256)), Json{{"kid", "\xff"}});
  ASSERT_FALSE(jwe);
}

// ---- Tampering and wrong keys ----

TEST(JweTamper, EveryCharacterOfEveryMember) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    SCOPED_TRACE(kind_name(k));
    const Json jwe = encrypt("do not change me", k, Json{{"kid", "k1"}});
    std::size_t rejected = 0, errors = 0;
    for (const char* member : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
      const std::string text = jwe[member].get<std::string>();
      for (std::size_t i = 0; i < text.size(); ++i) {
        Json bad = jwe;
        bad[member] = flip(text, i);
        auto d = jwe_decrypt(bad, key(k));
        if (d) {
          ASSERT_FALSE(d->verdict.accepted) << member << " char " << i;
          EXPECT_TRUE(d->plaintext.empty());
          ++rejected;
          continue;
        }
        ++errors;
        // Only the header can turn into something that is not a JWE (bad
        // JSON, an unknown alg, an epk coordinate of another size...).
        EXPECT_EQ(std::string(member), "protected") << d.error().to_string();
        const Errc c = d.error().code;
        EXPECT_TRUE(c == Errc::kMalformed || c == Errc::kUnsupported || c == Errc::kInvalidArgument)
            << d.error().to_string();
      }
    }
    EXPECT_GT(rejected, 0u);
    std::cout << "[          ] " << kind_name(k) << ": " << rejected << " rejected, " << errors
              << " malformed\n";
  }
}

TEST(JweTamper, EachMemberFlippedByOneBitIsRejected) {
  for (Kind k : {Kind::kP256, Kind::kP384, Kind::kRsa2048}) {
    SCOPED_TRACE(kind_name(k));
    const Json jwe = encrypt("one bit", k);
    for (const char* member : {"encrypted_key", "iv", "ciphertext", "tag"}) {
      const std::size_t size = base64url_decode(jwe[member].get<std::string>())->size();
      for (std::size_t i : {std::size_t{0}, size / 2, size - 1}) {
        Json bad = jwe;
        bad[member] = flip_byte(jwe[member].get<std::string>(), i);
        const bool ec_key =
            std::string(member) == "encrypted_key" && alg_of(k) == JweAlg::kEcdhEsA256kw;
        expect_rejected(jwe_decrypt(bad, key(k)), ec_key ? "unwrap" : "tag");
      }
    }
    // A header that still parses but differs: the AAD changed.
    expect_rejected(jwe_decrypt(with_header(jwe, [](Json& h) { h["kid"] = "x"; }), key(k)), "tag");
    // The same header, serialized differently: the AAD is the text, not the JSON.
    Json reserialized = jwe;
    reserialized["protected"] = b64(header_of(jwe).dump(1));
    expect_rejected(jwe_decrypt(reserialized, key(k)), "tag");
  }
}

TEST(JweTamper, ResizedMembers) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    const Json jwe = encrypt("sizes", k);
    const auto resized = [&](const char* member, std::size_t size) {
      Json bad = jwe;
      bad[member] = base64url_encode(Bytes(size, 0x41));
      return jwe_decrypt(bad, key(k));
    };
    expect_error(resized("iv", 16), Errc::kMalformed, "iv");
    expect_error(resized("iv", 0), Errc::kMalformed, "iv");
    expect_error(resized("tag", 12), Errc::kMalformed, "tag");
    expect_error(resized("tag", 0), Errc::kMalformed, "tag");
    if (alg_of(k) == JweAlg::kEcdhEsA256kw) {
      // A wrapped 256-bit key has 40 bytes, whoever the recipient is.
      expect_error(resized("encrypted_key", 32), Errc::kMalformed, "40 bytes");
      expect_error(resized("encrypted_key", 0), Errc::kMalformed, "40 bytes");
    } else {
      // The RSA ciphertext's size is the recipient key's: another recipient.
      expect_rejected(resized("encrypted_key", 32), "bytes");
      expect_rejected(resized("encrypted_key", 0), "bytes");
    }
    // Ciphertext of another length is still a JWE: the tag does not verify.
    expect_rejected(resized("ciphertext", 3), "tag");
  }
}

TEST(JweTamper, WrongRecipientKey) {
  for (Kind k : kAllKinds) {
    SCOPED_TRACE(kind_name(k));
    const Json jwe = encrypt("not for you", k);
    expect_rejected(jwe_decrypt(jwe, key(k, 1)));
  }
  // RSA keys of another size.
  expect_rejected(jwe_decrypt(encrypt("x", Kind::kRsa2048), key(Kind::kRsa3072)), "bytes");
  expect_rejected(jwe_decrypt(encrypt("x", Kind::kRsa3072), key(Kind::kRsa2048)), "bytes");
  // A P-384 key for a JWE made to a P-256 key: the epk is on another curve.
  expect_rejected(jwe_decrypt(encrypt("x", Kind::kP256), key(Kind::kP384)), "P-384");
  // Key types that do not fit "alg".
  expect_error(jwe_decrypt(encrypt("x", Kind::kP256), key(Kind::kRsa2048)), Errc::kInvalidArgument);
  expect_error(jwe_decrypt(encrypt("x", Kind::kRsa2048), key(Kind::kP256)), Errc::kInvalidArgument);
}

// ---- The ephemeral key ----

TEST(JweEpk, OnAnotherCurveIsRejected) {
  const Json jwe = encrypt("epk", Kind::kP256);
  const Json p384 = *jwk_from_public_key(pub(key(Kind::kP384)));
  expect_rejected(
      jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = p384; }), key(Kind::kP256)),
      "epk is on P-384");
  // The P-384 coordinates labelled P-256: the wrong size.
  Json relabelled = p384;
  relabelled["crv"] = "P-256";
  expect_error(
      jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = relabelled; }), key(Kind::kP256)),
      Errc::kMalformed, "epk");
  Json p521 = p384;
  p521["crv"] = "P-521";
  expect_error(jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = p521; }), key(Kind::kP256)),
               Errc::kUnsupported, "epk");
}

TEST(JweEpk, NotOnTheCurveIsRejected) {
  for (Kind k : {Kind::kP256, Kind::kP384}) {
    const Json jwe = encrypt("epk", k);
    const Json epk = header_of(jwe)["epk"];
    Json off = epk;
    off["y"] = flip_byte(epk["y"].get<std::string>(), 5);
    expect_rejected(jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = off; }), key(k)),
                    "not a point");
    const std::size_t size = k == Kind::kP256 ? 32 : 48;
    Json zero = epk;
    zero["x"] = base64url_encode(Bytes(size, 0));
    zero["y"] = base64url_encode(Bytes(size, 0));
    expect_rejected(jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = zero; }), key(k)),
                    "not a point");
    Json big = epk;  // x = p + something: outside the field
    big["x"] = base64url_encode(Bytes(size, 0xff));
    expect_rejected(jwe_decrypt(with_header(jwe, [&](Json& h) { h["epk"] = big; }), key(k)),
                    "not a point");
  }
}

TEST(JweEpk, MissingOrIllTyped) {
  const Json jwe = encrypt("epk", Kind::kP256);
  const PrivateKey& k = key(Kind::kP256);
  const auto changed = [&](const std::function<void(Json&)>& f) {
    return jwe_decrypt(with_header(jwe, [&](Json& h) { f(h["epk"]); }), k);
  };
  expect_error(jwe_decrypt(with_header(jwe, [](Json& h) { h.erase("epk"); }), k), Errc::kMalformed,
               "epk");
  expect_error(changed([](Json& e) { e = "string"; }), Errc::kMalformed, "epk");
  expect_error(changed([](Json& e) { e.erase("x"); }), Errc::kMalformed, "\"x\"");
  expect_error(changed([](Json& e) { e["y"] = 3; }), Errc::kMalformed, "\"y\"");
  expect_error(changed([](Json& e) { e["kty"] = "OKP"; }), Errc::kUnsupported, "kty");
  expect_error(changed([](Json& e) { e["d"] = "AAAA"; }), Errc::kMalformed, "private");
  expect_error(changed([](Json& e) { e["x"] = e["x"].get<std::string>() + "="; }), Errc::kMalformed,
               "padded");
}

// ---- Refused inputs ----

TEST(JweRefuse, ZipCritUnknownAlgOrEnc) {
  for (Kind k : {Kind::kP256, Kind::kRsa2048}) {
    SCOPED_TRACE(kind_name(k));
    const Json jwe = encrypt("refuse", k);
    const auto changed = [&](const std::function<void(Json&)>& f) {
      return jwe_decrypt(with_header(jwe, f), key(k));
    };
    expect_error(changed([](Json& h) { h["zip"] = "DEF"; }), Errc::kUnsupported, "zip");
    expect_error(changed([](Json& h) { h["crit"] = Json::array({"exp"}); }), Errc::kUnsupported,
                 "crit");
    for (const char* alg : {"RSA-OAEP", "RSA1_5", "ECDH-ES", "ECDH-ES+A128KW", "dir", "none"}) {
      expect_error(changed([&](Json& h) { h["alg"] = alg; }), Errc::kUnsupported, alg);
    }
    for (const char* enc : {"A128GCM", "A256CBC-HS512", "a256gcm"}) {
      expect_error(changed([&](Json& h) { h["enc"] = enc; }), Errc::kUnsupported, enc);
    }
    expect_error(changed([](Json& h) { h.erase("alg"); }), Errc::kMalformed, "alg");
    expect_error(changed([](Json& h) { h["alg"] = 1; }), Errc::kMalformed, "alg");
    expect_error(changed([](Json& h) { h.erase("enc"); }), Errc::kMalformed, "enc");
  }
}

// Only "epk" (and "kid") may be unprotected: what decides how to decrypt
// must be integrity-protected.
TEST(JweRefuse, UnprotectedHeaders) {
  const Json jwe = encrypt("refuse", Kind::kP256);
  for (const char* member : {"unprotected", "header"}) {
    for (const char* name : {"alg", "enc", "apu", "zip"}) {
      Json bad = jwe;
      bad[member] = Json{{name, "x"}};
      expect_error(jwe_decrypt(bad, key(Kind::kP256)), Errc::kUnsupported, member);
    }
    Json kid = jwe;
    kid[member] = Json{{"kid", "x"}};
    expect_accepted(jwe_decrypt(kid, key(Kind::kP256)), "refuse");
    Json twice = jwe;  // "epk" is already protected
    twice[member] = Json{{"epk", Json::object()}};
    expect_error(jwe_decrypt(twice, key(Kind::kP256)), Errc::kMalformed, "epk");
  }
}

TEST(JweRefuse, NotAJwe) {
  const Json jwe = encrypt("malformed", Kind::kP256);
  const PrivateKey& k = key(Kind::kP256);
  expect_error(jwe_decrypt(Json::array(), k), Errc::kMalformed);
  expect_error(jwe_decrypt("{", k), Errc::kMalformed);
  expect_error(jwe_decrypt(std::string(), k), Errc::kMalformed);
  expect_error(jwe_decrypt(std::string_view("eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a.b.c.d"), k),
               Errc::kMalformed);
  // Duplicate members are not I-JSON.
  std::string text = jwe.dump();
  text.insert(1, "\"iv\":\"AAAAAAAAAAAAAAAA\",");
  expect_error(jwe_decrypt(std::string_view(text), k), Errc::kMalformed);
  for (const char* member : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
    Json bad = jwe;
    bad.erase(member);
    expect_error(jwe_decrypt(bad, k), Errc::kMalformed, member);
    bad[member] = 12;
    expect_error(jwe_decrypt(bad, k), Errc::kMalformed, member);
    bad[member] = "@@@@";
    expect_error(jwe_decrypt(bad, k), Errc::kMalformed, member);
  }
  Json padded = jwe;
  padded["iv"] = jwe["iv"].get<std::string>() + "==";
  expect_error(jwe_decrypt(padded, k), Errc::kMalformed, "padded");
  Json empty_protected = jwe;
  empty_protected["protected"] = "";
  expect_error(jwe_decrypt(empty_protected, k), Errc::kMalformed, "protected");
  Json not_json = jwe;
  not_json["protected"] = b64("{\"alg\":");
  expect_error(jwe_decrypt(not_json, k), Errc::kMalformed, "header");
  Json not_object = jwe;
  not_object["protected"] = b64("[\"ECDH-ES+A256KW\"]");
  expect_error(jwe_decrypt(not_object, k), Errc::kMalformed, "object");
  Json duplicate = jwe;
  duplicate["protected"] = b64(R"({"alg":"ECDH-ES+A256KW","alg":"RSA-OAEP-256","enc":"A256GCM"})");
  expect_error(jwe_decrypt(duplicate, k), Errc::kMalformed);
  Json bad_aad = jwe;
  bad_aad["aad"] = 5;
  expect_error(jwe_decrypt(bad_aad, k), Errc::kMalformed, "aad");
  // A JWE AAD member that was not there when encrypting changes the AAD.
  Json added_aad = jwe;
  added_aad["aad"] = b64("extra");
  expect_rejected(jwe_decrypt(added_aad, k), "tag");
}

// ---- Known answers ----
//
// JWEs made by an independent implementation (python3-jwcrypto 1.1, its
// ECDH-ES+A256KW and A256GCM primitives assembled with every header
// parameter in "protected", and its JWE API for RSA-OAEP-256), for fixed
// recipient keys: for ECDH-ES+A256KW the P-256 key "Bob" of RFC 7518
// appendix C, with "apu" "Alice" and "apv" "Bob" as there.

constexpr const char* kRfc7518BobPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVEmDZpDXXK8p8N0C\n"
    "ndsxs924q6nS1RXFASRl6BfUqdyhRANCAATB40nLYexwJIzoAQNMODThuI6+EWHL\n"
    "Ja84dB94X8/ExHvJZwjvgJUrU/jSVV/nK4Qe0EWIYosdN4pZSTlQDsnJ\n"
    "-----END PRIVATE KEY-----\n";

constexpr const char* kRsa2048Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDY/AvioemX67sj\n"
    "mflZI20SiAfdakyYhSGQPHnN/LZMEizMekQCTzjyPJy8wegvB6wrBD/6ht6+dv9J\n"
    "hH/8Z+quqhW6uOeLKnN8NvYXxxeAwb52grGgafeyMEV1V7ZZLuO7NECf9x3r9Azy\n"
    "9U3PdyZkNTu+KUTFTc7z6+j0dqBpl80evKxmQDt7hPRobmFhNO4XA9uSJFeSgBAD\n"
    "xDZAo52lNr/rW56gMT0y6Ah7zdD8HkSgRsIOfM7zcjbNythnrHOYKBFglYXboQ15\n"
    "x3igtw5bOxtsby85yORQIPNxdURgwJgx+IkvdjKc1CwvjK7T34Czvmd5jbrSau0o\n"
    "ugqQQp5JAgMBAAECggEAAqPyixP4UTpzoQfHIoANXDveiKG6A+Me2O/7dXe9Siiw\n"
    "dd6JBFQtd7koGR3s8uGPhUh8dNJ+VGgDTEQ6AHrNPsngENEeNDHUjO7oSLrJ/O2e\n"
    "oTeO7MpNUtRGjBqApA4vhEArBydNLGlgXPaCN2OWSoLhUruS1CnRumMlBxCIfDBw\n"
    "dJ9o1PaMoSX31PnquRVEHIkd0NjnMH+HbX/HZFVz/A4OLN0xge4kwmo+r2/al1LJ\n"
    "dCZdrVxZVCuTM1qjLgX3zWQMW1L4T4a6hsa57jxpt7sSFz2dOGsYmIR12cEhUWP7\n"
    "T8lq3d4v11XtxB53mDAE7Z0bxqqW5NTaXdxKIT3alwKBgQD9u8NYpoduT9x0UF/i\n"
    "SFB30+vlqqgb+5FVvk4OX+bmbv30dcElPiw9/Og61mNB/R9kxXNYQDJgmIo4H4Ml\n"
    "2L1GH2nhOdR0t28PN13Ps71gm6PzxDfBL5IyoB/IHBM5oBGImC1zQl8nTi5Z2ie3\n"
    "B4jiPJI3Rsye5ZAMCh5YgBN3WwKBgQDa7D7/2PVw+qyE7UiIujM0rjxIF7nahJCy\n"
    "jueqVFkaPRxP5ig8/p7bZngltAJiUdqDGuyBzuyjJ2qGKriE7J6pbJe/rkXrQ6QX\n"
    "xxD/IIvpFn1fFzfDapLRRReujgvUVgO9qKV6oSfUaI/18xeyu5wUOyIcsHhh7eY2\n"
    "HeqBQr9WKwKBgGoj3GC+MNMVdzv0z1diNr8ZmImXbQFfp/k9RXu/5GAqt/NGOwiw\n"
    "TGOV4zORsS3OjA5kho65NBmyVceKbxsq4mpuA6Wiwlwcy8mKuKSFJMg/80Kqp0QZ\n"
    "+UdSMllMXUJy0kLYndKkRhe0HbGaj5iB/2HcQrH63OfvUeWnafBNi1cXAoGAHmed\n"
    "QE9Tl0NZXoTOBB9IKVLhkGmrKEwtBH+QcTmRvnEqU3Z1tDLwwSv0F9huVFVl8bt1\n"
    "iXnBp887njKkueFbD9DDKp37m/ci/SJqm+RbSh4Tf3dsCTnt9h6QcW/M+MqRbm/T\n"
    "u7pSG9AB3njKm8ounSixTia8MW2nAXEaNqWciU0CgYEAkb4sPw5RflLtge51wpXY\n"
    "JyLkNhSC7jHxRGjSjV/dgPR8Kf3wGZHVXxrKR92i7PKLruuH9askha+PFs7iQ1y1\n"
    "0Mq9XR7QTU7aY3Q3fhfq4r7QpzG4XmnjgZZtdl1+TcLfZIP3M6nSgrvqjZEkxCXl\n"
    "sp1tNmBbDgmV1cy+1qE0ECA=\n"
    "-----END PRIVATE KEY-----\n";

const Json kKnownEcdh = {
    {"protected",
     "eyJhbGciOiAiRUNESC1FUytBMjU2S1ciLCAiZW5jIjogIkEyNTZHQ00iLCAiYXB1IjogIlFXeHBZMlUi"
     "LCAiYXB2IjogIlFtOWkiLCAiZXBrIjogeyJjcnYiOiAiUC0yNTYiLCAia3R5IjogIkVDIiwgIngiOiAi"
     "SWQ0MVFucVZ6NkNxMHRCZkFRNE05eHBQV2ZSMTBPRWpaUjAtYWZTZ2ZuayIsICJ5IjogIko4MEJLdTVv"
     "RkxZak8ybU1ka2lvMlI5Q3BSd0E4MEJJNng1dE1tLXkzXzQifX0"},
    {"encrypted_key", "Kk7XI103BbbjL7BJ0_jPb6MFaK2KCknf54QyEmMGmFwW8RIFJad5fg"},
    {"iv", "VSEizKkEW3-0q4Oc"},
    {"ciphertext", "X3uvOaxxRNUzeApqKDy1Lc878UVyuVn_poh_GQ"},
    {"tag", "Fv_VUyBUJ--keHbrGJAoVw"},
};

const Json kKnownRsa = {
    {"protected",
     "eyJhbGciOiAiUlNBLU9BRVAtMjU2IiwgImVuYyI6ICJBMjU2R0NNIiwgImtpZCI6ICJyc2Eta2F0In0"},
    {"encrypted_key",
     "DnRtP0B9hof1WX9NwU6Px_F3TM_DXU1o-g3JHzBAUKFFq5knjPp5qq4hMKKc_XqY2m1nDGAqXWoBzTM3"
     "UTQL9zBV6sq0PErttOO6bnXVTLL0bphKYDynHtHobI1i_dEYDdrzpCiHOPvyfMxd3GRYZe0Kz5lYLZKy"
     "Qwij1mHRyWiZqNUDREP9RuqGyJZpyuC4oL3uLAqtMJ7yKVfBR1P_-U7SOfsRx7zfNmZeCqa6ywiNE-J_"
     "6qCk3nFQU-5aCltA1nR55AF5zD4Q3V3xLqdnCnTC2Yo2erANFEbiCXMWOEMiK4YLmFH0B2sxwZbHKNiE"
     "W-xox9GZuFI6wiUdi2ZM-Q"},
    {"iv", "eexpftG99oIb6r2y"},
    {"ciphertext", "IOOac5YNWQu4Ad8xUrgLpjSfSYOzzaZnsZY"},
    {"tag", "8enSP_EHXZ8xksL04ZIBEQ"},
};

// The same library's JWE API puts "epk" in the unprotected per-recipient
// header, which jwe_decrypt refuses (jwe.h).
const Json kKnownEcdhUnprotectedEpk = {
    {"protected",
     "eyJhbGciOiAiRUNESC1FUytBMjU2S1ciLCAiZW5jIjogIkEyNTZHQ00iLCAiYXB1IjogIlFXeHBZMlUi"
     "LCAiYXB2IjogIlFtOWkifQ"},
    {"encrypted_key", "wIynO06DNaPmkRtosejaypahSKScfZg1ZxjwlgSotmwOpNdIMCeoWw"},
    {"iv", "JqGSfNDbCd-NZSgC"},
    {"ciphertext", "_LyKg1KyIYUxkon2oSNaYp9NpnFd-X9QRMy1lQ"},
    {"tag", "UlUJBsEgIdLM4puCeARKZw"},
    {"header",
     Json::parse(
         R"({"epk":{"crv":"P-256","kty":"EC","x":"aeIOErdj_F_soGT81v93u_KTkoFDnN9IW6_0QvFqzng","y":"2HKQW9gVnnHEOJ0ZXWpXJthysNVYQVE4QOzuAGTFLCk"}})")},
};

TEST(JweKnownAnswer, EcdhEsA256kwWithPartyInfo) {
  auto bob = PrivateKey::from_pem(kRfc7518BobPem);
  ASSERT_TRUE(bob) << bob.error().to_string();
  // The public half is the appendix's.
  auto jwk = encryption_jwk(pub(*bob));
  ASSERT_TRUE(jwk);
  EXPECT_EQ((*jwk)["x"], "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ");
  EXPECT_EQ((*jwk)["y"], "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck");
  auto d = jwe_decrypt(kKnownEcdh, *bob);
  expect_accepted(d, "known answer: ECDH-ES+A256KW");
  EXPECT_EQ(d->header["apu"], b64("Alice"));
  EXPECT_EQ(d->header["apv"], b64("Bob"));
  // Without the party info the key-wrapping key differs.
  Json without = with_header(kKnownEcdh, [](Json& h) { h.erase("apu"); });
  expect_rejected(jwe_decrypt(without, *bob), "unwrap");
}

TEST(JweKnownAnswer, RsaOaep256) {
  auto rsa = PrivateKey::from_pem(kRsa2048Pem);
  ASSERT_TRUE(rsa) << rsa.error().to_string();
  auto d = jwe_decrypt(kKnownRsa, *rsa);
  expect_accepted(d, "known answer: RSA-OAEP-256");
  EXPECT_EQ(d->header["kid"], "rsa-kat");
  expect_rejected(jwe_decrypt(kKnownRsa, key(Kind::kRsa2048)), "tag");
}

// jwcrypto's JWE API writes "epk" in the unprotected per-recipient header.
TEST(JweKnownAnswer, UnprotectedEpkAsJwcryptoWritesIt) {
  auto bob = PrivateKey::from_pem(kRfc7518BobPem);
  ASSERT_TRUE(bob);
  auto d = jwe_decrypt(kKnownEcdhUnprotectedEpk, *bob);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_TRUE(d->verdict.accepted) << d->verdict.reason;
}

// ---- Interoperability with python3-jwcrypto ----

// Reads {"decrypt": [...], "encrypt": [...]} from argv[1] and writes the
// results to stdout. Exit 3: the module is missing.
constexpr const char* kInteropScript = R"PY(
import json, sys
try:
    from jwcrypto import jwk, jwe
    from jwcrypto.jwa import JWA
    from jwcrypto.common import base64url_encode
except Exception as e:
    print("cannot import jwcrypto: %r" % (e,), file=sys.stderr)
    sys.exit(3)

ALGS = ["ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM"]

def private_key(pem):
    return jwk.JWK.from_pem(pem.encode("ascii"))

def decrypt(req):
    try:
        token = jwe.JWE()
        token.allowed_algs = ALGS
        token.deserialize(json.dumps(req["jwe"]), key=private_key(req["pem"]))
        return {"ok": True, "plaintext": token.payload.hex(), "error": ""}
    except Exception as e:
        return {"ok": False, "plaintext": "", "error": repr(e)}

def encrypt(req):
    key = jwk.JWK(**req["jwk"])
    header = {"alg": req["alg"], "enc": "A256GCM"}
    header.update(req["extra"])
    plaintext = bytes.fromhex(req["plaintext"])
    if req["api"]:
        aad = req["aad"].encode("utf-8") if req["aad"] else None
        token = jwe.JWE(plaintext, json.dumps(header), aad=aad)
        token.allowed_algs = ALGS
        token.add_recipient(key)
        made = json.loads(token.serialize())
    else:
        # The library's primitives, every header parameter in "protected".
        wrapped = JWA.keymgmt_alg(req["alg"]).wrap(key, 256, None, header)
        header.update(wrapped.get("header", {}))
        protected = base64url_encode(json.dumps(header))
        iv, ciphertext, tag = JWA.encryption_alg("A256GCM").encrypt(
            wrapped["cek"], protected.encode("ascii"), plaintext)
        made = {"protected": protected, "encrypted_key": base64url_encode(wrapped["ek"]),
                "iv": base64url_encode(iv), "ciphertext": base64url_encode(ciphertext),
                "tag": base64url_encode(tag)}
    return {"jwe": made, "jwk": json.loads(private_key(req["pem"]).export_public())}

with open(sys.argv[1]) as f:
    batch = json.load(f)
json.dump({"decrypt": [decrypt(r) for r in batch["decrypt"]],
           "encrypt": [encrypt(r) for r in batch["encrypt"]]}, sys.stdout)
)PY";

std::string hex_of(std::string_view s) { return hex_encode(as_bytes(s)); }

std::string pem_of(const PrivateKey& k) { return std::move(k.to_pem()).value(); }

class JweInterop : public ::testing::Test {
 protected:
  // One JWE of ours for jwcrypto to decrypt.
  struct Ours {
    Kind kind;
    Json jwe;
    std::string plaintext;
    bool valid;  // false: tampered, jwcrypto must refuse it
  };
  // One JWE for jwcrypto to make to one of our keys.
  struct Theirs {
    Kind kind;
    std::string plaintext;
    Json extra;
    bool api;  // the library's JWE API (else its primitives, "epk" protected)
    std::string aad;
  };

  static void SetUpTestSuite() {
    const std::string euro = "\xE2\x82\xAC";
    ours_ = {
        {Kind::kP256, encrypt("ours P-256 " + euro, Kind::kP256, Json{{"kid", "k1"}}),
         "ours P-256 " + euro, true},
        {Kind::kP384,
         encrypt("ours P-384", Kind::kP384, Json{{"apu", b64("Alice")}, {"apv", b64("Bob")}}),
         "ours P-384", true},
        {Kind::kRsa2048, encrypt("ours RSA-2048", Kind::kRsa2048, Json{{"kid", "r"}}),
         "ours RSA-2048", true},
        // Not empty: the library (1.1) fails on an empty plaintext, even its own.
        {Kind::kRsa3072, encrypt("ours RSA-3072", Kind::kRsa3072), "ours RSA-3072", true},
    };
    for (std::size_t i = 0; i < 3; ++i) {
      Ours bad = ours_[i];
      const char* member = i == 0 ? "tag" : i == 1 ? "encrypted_key" : "ciphertext";
      bad.jwe[member] = flip_byte(bad.jwe[member].get<std::string>(), 0);
      bad.valid = false;
      ours_.push_back(std::move(bad));
    }
    theirs_ = {
        {Kind::kRsa2048, "theirs RSA-OAEP-256 " + euro, Json{{"kid", "py"}}, true, ""},
        {Kind::kRsa3072, "theirs RSA-3072 with aad", Json::object(), true, "aad text"},
        {Kind::kP256, "theirs ECDH P-256", Json::object(), false, ""},
        {Kind::kP384, "theirs ECDH P-384 apu/apv", Json{{"apu", b64("Alice")}, {"apv", b64("Bob")}},
         false, ""},
        {Kind::kP256, "theirs ECDH P-256, epk unprotected", Json::object(), true, ""},
    };
    Json batch = {{"decrypt", Json::array()}, {"encrypt", Json::array()}};
    for (const Ours& o : ours_)
      batch["decrypt"].push_back({{"pem", pem_of(key(o.kind))}, {"jwe", o.jwe}});
    for (const Theirs& t : theirs_) {
      batch["encrypt"].push_back({{"jwk", *encryption_jwk(pub(key(t.kind)))},
                                  {"pem", pem_of(key(t.kind))},
                                  {"alg", std::string(jwe_alg_name(alg_of(t.kind)))},
                                  {"extra", t.extra},
                                  {"plaintext", hex_of(t.plaintext)},
                                  {"api", t.api},
                                  {"aad", t.aad}});
    }
    const char* env = std::getenv("CONCIERGE_JWCRYPTO_PYTHON");
    const std::string python = env != nullptr ? env : "/usr/bin/python3";
    if (::access(python.c_str(), X_OK) != 0) {
      skip_ = python + " not found";
      return;
    }
    testing::TempDir tmp;
    std::ofstream(tmp / "jwe_interop.py") << kInteropScript;
    std::ofstream(tmp / "batch.json") << batch.dump();
    const testing::CliRun r =
        testing::run_shell("'" + python + "' '" + (tmp / "jwe_interop.py").string() + "' '" +
                           (tmp / "batch.json").string() + "'");
    if (r.exit_code == 3) {
      skip_ = r.err.empty() ? "cannot import jwcrypto" : r.err;
      while (!skip_.empty() && skip_.back() == '\n') skip_.pop_back();
      return;
    }
    if (r.exit_code != 0) {
      failure_ = "exit " + std::to_string(r.exit_code) + ": " + r.err;
      return;
    }
    out_ = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    if (out_.is_discarded() || out_["decrypt"].size() != ours_.size() ||
        out_["encrypt"].size() != theirs_.size()) {
      failure_ = "unexpected output: " + r.out;
    }
  }

  static inline std::vector<Ours> ours_;
  static inline std::vector<Theirs> theirs_;
  static inline Json out_;
  static inline std::string skip_;
  static inline std::string failure_;
};

#define CONCIERGE_REQUIRE_JWE_INTEROP()                                                    \
  do {                                                                                     \
    if (!skip_.empty()) {                                                                  \
      GTEST_SKIP() << "python3-jwcrypto is not usable (" << skip_                          \
                   << "); install it with scripts/install-deps.sh (apt python3-jwcrypto)"; \
    }                                                                                      \
    ASSERT_TRUE(failure_.empty()) << "jwcrypto run failed: " << failure_;                  \
  } while (0)

TEST_F(JweInterop, JwcryptoDecryptsOurs) {
  CONCIERGE_REQUIRE_JWE_INTEROP();
  for (std::size_t i = 0; i < ours_.size(); ++i) {
    const Ours& o = ours_[i];
    const Json& r = out_["decrypt"][i];
    SCOPED_TRACE(kind_name(o.kind) + (o.valid ? "" : " (tampered)"));
    if (o.valid) {
      EXPECT_TRUE(r["ok"].get<bool>()) << r["error"];
      EXPECT_EQ(r["plaintext"], hex_of(o.plaintext));
    } else {
      EXPECT_FALSE(r["ok"].get<bool>()) << "jwcrypto accepted a tampered JWE";
    }
  }
}

TEST_F(JweInterop, WeDecryptJwcryptos) {
  CONCIERGE_REQUIRE_JWE_INTEROP();
  for (std::size_t i = 0; i < theirs_.size(); ++i) {
    const Theirs& t = theirs_[i];
    const Json& made = out_["encrypt"][i]["jwe"];
    SCOPED_TRACE(t.plaintext + ": " + made.dump());
    auto d = jwe_decrypt(made, key(t.kind));
    // (The library's JWE API puts "epk" in the unprotected "header" member.)
    expect_accepted(d, t.plaintext);
    for (const auto& [name, value] : t.extra.items()) EXPECT_EQ(d->header[name], value) << name;
    if (!t.aad.empty()) {
      EXPECT_EQ(made["aad"], b64(t.aad));
      Json changed = made;
      changed["aad"] = b64(t.aad + "!");
      expect_rejected(jwe_decrypt(changed, key(t.kind)), "tag");
    }
    Json bad = made;
    bad["tag"] = flip_byte(made["tag"].get<std::string>(), 15);
    expect_rejected(jwe_decrypt(bad, key(t.kind)), "tag");
  }
}

TEST_F(JweInterop, JwcryptoPublicJwksParse) {
  CONCIERGE_REQUIRE_JWE_INTEROP();
  for (std::size_t i = 0; i < theirs_.size(); ++i) {
    const Json& jwk = out_["encrypt"][i]["jwk"];
    auto k = public_key_from_encryption_jwk(jwk);
    ASSERT_TRUE(k) << k.error().to_string() << " " << jwk.dump();
    EXPECT_EQ(*k->to_der(), *pub(key(theirs_[i].kind)).to_der());
  }
}

}  // namespace
}  // namespace concierge::jose
