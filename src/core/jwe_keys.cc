// JWE algorithm names and encryption JWKs (jwe.h). The JWE itself is in
// jwe.cc, the OpenSSL primitives in jwe_crypto.cc.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/jwe.h"
#include "core/jwe_crypto.h"
#include "core/ossl_util.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;

// An RSA parameter as base64url of its big-endian octets, without leading
// zero octets (RFC 7518 6.3.1.1).
Result<std::string> rsa_param(EVP_PKEY* pkey, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1 || raw == nullptr) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot read an RSA public parameter");
  }
  ossl::BnPtr bn(raw);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  if (BN_bn2bin(bn.get(), out.data()) != static_cast<int>(out.size())) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot write an RSA public parameter");
  }
  return base64url_encode(out);
}

// An RSA JWK member: unpadded base64url, not empty, no leading zero octet.
Result<Bytes> rsa_member(const Json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return fail(Errc::kMalformed,
                std::string("JWK: member \"") + name + "\" missing or not a string");
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (text.find('=') != std::string::npos) {
    return fail(Errc::kMalformed, std::string("JWK: \"") + name + "\" is padded base64url");
  }
  auto bytes = base64url_decode(text);
  if (!bytes) {
    return fail(Errc::kMalformed, std::string("JWK: \"") + name + "\": " + bytes.error().message);
  }
  if (bytes->empty() || (*bytes)[0] == 0) {
    return fail(Errc::kMalformed,
                std::string("JWK: \"") + name + "\" is empty or has a leading zero octet");
  }
  return bytes;
}

Result<PublicKey> rsa_public_key_from_jwk(const Json& jwk) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes n, rsa_member(jwk, "n"));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes e, rsa_member(jwk, "e"));
  auto key = PublicKey::from_rsa(n, e);
  if (!key) return fail(key.error().code, "JWK: " + key.error().message);
  if (key->bits() < 2048) {
    return fail(Errc::kUnsupported, "JWK: RSA-" + std::to_string(key->bits()) +
                                        " is too small for encryption (2048 bits at least)");
  }
  return key;
}

}  // namespace

std::string_view jwe_alg_name(JweAlg alg) {
  return alg == JweAlg::kEcdhEsA256kw ? "ECDH-ES+A256KW" : "RSA-OAEP-256";
}

std::optional<JweAlg> parse_jwe_alg(std::string_view name) {
  if (name == "ECDH-ES+A256KW") return JweAlg::kEcdhEsA256kw;
  if (name == "RSA-OAEP-256") return JweAlg::kRsaOaep256;
  return std::nullopt;
}

Result<JweAlg> jwe_alg_for_key(const PublicKey& key) {
  return jwe_internal::alg_for_pkey(key.get(), "recipient key");
}

Result<nlohmann::json> encryption_jwk(const PublicKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(JweAlg alg, jwe_alg_for_key(key));
  Json jwk;
  if (alg == JweAlg::kEcdhEsA256kw) {
    CONCIERGE_ASSIGN_OR_RETURN(jwk, jwk_from_public_key(key));
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(std::string n, rsa_param(key.get(), OSSL_PKEY_PARAM_RSA_N));
    CONCIERGE_ASSIGN_OR_RETURN(std::string e, rsa_param(key.get(), OSSL_PKEY_PARAM_RSA_E));
    jwk = Json{{"kty", "RSA"}, {"n", std::move(n)}, {"e", std::move(e)}};
  }
  jwk["alg"] = std::string(jwe_alg_name(alg));
  return jwk;
}

Result<PublicKey> public_key_from_encryption_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return fail(Errc::kMalformed, "JWK: not a JSON object");
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) {
    return fail(Errc::kMalformed, "JWK: \"kty\" missing or not a string");
  }
  if (jwk.contains("d")) {
    return fail(Errc::kInvalidArgument,
                "JWK: holds a private key (\"d\") where a public key is expected");
  }
  std::optional<JweAlg> alg;
  if (const auto a = jwk.find("alg"); a != jwk.end()) {
    if (!a->is_string()) return fail(Errc::kMalformed, "JWK: \"alg\" is not a string");
    alg = parse_jwe_alg(a->get_ref<const std::string&>());
    if (!alg) {
      return fail(Errc::kInvalidArgument,
                  "JWK: alg \"" + a->get<std::string>() + "\" is not an encryption algorithm here");
    }
  }
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "enc") {
    return fail(Errc::kInvalidArgument, "JWK: \"use\" is " + use->dump() + ", not \"enc\"");
  }
  const std::string& type = kty->get_ref<const std::string&>();
  std::optional<PublicKey> key;
  if (type == "EC") {
    CONCIERGE_ASSIGN_OR_RETURN(key, public_key_from_jwk(jwk));
  } else if (type == "RSA") {
    CONCIERGE_ASSIGN_OR_RETURN(key, rsa_public_key_from_jwk(jwk));
  } else {
    return fail(Errc::kUnsupported, "JWK: kty \"" + type + "\" is not supported for encryption");
  }
  CONCIERGE_ASSIGN_OR_RETURN(JweAlg key_alg, jwe_alg_for_key(*key));
  if (alg && *alg != key_alg) {
    return fail(Errc::kInvalidArgument, "JWK: alg " + std::string(jwe_alg_name(*alg)) +
                                            " does not fit a " + type + " key (that is " +
                                            std::string(jwe_alg_name(key_alg)) + ")");
  }
  return std::move(*key);
}

}  // namespace concierge::jose
