// EAR: EAT Attestation Results (draft-ietf-rats-ear), the verifier's signed
// statement of what it concluded about an attester, as a JWT (ES256/ES384,
// core/jose.h) in the JSON claim names of Veraison's profile
// "tag:github.com,2023:veraison/ear":
//
//   {
//     "eat_profile": "tag:github.com,2023:veraison/ear",
//     "iat": 1700000000, "exp": 1700000600,
//     "ear.verifier-id": {"developer": "concierge", "build": "0.1.0"},
//     "iss": "...", "aud": "...",                           optional: who
//                                   issued it and for whom (the key broker
//                                   checks both on tokens it did not cache)
//     "eat_nonce": "...",                                   optional
//     "concierge.primary-submod": "snp",                    optional: which
//                                   submod is the attester the session was
//                                   for (the others are its additional
//                                   devices); chosen by the verifier, never
//                                   by a name in the evidence
//     "submods": {
//       "snp": {                                            one per attester
//         "ear.status": "affirming",
//         "ear.trustworthiness-vector": {"hardware": 2, ...},   (ar4si)
//         "ear.appraisal-policy-id": "policy:snp",              optional
//         "ear.veraison.annotated-evidence": {...},             optional
//         ...                                                   other members
//       }
//     }
//   }
//
// Consistency rule (enforced when signing, and when parsing): a submod's
// "ear.status" may not be better than its trustworthiness vector — affirming
// with a warning or contraindicated claim, or warning with a contraindicated
// claim, would let a relying party that reads only the status trust what the
// vector says it should not. Status "none" is always allowed.
//
// Thread safety: plain values and free functions; an EarSigner is immutable
// after creation and its const members may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/jose.h"
#include "concierge/core/private_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"  // TimePoint
#include "concierge/verifier/trust_vector.h"

namespace concierge::verifier {

inline constexpr std::string_view kEarProfile = "tag:github.com,2023:veraison/ear";
inline constexpr std::string_view kPrimaryClaim = "concierge.primary-submod";

// The appraisal of one attester (an EAR "submod").
struct EarSubmod {
  Tier status = Tier::kNone;          // "ear.status"
  TrustVector trust_vector;           // "ear.trustworthiness-vector" (always written)
  std::string appraisal_policy_id;    // "ear.appraisal-policy-id", omitted when empty
  nlohmann::json annotated_evidence;  // "ear.veraison.annotated-evidence" (the verifier's
                                      // claims, an object), omitted when null
  // Other members copied into the submod (e.g. "ear.veraison.policy-claims").
  // They may not reuse the names above.
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const EarSubmod&) const = default;
};

struct AttestationResult {
  std::string profile = std::string(kEarProfile);  // "eat_profile"
  std::int64_t iat = 0;                            // "iat", seconds since the epoch
  std::int64_t exp = 0;                            // "exp", seconds since the epoch
  // "ear.verifier-id": {"developer", "build"} (ar4si verifier-id)
  std::string verifier_developer = "concierge";
  std::string verifier_build;
  std::optional<std::string> issuer;         // "iss"
  std::optional<std::string> audience;       // "aud" (one audience)
  std::optional<std::string> nonce;          // "eat_nonce"
  std::optional<std::string> primary;        // "concierge.primary-submod": a key of submods
  std::map<std::string, EarSubmod> submods;  // "submods", at least one

  bool operator==(const AttestationResult&) const = default;
};

// The JWT claims of `result`. Writes what it is given without validating it
// (see validate_ear); typed members win over same-named members of `extra`.
nlohmann::json ear_claims(const AttestationResult& result);

// kInvalidArgument when `result` cannot be signed: no submod, an empty
// submod name, "exp" not after "iat", an empty profile or verifier
// developer, an annotated evidence that is neither null nor an object, an
// `extra` that is not an object or reuses a typed member's name, or a status
// better than its trust vector (see above).
Result<void> validate_ear(const AttestationResult& result);

// The inverse of ear_claims, strict: "eat_profile", "iat", "exp",
// "ear.verifier-id" (with string "developer" and "build") and a non-empty
// "submods" object are required; each submod needs a known "ear.status" tier
// name; optional members must have their types ("eat_nonce" a string, the
// vector per TrustVector::from_json, the policy id a string, the annotated
// evidence an object); "iat"/"exp" must be integers; the status rule holds.
// Any violation is kMalformed naming the member. Other top-level members
// (e.g. "nbf", "jti") are ignored; other submod members go to `extra`. The
// profile's value is not checked here (verify_ear does).
Result<AttestationResult> parse_ear_claims(const nlohmann::json& claims);

// The verifier's EAR signing key: ES256 for P-256, ES384 for P-384; "kid" is
// the key's RFC 7638 thumbprint. Move-only (owns the private key).
class EarSigner {
 public:
  // kInvalidArgument unless `key` is EC P-256 or P-384.
  static Result<EarSigner> create(PrivateKey key);
  // An unencrypted PEM private key (PKCS#8 or SEC1).
  static Result<EarSigner> from_pem(std::string_view pem);
  // Loads the PEM key at `path`; when there is no file, generates a key on
  // `curve_if_new` and stores it there as PKCS#8 PEM, mode 0600, created
  // atomically (a concurrent creator's key wins and is loaded). An existing
  // file that group or others may access is refused (kInvalidArgument), as
  // is one that is not a regular file. kIo when it cannot be read or written.
  static Result<EarSigner> load_or_create(const std::filesystem::path& path,
                                          EcCurve curve_if_new = EcCurve::kP256);

  EarSigner(EarSigner&&) noexcept = default;
  EarSigner& operator=(EarSigner&&) noexcept = default;

  // validate_ear, then ear_claims signed as a JWT (typ "JWT", kid).
  Result<std::string> sign(const AttestationResult& result) const;
  // {"keys":[the public key with "kid", "alg", "use":"sig"]}: what a relying
  // party needs to verify (publish it).
  nlohmann::json jwks() const { return jwks_.to_json(); }
  const jose::Jwks& key_set() const { return jwks_; }
  // Key rotation: a previous signing key's public half stays in the key set
  // (so tokens it signed verify until they expire); new tokens are signed
  // with the current key only. kInvalidArgument for a key that is not EC
  // P-256/P-384 or is already in the set. Not thread-safe: call before the
  // signer is shared.
  Result<void> add_previous_key(const PublicKey& key);
  const std::string& kid() const { return kid_; }
  jose::JwsAlg alg() const { return alg_; }
  // The signing key's PKCS#8 PEM; the caller should wipe() it when done.
  Result<std::string> private_key_pem() const { return key_.to_pem(); }

 private:
  EarSigner(PrivateKey key, jose::Jwks jwks, std::string kid, jose::JwsAlg alg)
      : key_(std::move(key)), jwks_(std::move(jwks)), kid_(std::move(kid)), alg_(alg) {}
  PrivateKey key_;
  jose::Jwks jwks_;
  std::string kid_;
  jose::JwsAlg alg_;
};

struct EarVerification {
  Verdict verdict;
  // Set only when verdict.accepted:
  std::optional<AttestationResult> result;
  std::string kid;
  std::optional<jose::JwsAlg> alg;

  explicit operator bool() const { return verdict.accepted; }
};

// Verifies an EAR JWT: signature by a key of `jwks` chosen by "kid", alg
// ES256 or ES384 (nothing else is allowed), "exp" required and not passed,
// "nbf"/"iat" not in the future (each within `leeway` of `now`), then the
// claims parsed strictly (parse_ear_claims) and "eat_profile" equal to
// kEarProfile. Failed trust checks (including the profile) are a rejected
// Verdict; a token, key set or claims that cannot be parsed are an Error.
Result<EarVerification> verify_ear(std::string_view token, const jose::Jwks& jwks, TimePoint now,
                                   std::chrono::seconds leeway = std::chrono::seconds(60));
// The same with the key set as JSON ({"keys":[...]}, see Jwks::from_json).
Result<EarVerification> verify_ear(std::string_view token, const nlohmann::json& jwks,
                                   TimePoint now,
                                   std::chrono::seconds leeway = std::chrono::seconds(60));

}  // namespace concierge::verifier
