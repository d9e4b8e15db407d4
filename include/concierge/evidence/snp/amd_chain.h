// Verification of a VCEK or VLEK certificate up to a trusted AMD root key
// (ARK -> ASK -> VCEK, ARK -> ASVK -> VLEK; AMD #57230 "Certificate Chain"),
// and a cache of verified chains.
//
// Trust: only the ARKs of the trusted root sets (amd_roots.h: built-in or
// configured) are anchors, and the intermediates are the trusted set's ASK
// (for a VCEK) or ASVK (for a VLEK). Certificates supplied with the evidence
// (the extended report's table, a KDS folder) are untrusted: self-signed ones
// are ignored, the others are used only when the trusted set lacks the
// intermediate the leaf needs, and then only because they verify under the
// trusted ARK. Signatures are checked by core's verify_chain (RSA-PSS SHA-384
// for AMD's certificates), with ChainOptions' time ("as of") and CRLs.
//
// Product: with a known product (CPUID in a v3+ report) only that product's
// root sets may anchor the chain; a leaf that does not chain to one is
// rejected with a reason naming both products. Several trusted sets may share
// a product (AMD's and a configured test root): each is tried. With Product::kUnknown the
// candidates are tried in this order: the leaf's productName, its issuer's CN
// ("SEV-Milan", "SEV-VLEK-Genoa"), then every other trusted set; the first
// that verifies gives the product.
//
// Outcomes: an Error when the leaf's AMD extensions are malformed (vcek.h) or
// verify_chain fails for a reason that is not the chain; otherwise an
// AmdChainVerdict, rejected with a reason when no trusted root anchors it.
// verify_amd_chain is thread-safe; AmdChainCache is thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "concierge/core/chain_cache.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/amd_roots.h"
#include "concierge/evidence/snp/report.h"
#include "concierge/evidence/snp/vcek.h"

namespace concierge::evidence::snp {

struct AmdChainVerdict : Verdict {
  // The product whose ARK anchors the chain when accepted; when rejected, the
  // product that was required (or kUnknown).
  Product product = Product::kUnknown;
  SigningKey kind = SigningKey::kVcek;  // from the leaf's extensions
  VcekInfo info;                        // the leaf's AMD extensions
  // Accepted: leaf, ASK or ASVK, ARK. Empty when rejected.
  std::vector<Certificate> chain;
};

// Verifies `leaf` (a VCEK or VLEK) up to an ARK of `trusted`. `supplied` are
// untrusted candidates (may be empty). `product` is the required product, or
// kUnknown to infer it. Rejections: "no trusted AMD root set for Genoa",
// "VCEK (productName Milan-B0) does not chain to the Genoa ARK: <reason>",
// "VLEK needs an ASVK, and the trusted Milan root set has none", verify_chain's
// reason. kInvalidArgument when `trusted` is empty.
Result<AmdChainVerdict> verify_amd_chain(const Certificate& leaf,
                                         const std::vector<Certificate>& supplied,
                                         const std::vector<AmdRootSet>& trusted, Product product,
                                         const ChainOptions& options = {});

// A cache of accepted chains, so that repeated reports from one chip cost one
// lookup instead of the chain's RSA-4096 signature checks (ARK, ASK, VCEK).
//
// Key: SHA-256 of the leaf DER, the required product, the trusted root sets
// (their certificates' fingerprints) and the CRL set (its CRLs' fingerprints,
// in any order, and require_crl_for_every_ca). Each entry keeps the accepted
// verdict and the time window in which it holds: the latest notBefore and
// the earliest notAfter of the chain's certificates, narrowed by the CRLs'
// thisUpdate / nextUpdate. A lookup whose time (options.at, else now) is
// inside the window is a hit; otherwise the chain is verified again.
// Rejections are never stored. Supplied candidates are not part of the key: a
// chain verified once stays verified (the trusted anchors are in the key).
//
// Thread safety: every member function may be called concurrently; a mutex
// guards the map, and verification runs outside it (two threads missing on
// the same leaf may both verify). When `capacity` entries are stored, an
// arbitrary one is evicted.
class AmdChainCache {
 public:
  explicit AmdChainCache(std::size_t capacity = 4096) : cache_(capacity) {}
  AmdChainCache(const AmdChainCache&) = delete;
  AmdChainCache& operator=(const AmdChainCache&) = delete;

  // verify_amd_chain through the cache (same arguments, same outcomes).
  Result<AmdChainVerdict> verify(const Certificate& leaf, const std::vector<Certificate>& supplied,
                                 const std::vector<AmdRootSet>& trusted, Product product,
                                 const ChainOptions& options = {});

  // The certificate in `der`, parsed once: a bounded memo from the exact DER
  // bytes to the parsed certificate, since every report of a chip carries
  // the same VCEK (and ASK, ARK) and parsing one costs about as much as
  // verifying the report's signature. Same outcomes as
  // Certificate::from_der; failures are not stored. The returned copy
  // shares OpenSSL's X509 object, which is safe to use from several threads.
  Result<Certificate> parse_certificate(ByteView der);

  std::size_t size() const { return cache_.size(); }
  // How many lookups were answered from the cache, and how many verified.
  std::uint64_t hits() const { return cache_.hits(); }
  std::uint64_t verifications() const { return cache_.verifications(); }
  void clear() {
    cache_.clear();
    std::lock_guard lock(parsed_mu_);
    parsed_.clear();
  }

 private:
  static constexpr std::size_t kParsedCapacity = 1024;
  VerifiedChainCache<AmdChainVerdict> cache_;
  std::mutex parsed_mu_;
  std::unordered_map<std::string, Certificate> parsed_;  // DER bytes -> certificate
};

}  // namespace concierge::evidence::snp
