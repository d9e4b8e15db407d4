// TPM endorsement key certificates, verifier side (TCG EK Credential Profile
// for TPM Family 2.0, clause 3 "X.509 EK Certificate"; attribute OIDs from the
// TCG OID registry: tcg-at-tpmManufacturer 2.23.133.2.1, tcg-at-tpmModel
// 2.23.133.2.2, tcg-at-tpmVersion 2.23.133.2.3).
//
// An EK certificate binds an EK public key to a TPM model by its
// manufacturer's CA. The chain is verified with core's verify_chain (OpenSSL
// 3, no purpose check: EK certificates carry keyUsage keyEncipherment /
// keyAgreement and extendedKeyUsage tcg-kp-EKCertificate 2.23.133.8.1, which
// no OpenSSL purpose describes). OpenSSL handles the extensions EK
// certificates use (a critical subjectAltName holding only a directoryName,
// a non-critical subjectDirectoryAttributes); a certificate with a critical
// extension OpenSSL does not know is rejected, as RFC 5280 requires.
//
// Outcomes: a chain that does not verify, or a certificate whose key is not
// the given EK, is a rejected verdict; an Error means the inputs could not be
// used (no roots, a malformed subjectAltName, a certificate key OpenSSL
// cannot read when it must be compared). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/result.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/tpm/tpm_public.h"

namespace concierge::evidence::tpm {

// What an EK certificate says about its TPM, from the directoryName entries of
// its subjectAltName: the first value of each attribute, "" when the
// certificate has none. Read from the certificate whether or not it
// verifies: trust them only when the verdict is accepted.
struct EkTpmIdentity {
  std::string manufacturer;  // tcg-at-tpmManufacturer 2.23.133.2.1, e.g. "id:49465800"
  std::string model;         // tcg-at-tpmModel 2.23.133.2.2, e.g. "SLB9670"
  std::string version;       // tcg-at-tpmVersion 2.23.133.2.3, e.g. "id:00070055"
  // The TCG vendor ID when the manufacturer is "id:" followed by 8 hex digits
  // (e.g. 0x49465800, "IFX").
  std::optional<std::uint32_t> manufacturer_id;
};

struct EkCertificateCheck : EkTpmIdentity {
  ChainVerdict verdict;  // accepted: the chain verifies (and the key is the EK's)
  // Whether the certificate's public key is the given EK's; nullopt when no
  // EK was given.
  std::optional<bool> key_matches_ek;
};

// Verifies `ek_cert` up to one of `roots` through `intermediates` (see
// verify_chain: `options` gives the time and CRLs) and, when `ek` is not
// null, that the certificate's public key equals ek->key. Rejections:
// verify_chain's reason, or "EK certificate key differs from the EK" (the
// chain of a rejected verdict is empty).
Result<EkCertificateCheck> verify_ek_certificate(const Certificate& ek_cert,
                                                 const std::vector<Certificate>& intermediates,
                                                 const std::vector<Certificate>& roots,
                                                 const ChainOptions& options, const TpmPublic* ek);

// The TPM identity claims alone, without any verification. kMalformed when the
// subjectAltName extension cannot be decoded.
Result<EkTpmIdentity> ek_tpm_identity(const Certificate& ek_cert);

}  // namespace concierge::evidence::tpm
