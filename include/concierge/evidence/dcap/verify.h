// Verification of Intel DCAP (ECDSA) quotes, SGX and TDX, as Intel's Quote
// Verification Library (QVL) does it.
//
// Steps, each its own outcome (the first failure decides):
//   1. parse the quote (quote.h); malformed -> Error;
//   2. the quote is of the expected TEE (TDX or SGX) when one is asked for;
//   3. the PCK chain: DcapVerifyOptions::pck_chain when given, else the
//      quote's certification data type 5 (PEM: PCK leaf, Platform/Processor
//      CA, root); none (types 1-4 carry only PPID forms) -> Error kNotFound.
//      Verified to the trusted root as of `at` with the CRLs (pck_chain.h);
//   4. the QE report signature: ECDSA P-256/SHA-256 over the 384-byte QE
//      report with the PCK key (SGX ECDSA Quote Library API A.4.4, TDX DCAP
//      Quoting Library API A.3.9);
//   5. the QE report binds the attestation key: report_data[0:32] ==
//      SHA-256(attestation key x||y || QE authentication data) and
//      report_data[32:64] is zero;
//   6. the quote signature: ECDSA P-256/SHA-256 with the attestation key over
//      layout.signed_data (v3/v4: header || body; v5: header || body type ||
//      body size || body);
//   7. REPORT_DATA equals the expected value when one is given;
//   8. TDX with a CCEL log: the log replays to the quote's RTMR0-3 (ccel.h),
//      then, with reference values, every RTMR and event is known (naming
//      the first event that is not);
//   9. collateral, when given (a folder of saved PCS responses, or collateral
//      already loaded): the TCB Signing chain to the same root, both
//      signatures, freshness at `at`, the FMSPC/PCE-ID of the PCK
//      certificate, the TCB level (SGX components and PCESVN from the PCK
//      certificate, TDX TEE_TCB_SVN from the TD report), the QE identity
//      (collateral.h). The converged status and advisory IDs become claims;
//      a status outside `acceptable_tcb` rejects. Without collateral the
//      status is Unknown and is not judged: signatures and chains still are.
//
// Trust: the only anchor is `root` (default: the built-in Intel SGX Root CA).
// A simulator's or Intel's sample test root verifies only when put there.
//
// Cost: with a DcapVerifyCache, a quote whose PCK chain (by the exact bytes
// of its certification data) and collateral (by the exact signed bodies and
// chain) were verified before, and whose verification time is still inside
// their window, costs the two P-256 verifications of steps 4 and 6.
//
// Thread safety: verify_dcap is thread-safe; so is DcapVerifyCache.
#pragma once

#include <atomic>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/chain_cache.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/ccel.h"
#include "concierge/evidence/dcap/collateral.h"
#include "concierge/evidence/dcap/pck_chain.h"
#include "concierge/evidence/dcap/quote.h"
#include "concierge/evidence/dcap/tcb_status.h"

namespace concierge::evidence::dcap {

// A PCK chain that verified, with what later steps need from it.
struct VerifiedPck {
  PckChainVerdict chain;  // accepted
  PublicKey key;          // the PCK leaf's key
};

// Collateral whose TCB Signing chain and signatures verified. Looked up by
// the signatures, root and CRLs; served only when the signed bodies are byte
// for byte these (the chain presented with them is then not needed).
struct VerifiedCollateralSignatures {
  std::vector<Certificate> tcb_signing_chain;  // TCB Signing, root
  std::string tcb_info_body;
  std::string qe_identity_body;
};

// Caches of verified PCK chains and collateral signatures, keyed by exact
// bytes (the certification data; the collateral's signatures, then its bodies
// compared) and the trust configuration (root, CRLs); each entry holds within
// the validity window of its certificates and CRLs (core/chain_cache.h).
// Rejections are never stored. Thread-safe; not copyable.
class DcapVerifyCache {
 public:
  explicit DcapVerifyCache(std::size_t capacity = 4096)
      : pck_(capacity), collateral_(capacity), attestation_keys_(capacity) {}

  VerifiedChainCache<std::shared_ptr<const VerifiedPck>>& pck() { return pck_; }
  VerifiedChainCache<std::shared_ptr<const VerifiedCollateralSignatures>>& collateral() {
    return collateral_;
  }
  // Attestation keys imported from their x||y bytes (a QE keeps one key for
  // many quotes; importing and checking the point costs a fifth of an ECDSA
  // verification). Never expires: the bytes are the key.
  VerifiedChainCache<std::shared_ptr<const PublicKey>>& attestation_keys() {
    return attestation_keys_;
  }
  // The highest tcbEvaluationDataNumber of verified collateral a guest sent:
  // collateral older than what this process has seen is refused (a guest
  // cannot roll the TCB evaluation back to before a revocation).
  std::uint32_t highest_evaluation_number() const { return highest_evaluation_.load(); }
  void note_evaluation_number(std::uint32_t n) {
    std::uint32_t seen = highest_evaluation_.load();
    while (n > seen && !highest_evaluation_.compare_exchange_weak(seen, n)) {
    }
  }
  std::uint64_t hits() const { return pck_.hits() + collateral_.hits(); }
  std::uint64_t verifications() const { return pck_.verifications() + collateral_.verifications(); }

 private:
  VerifiedChainCache<std::shared_ptr<const VerifiedPck>> pck_;
  VerifiedChainCache<std::shared_ptr<const VerifiedCollateralSignatures>> collateral_;
  VerifiedChainCache<std::shared_ptr<const PublicKey>> attestation_keys_;
  std::atomic<std::uint32_t> highest_evaluation_{0};
};

// The statuses accepted by default: the platform is patched; configuration or
// software hardening advice is reported (claims) for the policy to judge.
std::vector<TcbStatus> default_acceptable_tcb();

struct DcapVerifyOptions {
  // The expected TEE: a quote of the other one is rejected. Unset: either.
  std::optional<TeeType> expected_tee;
  // The trust anchor; unset: the built-in Intel SGX Root CA.
  std::optional<Certificate> root;
  // The PCK leaf first, then its CA (untrusted). When given, used instead of
  // the quote's certification data: for quotes that carry no chain (types
  // 1-4) or a placeholder (Intel's TDX sample), as Intel's QVL sample app
  // takes the PCK certificate from files. Still verified to `root`.
  std::vector<Certificate> pck_chain;
  // Root CA CRL, PCK CRLs.
  std::vector<Crl> crls;
  // Verification time ("as of"); now when unset.
  std::optional<TimePoint> at;
  // The REPORT_DATA the verifier expects (1 to 64 bytes; shorter values are
  // compared with zero padding to 64 bytes).
  std::optional<Bytes> expected_report_data;
  // TDX: the CCEL event log (the log area; padding allowed), and reference
  // values for its replay ("pcr" i = RTMR i, bank sha384; ccel.h).
  std::optional<Bytes> ccel_log;
  std::optional<measure::ReferenceValues> rtmr_reference;
  // Collateral already loaded (takes precedence), or a folder laid out as
  // collateral.h describes, read for the PCK certificate's FMSPC.
  std::shared_ptr<const Collateral> collateral;
  std::optional<std::filesystem::path> collateral_dir;
  // The converged TCB statuses that pass when collateral is checked.
  std::vector<TcbStatus> acceptable_tcb = default_acceptable_tcb();
  // Optional cache (not owned; must outlive the call).
  DcapVerifyCache* cache = nullptr;
};

struct DcapVerification {
  Verdict verdict;
  Quote quote;
  // What the collateral said; kUnknown without collateral (or when the
  // verification stopped before it).
  TcbStatus tcb_status = TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
  bool collateral_checked = false;
  // quote_claims (quote.h), plus "fmspc", "pck" (pck_extension_claims and
  // "ca"), "tcb_status" (Intel's name or "unknown"), "advisory_ids", "tcb_date"
  // (when collateral gave one), "collateral" (issue dates, evaluation data
  // number), "ccel" (rtmr_replay_json, with a CCEL log) and "verified".
  // Filled as far as verification got.
  nlohmann::json claims;
};

// Errors: a malformed quote (parse_quote), a malformed certificate in the
// quote, no PCK chain (kNotFound), unreadable collateral (load_collateral),
// a malformed CCEL log (replay_ccel) or one given with an SGX quote
// (kInvalidArgument),
// an expected report data longer than 64 bytes (kInvalidArgument).
Result<DcapVerification> verify_dcap(ByteView quote, const DcapVerifyOptions& options);

}  // namespace concierge::evidence::dcap
