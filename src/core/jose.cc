// JWS compact serialization and JWTs (jose.h). JWKs are in jose_jwk.cc.
#include "concierge/core/jose.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/jcs.h"
#include "concierge/core/signature.h"
#include "concierge/core/time.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;

// Header parameters that change how a JWS is processed; none is implemented,
// so a token carrying one is refused (RFC 7515 4.1.11, RFC 7797 section 6).
constexpr std::string_view kUnderstoodNothing[] = {"crit", "b64"};

Result<Bytes> decode_segment(std::string_view text, const char* what) {
  if (text.find('=') != std::string_view::npos) {
    return fail(Errc::kMalformed, std::string("JWS: ") + what + " is padded base64url");
  }
  auto bytes = base64url_decode(text);
  if (!bytes)
    return fail(Errc::kMalformed, std::string("JWS: ") + what + ": " + bytes.error().message);
  return bytes;
}

// The parts of a compact JWS, decoded, before any trust decision.
struct ParsedJws {
  std::string_view signing_input;  // BASE64URL(header) "." BASE64URL(payload)
  Json header;
  Bytes payload;
  Bytes signature;
  std::string alg_name;
  std::optional<std::string> kid;
};

Result<ParsedJws> parse_compact(std::string_view token) {
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(Errc::kMalformed, "JWS: compact serialization needs exactly three segments");
  }
  ParsedJws p;
  p.signing_input = token.substr(0, dot2);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes header_bytes, decode_segment(token.substr(0, dot1), "header"));
  CONCIERGE_ASSIGN_OR_RETURN(p.payload,
                             decode_segment(token.substr(dot1 + 1, dot2 - dot1 - 1), "payload"));
  CONCIERGE_ASSIGN_OR_RETURN(p.signature, decode_segment(token.substr(dot2 + 1), "signature"));
  auto header = jcs::parse_strict(as_chars(header_bytes));
  if (!header) return fail(Errc::kMalformed, "JWS: header: " + header.error().message);
  if (!header->is_object()) return fail(Errc::kMalformed, "JWS: header is not a JSON object");
  p.header = std::move(*header);
  const auto alg = p.header.find("alg");
  if (alg == p.header.end() || !alg->is_string()) {
    return fail(Errc::kMalformed, "JWS: header \"alg\" missing or not a string");
  }
  p.alg_name = alg->get<std::string>();
  if (const auto kid = p.header.find("kid"); kid != p.header.end()) {
    if (!kid->is_string()) return fail(Errc::kMalformed, "JWS: header \"kid\" is not a string");
    p.kid = kid->get<std::string>();
  }
  return p;
}

// The trust checks that do not depend on the key: the algorithm is allowed,
// no unknown extension is critical. Returns the alg, or sets `reject`.
std::optional<JwsAlg> check_header(const ParsedJws& p, const std::vector<JwsAlg>& allowed,
                                   Verdict& reject) {
  const std::optional<JwsAlg> alg = parse_jws_alg(p.alg_name);
  if (!alg || std::find(allowed.begin(), allowed.end(), *alg) == allowed.end()) {
    reject = Verdict::reject("JWS: alg \"" + p.alg_name + "\" is not allowed");
    return std::nullopt;
  }
  for (std::string_view name : kUnderstoodNothing) {
    if (p.header.contains(name)) {
      reject = Verdict::reject("JWS: header \"" + std::string(name) + "\" is not supported");
      return std::nullopt;
    }
  }
  return alg;
}

Result<Verdict> check_signature(const ParsedJws& p, JwsAlg alg, const PublicKey& key) {
  const std::optional<EcCurve> curve = key.type() == KeyType::kEc ? key.curve() : std::nullopt;
  if (!curve)
    return fail(Errc::kInvalidArgument, "JWS: the verification key is not EC P-256/P-384");
  if (*curve != jws_alg_curve(alg)) {
    return Verdict::reject("JWS: alg " + std::string(jws_alg_name(alg)) + " does not match the " +
                           std::string(ec_curve_name(*curve)) + " key");
  }
  const std::size_t expected = 2 * ec_coordinate_size(*curve);
  if (p.signature.size() != expected) {
    return Verdict::reject("JWS: signature has " + std::to_string(p.signature.size()) + " bytes, " +
                           std::string(jws_alg_name(alg)) + " needs " + std::to_string(expected));
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      Verdict v, verify_ecdsa_raw(key, jws_alg_hash(alg), as_bytes(p.signing_input), p.signature));
  if (!v) v.reason = "JWS: signature does not verify: " + v.reason;
  return v;
}

VerifiedJws accepted(ParsedJws&& p, JwsAlg alg, std::string kid) {
  VerifiedJws out;
  out.verdict = Verdict::accept();
  out.header = std::move(p.header);
  out.payload.assign(as_chars(p.payload));
  out.alg = alg;
  out.kid = std::move(kid);
  return out;
}

VerifiedJws rejected(Verdict v) {
  VerifiedJws out;
  out.verdict = std::move(v);
  return out;
}

Result<void> check_allowed(const std::vector<JwsAlg>& allowed) {
  if (allowed.empty()) return fail(Errc::kInvalidArgument, "JWS: no algorithm is allowed");
  return {};
}

Result<std::optional<double>> numeric_date(const Json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<double>();
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return fail(Errc::kMalformed, std::string("JWT: \"") + name + "\" is not a NumericDate");
  }
  return std::optional<double>(it->get<double>());
}

Result<VerifiedJwt> finish_jwt(Result<VerifiedJws> jws, const JwtTimeCheck& time) {
  if (!jws) return Unexpected(std::move(jws).error());
  VerifiedJwt out;
  if (!jws->verdict) {
    out.verdict = std::move(jws->verdict);
    return out;
  }
  auto claims = jcs::parse_strict(jws->payload);
  if (!claims) return fail(Errc::kMalformed, "JWT: claims: " + claims.error().message);
  if (!claims->is_object()) return fail(Errc::kMalformed, "JWT: claims are not a JSON object");
  CONCIERGE_ASSIGN_OR_RETURN(Verdict times, check_jwt_times(*claims, time));
  if (!times) {
    out.verdict = std::move(times);
    return out;
  }
  out.verdict = Verdict::accept();
  out.header = std::move(jws->header);
  out.claims = std::move(*claims);
  out.alg = jws->alg;
  out.kid = std::move(jws->kid);
  return out;
}

}  // namespace

std::string_view jws_alg_name(JwsAlg alg) { return alg == JwsAlg::kEs256 ? "ES256" : "ES384"; }

std::optional<JwsAlg> parse_jws_alg(std::string_view name) {
  if (name == "ES256") return JwsAlg::kEs256;
  if (name == "ES384") return JwsAlg::kEs384;
  return std::nullopt;
}

EcCurve jws_alg_curve(JwsAlg alg) {
  return alg == JwsAlg::kEs256 ? EcCurve::kP256 : EcCurve::kP384;
}

HashAlg jws_alg_hash(JwsAlg alg) {
  return alg == JwsAlg::kEs256 ? HashAlg::kSha256 : HashAlg::kSha384;
}

JwsAlg jws_alg_for_curve(EcCurve curve) {
  return curve == EcCurve::kP256 ? JwsAlg::kEs256 : JwsAlg::kEs384;
}

Result<std::string> sign_jws(const PrivateKey& key, JwsAlg alg,
                             const nlohmann::json& protected_header_extra,
                             std::string_view payload) {
  const std::optional<EcCurve> curve = key.type() == KeyType::kEc ? key.curve() : std::nullopt;
  if (!curve || *curve != jws_alg_curve(alg)) {
    return fail(Errc::kInvalidArgument, "JWS: " + std::string(jws_alg_name(alg)) + " needs a " +
                                            std::string(ec_curve_name(jws_alg_curve(alg))) +
                                            " private key");
  }
  Json header = protected_header_extra.is_null() ? Json::object() : protected_header_extra;
  if (!header.is_object()) {
    return fail(Errc::kInvalidArgument, "JWS: the extra header is not a JSON object");
  }
  if (const auto a = header.find("alg");
      a != header.end() && *a != std::string(jws_alg_name(alg))) {
    return fail(Errc::kInvalidArgument, "JWS: the extra header sets a different \"alg\"");
  }
  for (std::string_view name : kUnderstoodNothing) {
    if (header.contains(name)) {
      return fail(Errc::kInvalidArgument,
                  "JWS: header \"" + std::string(name) + "\" is not supported");
    }
  }
  header["alg"] = std::string(jws_alg_name(alg));
  if (const auto kid = header.find("kid"); kid == header.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(PublicKey pub, key.public_key());
    CONCIERGE_ASSIGN_OR_RETURN(header["kid"], jwk_thumbprint(pub));
  } else if (!kid->is_string()) {
    return fail(Errc::kInvalidArgument, "JWS: \"kid\" must be a string");
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::string header_text, jcs::canonicalize(header));
  std::string token = base64url_encode(as_bytes(header_text));
  token.push_back('.');
  token += base64url_encode(as_bytes(payload));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes signature,
                             key.sign_ecdsa_raw(jws_alg_hash(alg), as_bytes(token)));
  token.push_back('.');
  token += base64url_encode(signature);
  return token;
}

Result<VerifiedJws> verify_jws(std::string_view token, const Jwks& keys,
                               const std::vector<JwsAlg>& allowed) {
  CONCIERGE_RETURN_IF_ERROR(check_allowed(allowed));
  CONCIERGE_ASSIGN_OR_RETURN(ParsedJws p, parse_compact(token));
  Verdict reject;
  const std::optional<JwsAlg> alg = check_header(p, allowed, reject);
  if (!alg) return rejected(std::move(reject));
  if (p.kid) {
    const JwksKey* entry = keys.find(*p.kid);
    if (entry == nullptr)
      return rejected(Verdict::reject("JWS: kid \"" + *p.kid + "\" is not in the key set"));
    if (entry->alg != *alg) {
      return rejected(Verdict::reject("JWS: key \"" + entry->kid + "\" is for " +
                                      std::string(jws_alg_name(entry->alg)) + ", the token says " +
                                      p.alg_name));
    }
    CONCIERGE_ASSIGN_OR_RETURN(Verdict v, check_signature(p, *alg, entry->key));
    if (!v) return rejected(std::move(v));
    return accepted(std::move(p), *alg, entry->kid);
  }
  Verdict last = Verdict::reject("JWS: no key in the set is for " + p.alg_name);
  for (const JwksKey& entry : keys.keys()) {
    if (entry.alg != *alg) continue;
    CONCIERGE_ASSIGN_OR_RETURN(Verdict v, check_signature(p, *alg, entry.key));
    if (v) return accepted(std::move(p), *alg, entry.kid);
    last = std::move(v);
  }
  return rejected(std::move(last));
}

Result<VerifiedJws> verify_jws(std::string_view token, const PublicKey& key,
                               const std::vector<JwsAlg>& allowed) {
  CONCIERGE_RETURN_IF_ERROR(check_allowed(allowed));
  CONCIERGE_ASSIGN_OR_RETURN(ParsedJws p, parse_compact(token));
  Verdict reject;
  const std::optional<JwsAlg> alg = check_header(p, allowed, reject);
  if (!alg) return rejected(std::move(reject));
  CONCIERGE_ASSIGN_OR_RETURN(Verdict v, check_signature(p, *alg, key));
  if (!v) return rejected(std::move(v));
  return accepted(std::move(p), *alg, "");
}

Result<std::string> sign_jwt(const PrivateKey& key, JwsAlg alg, const nlohmann::json& claims,
                             const nlohmann::json& protected_header_extra) {
  if (!claims.is_object()) return fail(Errc::kInvalidArgument, "JWT: claims must be a JSON object");
  Json header = protected_header_extra.is_null() ? Json::object() : protected_header_extra;
  if (header.is_object() && !header.contains("typ")) header["typ"] = "JWT";
  CONCIERGE_ASSIGN_OR_RETURN(std::string payload, jcs::canonicalize(claims));
  return sign_jws(key, alg, header, payload);
}

Result<Verdict> check_jwt_times(const nlohmann::json& claims, const JwtTimeCheck& time) {
  if (!claims.is_object()) return fail(Errc::kMalformed, "JWT: claims are not a JSON object");
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<double> exp, numeric_date(claims, "exp"));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<double> nbf, numeric_date(claims, "nbf"));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<double> iat, numeric_date(claims, "iat"));
  const double now = static_cast<double>(unix_seconds(time.now));
  const double leeway = static_cast<double>(time.leeway.count());
  const auto at = [](double t) -> std::string {
    if (std::fabs(t) > 1e11) return jcs::number_to_string(t).value_or("?");  // past year 5000
    return format_rfc3339(TimePoint(std::chrono::seconds(static_cast<std::int64_t>(t))));
  };
  if (!exp && time.require_exp) return Verdict::reject("JWT: no \"exp\" claim");
  if (exp && now >= *exp + leeway) return Verdict::reject("JWT: expired at " + at(*exp));
  if (nbf && now < *nbf - leeway) return Verdict::reject("JWT: not valid before " + at(*nbf));
  if (iat && *iat > now + leeway)
    return Verdict::reject("JWT: issued in the future, at " + at(*iat));
  return Verdict::accept();
}

Result<VerifiedJwt> verify_jwt(std::string_view token, const Jwks& keys,
                               const std::vector<JwsAlg>& allowed, const JwtTimeCheck& time) {
  return finish_jwt(verify_jws(token, keys, allowed), time);
}

Result<VerifiedJwt> verify_jwt(std::string_view token, const PublicKey& key,
                               const std::vector<JwsAlg>& allowed, const JwtTimeCheck& time) {
  return finish_jwt(verify_jws(token, key, allowed), time);
}

}  // namespace concierge::jose
