// SEV-SNP evidence verification: an attestation report, its VCEK or VLEK, the
// AMD chain to a trusted ARK, and the report's own consistency with them.
//
// Steps, each its own outcome (the first failure decides):
//   1. parse the report (report.h); malformed -> Error;
//   2. find the endorsement key certificate for the report's SIGNING_KEY: the
//      one given, else the certificate table of the extended report, else the
//      KDS cache folder (kds_cache.h); none -> Error kNotFound (the caller has
//      not supplied what verification needs; not a trust outcome);
//   3. the product: from CPUID (v3+), else from the certificate
//      (productName / issuer), settled by which trusted ARK anchors the chain;
//   4. the chain VCEK -> ASK -> ARK (VLEK -> ASVK -> ARK) to the trusted roots,
//      as of `at`, with the CRLs (amd_chain.h); rejected -> Verdict;
//   5. the certificate matches the report: hwID = CHIP_ID, SPLs = REPORTED_TCB
//      (vcek.h); rejected -> Verdict;
//   6. the ECDSA P-384/SHA-384 signature over bytes 0x000-0x29F with the
//      certificate's key; rejected -> Verdict;
//   7. REPORT_DATA equals the expected value when one is given.
//
// Trust: only `trusted_roots` anchor chains. They default to AMD's built-in
// roots; a simulator's test roots are trusted only when put here explicitly.
//
// Thread safety: verify_snp is thread-safe; the cache it may use is too.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/amd_chain.h"
#include "concierge/evidence/snp/amd_roots.h"
#include "concierge/evidence/snp/cert_table.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::evidence::snp {

struct SnpVerifyOptions {
  // The VCEK or VLEK, when the caller has it (e.g. --vcek).
  std::optional<Certificate> endorsement_key;
  // The extended report's certificate table (VCEK/VLEK, ASK/ASVK, ARK).
  std::vector<CertTableEntry> cert_table;
  // Extra untrusted certificates (a PEM bundle given by the caller).
  std::vector<Certificate> supplied;
  // A folder laid out like AMD's KDS (kds_cache.h), searched last.
  std::optional<std::filesystem::path> kds_dir;
  // Verification time ("as of"); now when unset. CRLs to check, if any; with a
  // KDS folder its CRL is added when present.
  std::optional<TimePoint> at;
  std::vector<Crl> crls;
  // The REPORT_DATA the verifier expects (1 to 64 bytes; shorter values are
  // compared with zero padding to 64 bytes).
  std::optional<Bytes> expected_report_data;
  // The trusted roots; empty means builtin_amd_roots().
  std::vector<AmdRootSet> trusted_roots;
  // Optional cache of verified chains (not owned; must outlive the call).
  AmdChainCache* cache = nullptr;
};

struct SnpVerification {
  Verdict verdict;
  AttestationReport report;
  Product product = Product::kUnknown;
  // The decoded report (report_claims) plus "signing_key", "endorsement" (the
  // certificate's AMD extensions, vcek_claims), "csp_id" for a VLEK, and
  // "verified". Filled as far as verification got.
  nlohmann::json claims;
};

// Errors: a malformed report (any Errc of parse_report), a malformed
// certificate or table, no endorsement key found (kNotFound), an expected
// report data longer than 64 bytes (kInvalidArgument).
Result<SnpVerification> verify_snp(ByteView report, const SnpVerifyOptions& options);

}  // namespace concierge::evidence::snp
