// The AR4SI trustworthiness vector (draft-ietf-rats-ar4si, "Trustworthiness
// Claims") as carried by EAR attestation results (draft-ietf-rats-ear,
// "ear.trustworthiness-vector"): eight claims, each a small signed integer
// whose range gives its tier.
//
// Tiers (ar4si "Trustworthiness Tiers"): none -1..1; affirming 2..31 and
// -32..-2; warning 32..95 and -96..-33; contraindicated 96..127 and
// -128..-97. The status of an appraisal is the worst tier among its claims
// (contraindicated > warning > affirming > none); a vector with no claim set
// has status none.
//
// Plain values; thread-safe as any value type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"

namespace concierge::verifier {

// In the order ar4si lists them; the JSON names are ar4si's.
enum class TrustClaim {
  kInstanceIdentity,  // "instance-identity"
  kConfiguration,     // "configuration"
  kExecutables,       // "executables"
  kFileSystem,        // "file-system"
  kHardware,          // "hardware"
  kRuntimeOpaque,     // "runtime-opaque"
  kStorageOpaque,     // "storage-opaque"
  kSourcedData,       // "sourced-data"
};
inline constexpr std::size_t kTrustClaimCount = 8;
std::string_view trust_claim_name(TrustClaim claim);
std::optional<TrustClaim> parse_trust_claim(std::string_view name);

// Standard values (ar4si; the names follow Veraison's EAR libraries).
namespace trust_value {
inline constexpr int kVerifierMalfunction = -1;
inline constexpr int kNoClaim = 0;
inline constexpr int kUnexpectedEvidence = 1;
inline constexpr int kCryptoValidationFailed = 99;  // any claim
// instance-identity
inline constexpr int kTrustworthyInstance = 2;
inline constexpr int kUntrustworthyInstance = 96;
inline constexpr int kUnrecognizedInstance = 97;
// configuration
inline constexpr int kApprovedConfig = 2;
inline constexpr int kNoConfigVulns = 3;
inline constexpr int kUnsafeConfig = 32;
inline constexpr int kUnsupportableConfig = 96;
// executables
inline constexpr int kApprovedRuntime = 2;
inline constexpr int kApprovedBoot = 3;
inline constexpr int kUnsafeRuntime = 32;
inline constexpr int kUnrecognizedRuntime = 33;
inline constexpr int kContraindicatedRuntime = 96;
// file-system
inline constexpr int kApprovedFiles = 2;
inline constexpr int kUnrecognizedFiles = 32;
inline constexpr int kContraindicatedFiles = 96;
// hardware
inline constexpr int kGenuineHardware = 2;
inline constexpr int kUnsafeHardware = 32;
inline constexpr int kContraindicatedHardware = 96;
inline constexpr int kUnrecognizedHardware = 97;
// runtime-opaque
inline constexpr int kEncryptedMemoryRuntime = 2;
inline constexpr int kIsolatedMemoryRuntime = 32;
inline constexpr int kVisibleMemoryRuntime = 96;
// storage-opaque
inline constexpr int kHwKeysEncryptedSecrets = 2;
inline constexpr int kSwKeysEncryptedSecrets = 32;
inline constexpr int kUnencryptedSecrets = 96;
// sourced-data
inline constexpr int kTrustedSources = 2;
inline constexpr int kUntrustedSources = 32;
inline constexpr int kContraindicatedSources = 96;
}  // namespace trust_value

enum class Tier { kNone, kAffirming, kWarning, kContraindicated };
std::string_view tier_name(Tier tier);  // "none", "affirming", "warning", "contraindicated"
std::optional<Tier> parse_tier(std::string_view name);
// The tier of a value in -128..127 (values outside are contraindicated).
Tier tier_of(int value);

class TrustVector {
 public:
  // Sets a claim (-128..127; kInvalidArgument otherwise).
  Result<void> set(TrustClaim claim, int value);
  // The value, or nullopt when never set (reported as no claim).
  std::optional<int> get(TrustClaim claim) const;
  // The worst tier among the claims that are set; none when none is.
  Tier status() const;
  // {"instance-identity": 2, ...}: only the claims that are set.
  nlohmann::json to_json() const;
  // The inverse; kMalformed for an unknown name or a value that is not an
  // integer in -128..127.
  static Result<TrustVector> from_json(const nlohmann::json& j);
  bool operator==(const TrustVector&) const = default;

 private:
  std::array<std::optional<std::int8_t>, kTrustClaimCount> values_{};
};

}  // namespace concierge::verifier
