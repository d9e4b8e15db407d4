// Verification of the Intel certificate chains behind DCAP quotes (SGX and
// TDX): the PCK chain that certifies a quote's attestation key, and the TCB
// Signing chain that signs collateral (TCB Info, QE Identity); plus a cache of
// verified PCK chains.
//
// Hierarchy (Intel "SGX PCK Certificate and Certificate Revocation List
// Profile Specification", "Certificate Hierarchy" and "Certificate Formats"):
//   Intel SGX Root CA -> Intel SGX PCK Platform CA  -> PCK certificate
//   Intel SGX Root CA -> Intel SGX PCK Processor CA -> PCK certificate
//   Intel SGX Root CA -> Intel SGX TCB Signing
// told apart by subject common names, which this module checks: the PCK leaf
// is "Intel SGX PCK Certificate", its issuer "Intel SGX PCK Platform CA" or
// "Intel SGX PCK Processor CA", the collateral signer "Intel SGX TCB Signing".
// CRLs: the Root CA CRL covers the two PCK CAs (and the TCB Signing
// certificate); each PCK CA publishes a PCK CRL covering its PCK certificates.
//
// Trust: the only anchor is `root` (default: the built-in Intel SGX Root CA,
// intel_root.h; a caller may pass Intel's test root for its sample
// collateral). Certificates supplied with the evidence (a quote's
// certification data, a PCS issuer-chain header) are untrusted candidates; a
// self-signed one among them is ignored, so a supplied root never anchors
// anything. Signatures, validity "as of" ChainOptions::at, and revocation
// against ChainOptions::crls are checked by core's verify_chain (x509.h).
//
// Outcomes: an Error for input that cannot be understood (no certificate, bad
// PEM, a malformed SGX extension in the PCK leaf: pck_extension.h); otherwise
// a verdict, rejected with a reason when the chain does not verify or has the
// wrong shape. Every function is thread-safe; PckChainCache is thread-safe
// (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "concierge/core/chain_cache.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/intel_root.h"
#include "concierge/evidence/dcap/pck_extension.h"

namespace concierge::evidence::dcap {

inline constexpr std::string_view kPckCertificateCn = "Intel SGX PCK Certificate";
inline constexpr std::string_view kPckPlatformCaCn = "Intel SGX PCK Platform CA";
inline constexpr std::string_view kPckProcessorCaCn = "Intel SGX PCK Processor CA";
inline constexpr std::string_view kTcbSigningCn = "Intel SGX TCB Signing";

// Which intermediate CA issued a PCK certificate.
enum class PckCa { kPlatform, kProcessor };
std::string_view pck_ca_name(PckCa ca);  // "platform", "processor"

struct PckChainVerdict : Verdict {
  PckExtension extension;   // the leaf's SGX extension (parsed in every outcome)
  std::optional<PckCa> ca;  // the issuing CA; set when accepted
  // Accepted: PCK leaf, Platform or Processor CA, root. Empty when rejected.
  std::vector<Certificate> chain;
};

// Verifies `certs` (the PCK leaf first, then untrusted candidates in any
// order, as a quote's certification data holds them) up to `root`.
// Rejections: verify_chain's reason (naming depth and subject), "PCK chain
// must be leaf, CA, root (N certificates)", "PCK certificate CN is ... , not
// Intel SGX PCK Certificate", "PCK issuer CN ... is neither ...".
// kInvalidArgument when `certs` is empty.
Result<PckChainVerdict> verify_pck_chain(const std::vector<Certificate>& certs,
                                         const Certificate& root = intel_sgx_root_ca(),
                                         const ChainOptions& options = {});

// The same from a PEM bundle (leaf first). kMalformed for bad PEM or no
// certificate.
Result<PckChainVerdict> verify_pck_chain_pem(std::string_view pem_bundle,
                                             const Certificate& root = intel_sgx_root_ca(),
                                             const ChainOptions& options = {});

struct TcbSigningVerdict : Verdict {
  std::vector<Certificate> chain;  // accepted: TCB Signing certificate, root
  std::optional<PublicKey> key;    // the TCB Signing key; set when accepted
};

// Verifies a TCB Signing chain (PEM bundle, e.g. the
// TCB-Info-Issuer-Chain of a PCS response) up to `root`. The leaf is the
// first certificate of the bundle that is not self-signed (Intel's bundles
// put it first, its samples sometimes last); the others are candidates.
// Rejections: verify_chain's reason, a leaf whose CN is not "Intel SGX TCB
// Signing", a chain that is not leaf -> root. kMalformed for bad PEM or a
// bundle with no certificate that is not self-signed.
Result<TcbSigningVerdict> verify_tcb_signing_chain(std::string_view pem_bundle,
                                                   const Certificate& root = intel_sgx_root_ca(),
                                                   const ChainOptions& options = {});
// The same from parsed certificates (any order); kMalformed when every one is
// self-signed (or there is none).
Result<TcbSigningVerdict> verify_tcb_signing_chain(const std::vector<Certificate>& certs,
                                                   const Certificate& root = intel_sgx_root_ca(),
                                                   const ChainOptions& options = {});

// A cache of accepted PCK chains, so that repeated quotes from one platform
// cost one lookup instead of the chain's ECDSA checks.
//
// Key: SHA-256 over the leaf's DER fingerprint, the root's fingerprint, the
// CRLs' fingerprints (in any order) and require_crl_for_every_ca. Each entry
// keeps the accepted verdict and the window in which it holds: the latest
// notBefore and earliest notAfter of the chain, narrowed by the thisUpdate /
// nextUpdate of the CRLs issued by the chain's CAs. A lookup whose time
// (options.at, else now) is inside the window is a hit; otherwise the chain
// is verified again. Rejections are never stored. Supplied candidates other
// than the leaf are not part of the key.
//
// Thread safety: every member function may be called concurrently; a mutex
// guards the map and verification runs outside it (two threads missing on
// the same leaf may both verify). When `capacity` entries are stored, an
// arbitrary one is evicted.
class PckChainCache {
 public:
  explicit PckChainCache(std::size_t capacity = 4096) : cache_(capacity) {}
  PckChainCache(const PckChainCache&) = delete;
  PckChainCache& operator=(const PckChainCache&) = delete;

  // verify_pck_chain through the cache (same arguments, same outcomes).
  Result<PckChainVerdict> verify(const std::vector<Certificate>& certs,
                                 const Certificate& root = intel_sgx_root_ca(),
                                 const ChainOptions& options = {});

  std::size_t size() const { return cache_.size(); }
  std::uint64_t hits() const { return cache_.hits(); }  // lookups answered from the cache
  std::uint64_t verifications() const { return cache_.verifications(); }  // lookups that verified
  void clear() { cache_.clear(); }

 private:
  VerifiedChainCache<PckChainVerdict> cache_;
};

}  // namespace concierge::evidence::dcap
