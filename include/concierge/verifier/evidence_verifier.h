// One verifier per evidence kind, in one explicit table (evidence_kinds()),
// each turning a device's evidence into its native claims and the normalized
// claims the appraisal policy reads.
//
// Normalized claims (one JSON object per device):
//   "tee"                "snp" | "tdx" | "sgx" | "tpm"
//   "evidence_verified"  the signatures and the chain verified
//   "vendor_chain"       ... to a trusted vendor root (TPM: false, the AK's
//                        trust comes from enrolment, see "signer")
//   "root"               "builtin" (the vendor's root compiled in) or
//                        "configured" (a root the operator trusted explicitly,
//                        e.g. a simulator's test root)
//   "debug"              the guest / enclave is debuggable (TPM: absent)
//   "measurement"        SNP MEASUREMENT, TDX MRTD, SGX MRENCLAVE (hex)
//   "registers"          TDX {"rtmr0".."rtmr3"}, TPM {"pcr<N>"} of the quoted
//                        bank (hex)
//   "log"                with an event log: {"replayed", "matches_registers",
//                        "mismatch" (the first register that differs), and,
//                        when known event digests are configured,
//                        "unknown_events": [{"register", "event", "description",
//                        "digest"}] in log order}
//   "tcb_status"         DCAP's converged status ("unknown" without collateral)
//   "svn"                SNP {"bootloader", "tee", "snp", "microcode"}, SGX
//                        {"isvsvn", "isvprodid"}, TDX {"tee_tcb_svn"}
//   "signer"             who signed: SNP chip_id (or the VLEK's CSP), DCAP
//                        the FMSPC, TPM the SHA-256 of the AK's public key
//   "report_data"        hex (TPM: the quote's extraData)
//   "native"             the kind's own claims (its verifier's JSON)
// Absent members mean "not applicable"; the policy says "absent".
//
// Trust: the context's roots are the only anchors (built-in vendor roots
// unless test roots are configured). A verification that fails is not an
// Error: evidence_verified is false and the reason is kept; Errors are for
// evidence that cannot be understood.
//
// Thread safety: the functions are thread-safe; the caches in the context
// are (they are shared, not owned).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/verify.h"
#include "concierge/evidence/snp/verify.h"
#include "concierge/verifier/envelope.h"

namespace concierge::verifier {

struct VerifierContext {
  // Test roots; empty / unset: the vendors' built-in roots.
  std::vector<evidence::snp::AmdRootSet> snp_roots;
  std::optional<Certificate> intel_root;
  std::vector<Crl> crls;
  // Verification time; now when unset.
  std::optional<TimePoint> at;
  // DCAP collateral folder, used when the envelope carries none.
  std::optional<std::filesystem::path> dcap_collateral_dir;
  // Known event digests (lowercase hex) for "log.unknown_events"; unset: not
  // computed.
  std::optional<std::set<std::string>> known_event_digests;
  // Shared caches (not owned; may be null).
  evidence::snp::AmdChainCache* snp_cache = nullptr;
  evidence::dcap::DcapVerifyCache* dcap_cache = nullptr;
};

struct VerifiedEvidence {
  Verdict verdict;  // the cryptographic outcome (evidence_verified)
  nlohmann::json normalized;
  Bytes report_data;  // for the runtime-data binding
};

struct EvidenceKind {
  std::string_view tee;
  // The runtime-data binding (binding.h): the digest is `binding_hash` of
  // the canonical runtime data, zero-padded to `report_data_size`.
  HashAlg binding_hash;
  std::size_t report_data_size;
  Result<VerifiedEvidence> (*verify)(const DeviceEvidence& device, const VerifierContext& ctx);
};

// The table: snp, tdx, sgx, tpm.
const std::vector<EvidenceKind>& evidence_kinds();
// nullptr for a kind not in the table.
const EvidenceKind* find_evidence_kind(std::string_view tee);

// The kinds' functions, for the table and for tests.
Result<VerifiedEvidence> verify_snp_evidence(const DeviceEvidence& d, const VerifierContext& ctx);
Result<VerifiedEvidence> verify_tdx_evidence(const DeviceEvidence& d, const VerifierContext& ctx);
Result<VerifiedEvidence> verify_sgx_evidence(const DeviceEvidence& d, const VerifierContext& ctx);
Result<VerifiedEvidence> verify_tpm_evidence(const DeviceEvidence& d, const VerifierContext& ctx);

}  // namespace concierge::verifier
