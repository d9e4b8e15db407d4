// JWE (RFC 7516) in the flattened JSON serialization (section 7.2.2), as the
// Confidential Containers KBS protocol uses it to deliver a secret to the
// key an attested guest generated:
//
//   {"protected": b64url(header), "encrypted_key": ..., "iv": ...,
//    "ciphertext": ..., "tag": ...}
//
// Key management (RFC 7518):
//   ECDH-ES+A256KW (section 4.6) for EC P-256 / P-384 recipients: an
//     ephemeral key on the recipient's curve ("epk" in the header), ECDH,
//     the Concat KDF (NIST SP 800-56A 5.8.1, SHA-256; AlgorithmID the "alg"
//     value "ECDH-ES+A256KW" as RFC 7518 4.6.2 asks in the key-wrapping case,
//     PartyUInfo/PartyVInfo from "apu"/"apv", empty when absent) to a 256-bit
//     key-wrapping key, then AES Key Wrap (RFC 3394) of the content key;
//   RSA-OAEP-256 (section 4.3) for RSA recipients of 2048 bits or more:
//     RSAES-OAEP with SHA-256 and MGF1-SHA-256.
// Content encryption: A256GCM (section 5.3), the AAD being the ASCII of the
// "protected" member (followed by "." and the "aad" member when a JWE has
// one, RFC 7516 5.1 step 14). A fresh random content key and 96-bit IV are
// drawn for every encryption.
// Everything goes through OpenSSL 3 (EVP_PKEY_derive, the SSKDF KDF,
// AES-256-WRAP, EVP_PKEY_encrypt with OAEP, AES-256-GCM).
//
// Outcomes of decryption: an Error when the JWE is not one: kMalformed for
// missing or ill-typed members, bad or padded base64url, a header that is not
// an I-JSON object, an "iv"/"tag"/"encrypted_key" of the wrong size for the
// algorithms, an ill-formed "epk"; kUnsupported for an "alg"/"enc"
// this code does not implement, a "zip" or "crit" member, unprotected
// header members, several recipients; kInvalidArgument for a recipient key
// of the wrong type for "alg". A rejected Verdict when it is one but does not
// decrypt: the tag or the key unwrap does not verify, the "epk" is not a
// point of the recipient key's curve, or an RSA "encrypted_key" is not the
// size of the recipient key's modulus. An RSA-OAEP decryption failure is not
// reported as such: the content key is then a random one and the tag fails
// (RFC 7516 11.5). The plaintext and header are filled in only when accepted.
//
// Pure functions; thread-safe. Content keys and derived keys are wiped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge::jose {

enum class JweAlg {
  kEcdhEsA256kw,  // "ECDH-ES+A256KW"
  kRsaOaep256,    // "RSA-OAEP-256"
};
std::string_view jwe_alg_name(JweAlg alg);
std::optional<JweAlg> parse_jwe_alg(std::string_view name);

// The algorithm for a recipient key: EC P-256/P-384 -> ECDH-ES+A256KW,
// RSA >= 2048 bits -> RSA-OAEP-256; kInvalidArgument otherwise.
Result<JweAlg> jwe_alg_for_key(const PublicKey& key);

// A public encryption JWK: EC {"kty","crv","x","y"} (jose.h) or RSA
// {"kty":"RSA","n","e"} (RFC 7518 6.3.1, base64url big-endian, no leading
// zero octets), with "alg" set to the key's JweAlg.
Result<nlohmann::json> encryption_jwk(const PublicKey& key);
// The inverse: an EC (P-256, P-384) or RSA (>= 2048 bits) public JWK. An
// "alg" member, when present, must be the key's JweAlg (kInvalidArgument);
// "use", when present, must be "enc". kMalformed / kUnsupported as
// jose::public_key_from_jwk; kInvalidArgument for a private JWK.
Result<PublicKey> public_key_from_encryption_jwk(const nlohmann::json& jwk);

// Encrypts `plaintext` to `recipient` with jwe_alg_for_key's algorithm and
// A256GCM. `extra_header` (an object or null) is merged into the protected
// header (e.g. "kid"); it may not set "alg", "enc", "epk", "zip" or "crit"
// (kInvalidArgument). "apu"/"apv" in it, base64url strings, go into the
// Concat KDF. The header is written in RFC 8785 canonical form (jcs.h).
Result<nlohmann::json> jwe_encrypt(ByteView plaintext, const PublicKey& recipient,
                                   const nlohmann::json& extra_header = nullptr);

struct JweDecryption {
  Verdict verdict;
  // Filled in only when verdict.accepted; the caller wipes the plaintext.
  Bytes plaintext;
  nlohmann::json header;  // the protected header
  explicit operator bool() const { return verdict.accepted; }
};

// Decrypts a flattened JWE (a JSON object; a general serialization with one
// recipient is accepted too, and "unprotected"/"header" members are refused
// since nothing here may come from outside the integrity-protected header:
// "epk" too must be in "protected"). The text form is parsed as I-JSON
// (jcs::parse_strict: duplicate member names are kMalformed).
Result<JweDecryption> jwe_decrypt(const nlohmann::json& jwe, const PrivateKey& recipient);
Result<JweDecryption> jwe_decrypt(std::string_view jwe_json, const PrivateKey& recipient);
// JSON text held in a std::string or a C string (both also convert to
// nlohmann::json, as a JSON string, which would make the call ambiguous).
inline Result<JweDecryption> jwe_decrypt(const std::string& jwe_json, const PrivateKey& recipient) {
  return jwe_decrypt(std::string_view(jwe_json), recipient);
}
inline Result<JweDecryption> jwe_decrypt(const char* jwe_json, const PrivateKey& recipient) {
  return jwe_decrypt(std::string_view(jwe_json), recipient);
}

}  // namespace concierge::jose
