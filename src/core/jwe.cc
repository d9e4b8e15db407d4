// JWE flattened JSON serialization: encryption and decryption (jwe.h). The
// algorithm names and JWKs are in jwe_keys.cc, the OpenSSL primitives in
// jwe_crypto.cc.
#include "concierge/core/jwe.h"

#include <openssl/evp.h>

#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/jcs.h"
#include "concierge/core/jose.h"
#include "core/jwe_crypto.h"

namespace concierge::jose {
namespace {

using Json = nlohmann::json;
using namespace jwe_internal;

constexpr std::string_view kEnc = "A256GCM";

// Header members the caller may not set: the ones this code writes, and the
// ones it does not implement (compression, critical extensions).
constexpr std::string_view kReservedHeader[] = {"alg", "enc", "epk", "zip", "crit"};

const std::string* string_member(const Json& j, std::string_view name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

Result<Bytes> decode_b64(const std::string& text, const std::string& what) {
  if (text.find('=') != std::string::npos) {
    return fail(Errc::kMalformed, "JWE: " + what + " is padded base64url");
  }
  auto bytes = base64url_decode(text);
  if (!bytes) return fail(Errc::kMalformed, "JWE: " + what + ": " + bytes.error().message);
  return bytes;
}

// A required base64url string member of `j`.
Result<Bytes> b64_member(const Json& j, std::string_view name) {
  const std::string* text = string_member(j, name);
  if (text == nullptr) {
    return fail(Errc::kMalformed, "JWE: \"" + std::string(name) + "\" missing or not a string");
  }
  return decode_b64(*text, "\"" + std::string(name) + "\"");
}

// "apu" / "apv" (RFC 7518 4.6.1.2-3): optional base64url strings; empty when
// absent. `code` is the error for a bad value.
Result<Bytes> party_info(const Json& header, std::string_view name, Errc code) {
  const auto it = header.find(name);
  if (it == header.end()) return Bytes();
  if (!it->is_string()) {
    return fail(code, "JWE: header \"" + std::string(name) + "\" is not a string");
  }
  auto bytes =
      decode_b64(it->get_ref<const std::string&>(), "header \"" + std::string(name) + "\"");
  if (!bytes) return fail(code, bytes.error().message);
  return bytes;
}

// The key-wrapping key of ECDH-ES+A256KW (RFC 7518 4.6.2). AlgorithmID is
// the "alg" value, as in the key-agreement-with-key-wrapping case.
Result<Secret> derive_kek(EVP_PKEY* priv, EVP_PKEY* peer, const Json& header, Errc code) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes apu, party_info(header, "apu", code));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes apv, party_info(header, "apv", code));
  CONCIERGE_ASSIGN_OR_RETURN(Secret z, ecdh(priv, peer));
  return concat_kdf_sha256(z.view(), jwe_alg_name(JweAlg::kEcdhEsA256kw), apu, apv, kCekSize);
}

// ---- Encryption ----

Result<Json> encrypt_header(const nlohmann::json& extra_header) {
  Json header = extra_header.is_null() ? Json::object() : extra_header;
  if (!header.is_object()) {
    return fail(Errc::kInvalidArgument, "JWE: the extra header is not a JSON object");
  }
  for (std::string_view name : kReservedHeader) {
    if (header.contains(name)) {
      return fail(Errc::kInvalidArgument,
                  "JWE: the extra header may not set \"" + std::string(name) + "\"");
    }
  }
  return header;
}

// Fills in the header's "epk" and returns the wrapped content key.
Result<Bytes> wrap_for_ec(const Secret& cek, const PublicKey& recipient, Json& header) {
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey ephemeral, PrivateKey::generate_ec(*recipient.curve()));
  CONCIERGE_ASSIGN_OR_RETURN(header["epk"], ec_public_jwk(ephemeral.get()));
  CONCIERGE_ASSIGN_OR_RETURN(
      Secret kek, derive_kek(ephemeral.get(), recipient.get(), header, Errc::kInvalidArgument));
  return aes256_wrap(kek.view(), cek.view());
}

// ---- Decryption ----

// The members of a flattened JWE, decoded, before any key is used.
struct ParsedJwe {
  Json header;
  JweAlg alg = JweAlg::kEcdhEsA256kw;
  std::string aad;  // ASCII(BASE64URL(protected)) [ "." BASE64URL(aad) ]
  Bytes encrypted_key;
  Bytes iv;
  Bytes ciphertext;
  Bytes tag;
  // "epk" from an unprotected header (jwcrypto writes it there), or null.
  Json unprotected_epk;
};

// An unprotected header may carry only "epk" (and "kid"): the ephemeral key
// needs no integrity protection of its own, since another key derives
// another key-wrapping key and the unwrap fails. Everything that decides how
// to decrypt ("alg", "enc", "apu", "apv") must be protected.
Result<void> take_unprotected(const Json& header, const char* where, Json& epk) {
  if (!header.is_object())
    return fail(Errc::kMalformed, std::string("JWE: ") + where + " is not an object");
  for (const auto& [name, value] : header.items()) {
    if (name == "epk") {
      if (!epk.is_null()) return fail(Errc::kMalformed, "JWE: \"epk\" given twice");
      epk = value;
    } else if (name != "kid") {
      return fail(Errc::kUnsupported, std::string("JWE: unprotected ") + where + " member \"" +
                                          name +
                                          "\" is not accepted; only \"epk\" may be "
                                          "unprotected");
    }
  }
  return {};
}

// The object holding "encrypted_key": the JWE itself (flattened) or its one
// recipient (general serialization, RFC 7516 7.2.1).
Result<const Json*> recipient_object(const Json& jwe) {
  const auto recipients = jwe.find("recipients");
  if (recipients == jwe.end()) return &jwe;
  if (!recipients->is_array()) return fail(Errc::kMalformed, "JWE: \"recipients\" is not an array");
  if (recipients->size() != 1) {
    return fail(Errc::kUnsupported, "JWE: " + std::to_string(recipients->size()) +
                                        " recipients; only one is supported");
  }
  if (jwe.contains("encrypted_key")) {
    return fail(Errc::kMalformed, "JWE: both \"recipients\" and \"encrypted_key\"");
  }
  const Json& recipient = recipients->front();
  if (!recipient.is_object()) return fail(Errc::kMalformed, "JWE: recipient is not an object");
  return &recipient;
}

Result<ParsedJwe> parse_jwe(const Json& jwe) {
  if (!jwe.is_object()) return fail(Errc::kMalformed, "JWE: not a JSON object");
  CONCIERGE_ASSIGN_OR_RETURN(const Json* recipient, recipient_object(jwe));
  ParsedJwe p;
  if (const auto u = jwe.find("unprotected"); u != jwe.end()) {
    CONCIERGE_RETURN_IF_ERROR(take_unprotected(*u, "\"unprotected\"", p.unprotected_epk));
  }
  if (const auto h = recipient->find("header"); h != recipient->end()) {
    CONCIERGE_RETURN_IF_ERROR(take_unprotected(*h, "\"header\"", p.unprotected_epk));
  }
  const std::string* protected_b64 = string_member(jwe, "protected");
  if (protected_b64 == nullptr || protected_b64->empty()) {
    return fail(Errc::kMalformed, "JWE: \"protected\" missing, empty or not a string");
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes header_bytes, decode_b64(*protected_b64, "\"protected\""));
  CONCIERGE_ASSIGN_OR_RETURN(p.encrypted_key, b64_member(*recipient, "encrypted_key"));
  CONCIERGE_ASSIGN_OR_RETURN(p.iv, b64_member(jwe, "iv"));
  CONCIERGE_ASSIGN_OR_RETURN(p.ciphertext, b64_member(jwe, "ciphertext"));
  CONCIERGE_ASSIGN_OR_RETURN(p.tag, b64_member(jwe, "tag"));
  p.aad = *protected_b64;
  if (const auto aad = jwe.find("aad"); aad != jwe.end()) {
    if (!aad->is_string()) return fail(Errc::kMalformed, "JWE: \"aad\" is not a string");
    CONCIERGE_RETURN_IF_ERROR(decode_b64(aad->get_ref<const std::string&>(), "\"aad\""));
    p.aad += '.';
    p.aad += aad->get_ref<const std::string&>();
  }
  if (p.iv.size() != kIvSize) {
    return fail(Errc::kMalformed,
                "JWE: A256GCM needs a 12-byte \"iv\", not " + std::to_string(p.iv.size()));
  }
  if (p.tag.size() != kTagSize) {
    return fail(Errc::kMalformed,
                "JWE: A256GCM needs a 16-byte \"tag\", not " + std::to_string(p.tag.size()));
  }

  auto header = jcs::parse_strict(as_chars(header_bytes));
  if (!header) return fail(Errc::kMalformed, "JWE: protected header: " + header.error().message);
  if (!header->is_object()) {
    return fail(Errc::kMalformed, "JWE: protected header is not a JSON object");
  }
  p.header = std::move(*header);
  if (!p.unprotected_epk.is_null() && p.header.contains("epk")) {
    return fail(Errc::kMalformed, "JWE: \"epk\" both protected and unprotected");
  }
  for (const char* name : {"zip", "crit"}) {
    if (p.header.contains(name)) {
      return fail(Errc::kUnsupported, "JWE: header \"" + std::string(name) + "\" is not supported");
    }
  }
  const std::string* alg = string_member(p.header, "alg");
  if (alg == nullptr) return fail(Errc::kMalformed, "JWE: header \"alg\" missing or not a string");
  const std::optional<JweAlg> parsed_alg = parse_jwe_alg(*alg);
  if (!parsed_alg) return fail(Errc::kUnsupported, "JWE: alg \"" + *alg + "\" is not supported");
  p.alg = *parsed_alg;
  const std::string* enc = string_member(p.header, "enc");
  if (enc == nullptr) return fail(Errc::kMalformed, "JWE: header \"enc\" missing or not a string");
  if (*enc != kEnc) return fail(Errc::kUnsupported, "JWE: enc \"" + *enc + "\" is not supported");
  return p;
}

// The sender's ephemeral key ("epk"). Ill-formed members are an Error; a key
// on another curve than the recipient's, or a point not on the curve, sets
// `reject` and gives nullopt.
Result<std::optional<PublicKey>> parse_epk(const Json& header, EcCurve curve, Verdict& reject) {
  const auto epk = header.find("epk");
  if (epk == header.end() || !epk->is_object()) {
    return fail(Errc::kMalformed, "JWE: header \"epk\" missing or not an object");
  }
  const std::string* kty = string_member(*epk, "kty");
  if (kty == nullptr) return fail(Errc::kMalformed, "JWE: epk \"kty\" missing or not a string");
  if (*kty != "EC") return fail(Errc::kUnsupported, "JWE: epk kty \"" + *kty + "\" is not EC");
  if (epk->contains("d")) return fail(Errc::kMalformed, "JWE: epk holds a private key");
  const std::string* crv = string_member(*epk, "crv");
  if (crv == nullptr) return fail(Errc::kMalformed, "JWE: epk \"crv\" missing or not a string");
  std::optional<EcCurve> epk_curve;
  if (*crv == "P-256") epk_curve = EcCurve::kP256;
  if (*crv == "P-384") epk_curve = EcCurve::kP384;
  if (!epk_curve) return fail(Errc::kUnsupported, "JWE: epk curve \"" + *crv + "\" is unsupported");
  if (*epk_curve != curve) {
    reject = Verdict::reject("JWE: epk is on " + *crv + ", the recipient key on " +
                             std::string(ec_curve_name(curve)));
    return std::optional<PublicKey>();
  }
  const std::size_t size = ec_coordinate_size(curve);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes x, b64_member(*epk, "x"));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes y, b64_member(*epk, "y"));
  if (x.size() != size || y.size() != size) {
    return fail(Errc::kMalformed,
                "JWE: epk coordinates must be " + std::to_string(size) + " bytes each on " + *crv);
  }
  auto key = PublicKey::from_ec_coordinates(curve, x, y);
  if (!key) {
    if (key.error().code != Errc::kMalformed) return Unexpected(std::move(key).error());
    reject = Verdict::reject("JWE: epk is not a point on " + *crv);
    return std::optional<PublicKey>();
  }
  return std::optional<PublicKey>(std::move(*key));
}

JweDecryption rejected(Verdict v) {
  JweDecryption out;
  out.verdict = std::move(v);
  return out;
}

}  // namespace

Result<nlohmann::json> jwe_encrypt(ByteView plaintext, const PublicKey& recipient,
                                   const nlohmann::json& extra_header) {
  CONCIERGE_ASSIGN_OR_RETURN(JweAlg alg, jwe_alg_for_key(recipient));
  CONCIERGE_ASSIGN_OR_RETURN(Json header, encrypt_header(extra_header));
  header["alg"] = std::string(jwe_alg_name(alg));
  header["enc"] = std::string(kEnc);
  CONCIERGE_ASSIGN_OR_RETURN(Secret cek, random_secret(kCekSize));
  Bytes encrypted_key;
  if (alg == JweAlg::kEcdhEsA256kw) {
    CONCIERGE_ASSIGN_OR_RETURN(encrypted_key, wrap_for_ec(cek, recipient, header));
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(encrypted_key, rsa_oaep256_encrypt(recipient.get(), cek.view()));
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::string header_text, jcs::canonicalize(header));
  const std::string protected_b64 = base64url_encode(as_bytes(header_text));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes iv, random_bytes(kIvSize));
  CONCIERGE_ASSIGN_OR_RETURN(Sealed sealed,
                             aes256gcm_encrypt(cek.view(), iv, as_bytes(protected_b64), plaintext));
  return Json{{"protected", protected_b64},
              {"encrypted_key", base64url_encode(encrypted_key)},
              {"iv", base64url_encode(iv)},
              {"ciphertext", base64url_encode(sealed.ciphertext)},
              {"tag", base64url_encode(sealed.tag)}};
}

Result<JweDecryption> jwe_decrypt(const nlohmann::json& jwe, const PrivateKey& recipient) {
  CONCIERGE_ASSIGN_OR_RETURN(ParsedJwe p, parse_jwe(jwe));
  CONCIERGE_ASSIGN_OR_RETURN(JweAlg key_alg,
                             alg_for_pkey(recipient.get(), "recipient's private key"));
  if (key_alg != p.alg) {
    return fail(Errc::kInvalidArgument, "JWE: alg " + std::string(jwe_alg_name(p.alg)) +
                                            " cannot be decrypted with the recipient's key (" +
                                            std::string(jwe_alg_name(key_alg)) + ")");
  }
  Secret cek;
  if (p.alg == JweAlg::kEcdhEsA256kw) {
    if (p.encrypted_key.size() != kWrappedSize) {
      return fail(Errc::kMalformed, "JWE: a wrapped A256GCM key has 40 bytes, not " +
                                        std::to_string(p.encrypted_key.size()));
    }
    Verdict reject;
    Json key_header = p.header;
    if (!p.unprotected_epk.is_null()) key_header["epk"] = p.unprotected_epk;
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<PublicKey> epk,
                               parse_epk(key_header, *recipient.curve(), reject));
    if (!epk) return rejected(std::move(reject));
    CONCIERGE_ASSIGN_OR_RETURN(
        Secret kek, derive_kek(recipient.get(), epk->get(), key_header, Errc::kMalformed));
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<Secret> unwrapped,
                               aes256_unwrap(kek.view(), p.encrypted_key));
    if (!unwrapped) {
      return rejected(
          Verdict::reject("JWE: the content key does not unwrap (another recipient "
                          "key, or the JWE was altered)"));
    }
    cek = std::move(*unwrapped);
  } else {
    // The size is the recipient key's: another one means another recipient.
    const int modulus_size = EVP_PKEY_get_size(recipient.get());
    if (modulus_size <= 0 || p.encrypted_key.size() != static_cast<std::size_t>(modulus_size)) {
      return rejected(
          Verdict::reject("JWE: \"encrypted_key\" has " + std::to_string(p.encrypted_key.size()) +
                          " bytes, the recipient's RSA key makes " + std::to_string(modulus_size)));
    }
    // RFC 7516 11.5: a failed or wrong-sized decryption goes on with a random
    // key, so that the only failure seen is the tag's, whatever the cause.
    CONCIERGE_ASSIGN_OR_RETURN(cek, random_secret(kCekSize));
    std::optional<Secret> decrypted = rsa_oaep256_decrypt(recipient.get(), p.encrypted_key);
    if (decrypted && decrypted->size() == kCekSize) cek = std::move(*decrypted);
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      std::optional<Secret> plaintext,
      aes256gcm_decrypt(cek.view(), p.iv, as_bytes(p.aad), p.ciphertext, p.tag));
  if (!plaintext) {
    return rejected(Verdict::reject(
        "JWE: the authentication tag does not verify (another recipient key, or the JWE was "
        "altered)"));
  }
  JweDecryption out;
  out.verdict = Verdict::accept();
  out.plaintext = std::move(*plaintext).release();
  out.header = std::move(p.header);
  return out;
}

Result<JweDecryption> jwe_decrypt(std::string_view jwe_json, const PrivateKey& recipient) {
  auto jwe = jcs::parse_strict(jwe_json);
  if (!jwe) return fail(Errc::kMalformed, "JWE: " + jwe.error().message);
  return jwe_decrypt(*jwe, recipient);
}

}  // namespace concierge::jose
