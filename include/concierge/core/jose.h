// JOSE for EC keys: JWK (RFC 7517, RFC 7518 section 6.2) and JWK Sets,
// JWK thumbprints (RFC 7638), JWS compact serialization with ES256/ES384
// (RFC 7515 section 7.1, RFC 7518 section 3.4) and JWTs (RFC 7519) on top.
// All cryptography goes through OpenSSL 3 (core/signature.h, private_key.h).
//
// Outcomes of verification (see core/error.h and core/verdict.h):
//   - an Error for input that is not a JWS at all: not three base64url
//     segments, padding or characters outside the alphabet, a header that is
//     not a JSON object (I-JSON: duplicate names are malformed, RFC 7515
//     section 5.2 step 4), "alg"/"kid" of the wrong JSON type, JWT claims that
//     are not a JSON object or NumericDates that are not numbers;
//   - a rejected Verdict for a well-formed token that must not be trusted:
//     "alg" "none" or any algorithm not in the caller's allowed list, a "kid"
//     not in the key set, a key whose JWKS "alg" differs from the header's, a
//     "crit" or "b64" header (no extension is understood, RFC 7515 4.1.11), a
//     signature of the wrong length for the curve, a signature that does not
//     verify, and (JWT) an expired, not-yet-valid or future-issued token;
//   - an accepted Verdict together with the protected header and payload.
//     Header, payload and claims are filled in *only* when accepted, so a
//     rejected token's content cannot be used by mistake.
// Keys are never taken from the token ("jwk", "jku", "x5u", "x5c" headers are
// ignored): only the caller's key or key set is trusted.
//
// Signing writes the protected header in RFC 8785 canonical form (jcs.h), so a
// token is a deterministic function of its inputs apart from the ECDSA nonce.
//
// Plain values and free functions; thread-safe (const objects may be shared:
// OpenSSL keys are only read).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/digest.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"  // TimePoint

namespace concierge::jose {

// ---- Algorithms (RFC 7518 section 3.4) ----

enum class JwsAlg {
  kEs256,  // ECDSA P-256 with SHA-256
  kEs384,  // ECDSA P-384 with SHA-384
};
std::string_view jws_alg_name(JwsAlg alg);  // "ES256", "ES384"
// nullopt for anything else ("none", "HS256", "ES512", ...).
std::optional<JwsAlg> parse_jws_alg(std::string_view name);
EcCurve jws_alg_curve(JwsAlg alg);
HashAlg jws_alg_hash(JwsAlg alg);
JwsAlg jws_alg_for_curve(EcCurve curve);  // P-256 -> ES256, P-384 -> ES384

// ---- JWK (RFC 7517, RFC 7518 section 6.2) ----

// {"kty":"EC","crv":"P-256"|"P-384","x":...,"y":...}: the public members only,
// coordinates base64url without padding, each exactly ec_coordinate_size()
// bytes (RFC 7518 6.2.1.2-3). kInvalidArgument for keys that are not EC
// P-256/P-384.
Result<nlohmann::json> jwk_from_public_key(const PublicKey& key);
// The inverse. Members other than kty/crv/x/y (kid, alg, use, key_ops...) are
// ignored here. kUnsupported for another "kty" or "crv"; kMalformed for
// missing or ill-typed members, coordinates of the wrong length or a point not
// on the curve; kInvalidArgument when the JWK holds a private key ("d").
Result<PublicKey> public_key_from_jwk(const nlohmann::json& jwk);
// RFC 7638 thumbprint: SHA-256 over the canonical JSON of the required
// members (EC: crv, kty, x, y; RSA: e, kty, n; OKP: crv, kty, x; oct: k,
// kty), base64url without padding. kUnsupported for other "kty" values,
// kMalformed when a required member is missing or not a string.
Result<std::string> jwk_thumbprint(const nlohmann::json& jwk);
Result<std::string> jwk_thumbprint(const PublicKey& key);

// One verification key of a set.
struct JwksKey {
  std::string kid;
  JwsAlg alg;
  PublicKey key;
  nlohmann::json jwk;  // the public JWK with "kid", "alg" and "use":"sig"
};

// A JWK Set (RFC 7517 section 5) of EC signature keys: {"keys":[...]}, each
// with "kid", "alg" and "use":"sig". Move-only (it owns keys); clone() copies.
class Jwks {
 public:
  Jwks() = default;
  Jwks(Jwks&&) noexcept = default;
  Jwks& operator=(Jwks&&) noexcept = default;
  Jwks(const Jwks&) = delete;
  Jwks& operator=(const Jwks&) = delete;

  // Adds a P-256/P-384 key. `alg` defaults to the curve's (jws_alg_for_curve);
  // `kid` to the key's RFC 7638 thumbprint. Returns the kid.
  // kInvalidArgument for another key type, an alg for another curve, or a kid
  // already in the set.
  Result<std::string> add(const PublicKey& key, std::optional<JwsAlg> alg = std::nullopt,
                          std::string kid = "");

  // Parses a JWK Set. As RFC 7517 section 5 asks, keys this code cannot use
  // are skipped, not refused: another "kty" or "crv", "use" other than "sig",
  // or an "alg" other than ES256/ES384. A usable EC key that is malformed, an
  // "alg" that does not match its curve, or a duplicate kid is kMalformed. A
  // key without "kid" gets its thumbprint.
  static Result<Jwks> from_json(const nlohmann::json& jwks);
  static Result<Jwks> from_json_text(std::string_view text);

  nlohmann::json to_json() const;  // {"keys":[...]}
  const JwksKey* find(std::string_view kid) const;
  const std::vector<JwksKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  Jwks clone() const;

 private:
  std::vector<JwksKey> keys_;
};

// ---- JWS compact serialization (RFC 7515 section 7.1) ----

// Signs `payload` (any bytes). The protected header is
// `protected_header_extra` (an object, or null for none) plus "alg" and, when
// the extra members have none, "kid" = the RFC 7638 thumbprint of the key.
// "typ" and any other member are copied as given. The signature is raw
// r || s, each ec_coordinate_size() bytes (RFC 7518 3.4), not DER.
// kInvalidArgument when the key's curve is not the alg's, or the extra header
// is not an object, sets a different "alg", a non-string "kid", or "crit"/"b64".
Result<std::string> sign_jws(const PrivateKey& key, JwsAlg alg,
                             const nlohmann::json& protected_header_extra,
                             std::string_view payload);

struct VerifiedJws {
  Verdict verdict;
  // Filled in only when verdict.accepted:
  nlohmann::json header;  // the protected header
  std::string payload;    // the decoded payload bytes
  std::optional<JwsAlg> alg;
  std::string kid;  // the key's kid in the set ("" with a bare PublicKey)

  explicit operator bool() const { return verdict.accepted; }
};

// Verifies a compact JWS against a key set. The key is chosen by the header's
// "kid"; a header without "kid" is tried against every key of the set whose
// alg is the header's. `allowed` must not be empty (kInvalidArgument).
Result<VerifiedJws> verify_jws(std::string_view token, const Jwks& keys,
                               const std::vector<JwsAlg>& allowed);
// The same with one trusted key; the header's "kid", if any, is not checked.
// The header's alg must be allowed and match the key's curve.
Result<VerifiedJws> verify_jws(std::string_view token, const PublicKey& key,
                               const std::vector<JwsAlg>& allowed);

// ---- JWT (RFC 7519) ----

// How verify_jwt checks "exp", "nbf" and "iat" (RFC 7519 4.1.4-4.1.6):
// rejected when now >= exp + leeway, now < nbf - leeway or iat > now + leeway;
// when require_exp is set, a token without "exp" is rejected too.
struct JwtTimeCheck {
  TimePoint now;
  std::chrono::seconds leeway{60};
  bool require_exp = true;
};

// Signs `claims` (a JSON object, else kInvalidArgument) as a JWT: the payload
// is the claims' RFC 8785 canonical form; the header gets "typ":"JWT" unless
// `protected_header_extra` sets "typ". Errors as sign_jws and jcs::canonicalize.
Result<std::string> sign_jwt(const PrivateKey& key, JwsAlg alg, const nlohmann::json& claims,
                             const nlohmann::json& protected_header_extra = nullptr);

struct VerifiedJwt {
  Verdict verdict;
  // Filled in only when verdict.accepted:
  nlohmann::json header;
  nlohmann::json claims;  // a JSON object
  std::optional<JwsAlg> alg;
  std::string kid;

  explicit operator bool() const { return verdict.accepted; }
};

// verify_jws, then the payload parsed as an I-JSON object (kMalformed when it
// is not: the signer is trusted but its output is garbage) and the time checks.
Result<VerifiedJwt> verify_jwt(std::string_view token, const Jwks& keys,
                               const std::vector<JwsAlg>& allowed, const JwtTimeCheck& time);
Result<VerifiedJwt> verify_jwt(std::string_view token, const PublicKey& key,
                               const std::vector<JwsAlg>& allowed, const JwtTimeCheck& time);

// The time checks alone, on a claims object. kMalformed when "exp", "nbf" or
// "iat" is present but not a finite number.
Result<Verdict> check_jwt_times(const nlohmann::json& claims, const JwtTimeCheck& time);

}  // namespace concierge::jose
