// JWK, JWK thumbprints and JWK Sets (jose.h).
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <string>
#include <utility>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jcs.h"
#include "concierge/core/jose.h"
#include "core/jwe_crypto.h"
#include "core/ossl_util.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;

std::optional<EcCurve> curve_from_jwk_name(std::string_view crv) {
  if (crv == "P-256") return EcCurve::kP256;
  if (crv == "P-384") return EcCurve::kP384;
  return std::nullopt;
}

const std::string* string_member(const Json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

Result<Bytes> jwk_coordinate(const Json& jwk, const char* name, std::size_t size) {
  const std::string* text = string_member(jwk, name);
  if (text == nullptr) {
    return fail(Errc::kMalformed,
                std::string("JWK: member \"") + name + "\" missing or not a string");
  }
  if (text->find('=') != std::string::npos) {
    return fail(Errc::kMalformed, std::string("JWK: \"") + name + "\" is padded base64url");
  }
  auto bytes = base64url_decode(*text);
  if (!bytes) {
    return fail(Errc::kMalformed, std::string("JWK: \"") + name + "\": " + bytes.error().message);
  }
  if (bytes->size() != size) {
    return fail(Errc::kMalformed, std::string("JWK: \"") + name + "\" has " +
                                      std::to_string(bytes->size()) + " bytes, the curve needs " +
                                      std::to_string(size));
  }
  return bytes;
}

}  // namespace

Result<nlohmann::json> jwk_from_public_key(const PublicKey& key) {
  if (key.type() != KeyType::kEc) {
    return fail(Errc::kInvalidArgument, "JWK: only EC P-256 and P-384 keys are supported");
  }
  return jwe_internal::ec_public_jwk(key.get());
}

Result<PublicKey> public_key_from_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return fail(Errc::kMalformed, "JWK: not a JSON object");
  const std::string* kty = string_member(jwk, "kty");
  if (kty == nullptr) return fail(Errc::kMalformed, "JWK: \"kty\" missing or not a string");
  if (*kty != "EC") return fail(Errc::kUnsupported, "JWK: kty \"" + *kty + "\" is not supported");
  if (jwk.contains("d")) {
    return fail(Errc::kInvalidArgument,
                "JWK: holds a private key (\"d\") where a public key is expected");
  }
  const std::string* crv = string_member(jwk, "crv");
  if (crv == nullptr) return fail(Errc::kMalformed, "JWK: \"crv\" missing or not a string");
  const std::optional<EcCurve> curve = curve_from_jwk_name(*crv);
  if (!curve) return fail(Errc::kUnsupported, "JWK: curve \"" + *crv + "\" is not supported");
  const std::size_t size = ec_coordinate_size(*curve);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes x, jwk_coordinate(jwk, "x", size));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes y, jwk_coordinate(jwk, "y", size));
  auto key = PublicKey::from_ec_coordinates(*curve, x, y);
  if (!key) return fail(Errc::kMalformed, "JWK: " + key.error().message);
  return key;
}

Result<std::string> jwk_thumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return fail(Errc::kMalformed, "JWK: not a JSON object");
  const std::string* kty = string_member(jwk, "kty");
  if (kty == nullptr) return fail(Errc::kMalformed, "JWK: \"kty\" missing or not a string");
  // RFC 7638 section 3.2: the required members of each key type.
  std::vector<const char*> required;
  if (*kty == "EC") {
    required = {"crv", "x", "y"};
  } else if (*kty == "RSA") {
    required = {"e", "n"};
  } else if (*kty == "OKP") {
    required = {"crv", "x"};
  } else if (*kty == "oct") {
    required = {"k"};
  } else {
    return fail(Errc::kUnsupported, "JWK thumbprint: kty \"" + *kty + "\" is not supported");
  }
  Json members = {{"kty", *kty}};
  for (const char* name : required) {
    const std::string* value = string_member(jwk, name);
    if (value == nullptr) {
      return fail(Errc::kMalformed,
                  std::string("JWK thumbprint: member \"") + name + "\" missing or not a string");
    }
    members[name] = *value;
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::string canonical, jcs::canonicalize(members));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes hash, digest(HashAlg::kSha256, as_bytes(canonical)));
  return base64url_encode(hash);
}

Result<std::string> jwk_thumbprint(const PublicKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(Json jwk, jwk_from_public_key(key));
  return jwk_thumbprint(jwk);
}

Result<std::string> Jwks::add(const PublicKey& key, std::optional<JwsAlg> alg, std::string kid) {
  CONCIERGE_ASSIGN_OR_RETURN(Json jwk, jwk_from_public_key(key));
  const EcCurve curve = *key.curve();  // jwk_from_public_key checked it
  const JwsAlg chosen = alg.value_or(jws_alg_for_curve(curve));
  if (jws_alg_curve(chosen) != curve) {
    return fail(Errc::kInvalidArgument, std::string(jws_alg_name(chosen)) + " needs a " +
                                            std::string(ec_curve_name(jws_alg_curve(chosen))) +
                                            " key, not " + std::string(ec_curve_name(curve)));
  }
  if (kid.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(kid, jwk_thumbprint(jwk));
  }
  if (find(kid) != nullptr) {
    return fail(Errc::kInvalidArgument, "JWKS: kid \"" + kid + "\" is already in the set");
  }
  jwk["kid"] = kid;
  jwk["alg"] = std::string(jws_alg_name(chosen));
  jwk["use"] = "sig";
  keys_.push_back(JwksKey{kid, chosen, key.clone(), std::move(jwk)});
  return kid;
}

Result<Jwks> Jwks::from_json(const nlohmann::json& jwks) {
  if (!jwks.is_object()) return fail(Errc::kMalformed, "JWKS: not a JSON object");
  const auto keys = jwks.find("keys");
  if (keys == jwks.end() || !keys->is_array()) {
    return fail(Errc::kMalformed, "JWKS: \"keys\" missing or not an array");
  }
  Jwks out;
  std::size_t index = 0;
  for (const Json& jwk : *keys) {
    const std::string where = "JWKS: keys[" + std::to_string(index++) + "]: ";
    if (!jwk.is_object()) return fail(Errc::kMalformed, where + "not a JSON object");
    // RFC 7517 section 5: skip what we do not understand.
    const std::string* kty = string_member(jwk, "kty");
    const std::string* crv = string_member(jwk, "crv");
    if (kty == nullptr || *kty != "EC" || crv == nullptr || !curve_from_jwk_name(*crv)) continue;
    if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") continue;
    std::optional<JwsAlg> alg;
    if (const auto a = jwk.find("alg"); a != jwk.end()) {
      if (!a->is_string()) return fail(Errc::kMalformed, where + "\"alg\" is not a string");
      alg = parse_jws_alg(a->get_ref<const std::string&>());
      if (!alg) continue;
    }
    std::string kid;
    if (const auto k = jwk.find("kid"); k != jwk.end()) {
      if (!k->is_string()) return fail(Errc::kMalformed, where + "\"kid\" is not a string");
      kid = k->get<std::string>();
      if (kid.empty()) return fail(Errc::kMalformed, where + "\"kid\" is empty");
    }
    auto key = public_key_from_jwk(jwk);
    if (!key) return fail(Errc::kMalformed, where + key.error().message);
    auto added = out.add(*key, alg, kid);
    if (!added) return fail(Errc::kMalformed, where + added.error().message);
  }
  return out;
}

Result<Jwks> Jwks::from_json_text(std::string_view text) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j, jcs::parse_strict(text));
  return from_json(j);
}

nlohmann::json Jwks::to_json() const {
  Json keys = Json::array();
  for (const JwksKey& k : keys_) keys.push_back(k.jwk);
  return Json{{"keys", std::move(keys)}};
}

const JwksKey* Jwks::find(std::string_view kid) const {
  for (const JwksKey& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

Jwks Jwks::clone() const {
  Jwks out;
  out.keys_.reserve(keys_.size());
  for (const JwksKey& k : keys_) out.keys_.push_back(JwksKey{k.kid, k.alg, k.key.clone(), k.jwk});
  return out;
}

}  // namespace concierge::jose
