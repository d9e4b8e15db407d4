// One verifier per evidence kind, in one explicit table (evidence_kinds()),
// each turning a device's evidence into its native claims and the normalized
// claims the appraisal policy reads.
//
// Normalized claims (one JSON object per device):
//   "tee"                "snp" | "tdx" | "sgx" | "tpm"
//   "evidence_verified"  the signatures and the chain verified
//   "vendor_chain"       ... to a trusted vendor root (TPM: the AK is an
//                        enrolled one, see "signer" and enrolled_keys)
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
//   "svn"                SNP {"bootloader", "tee", "snp", "microcode", and
//                        "fmc" on Turin} (REPORTED_TCB), SGX
//                        {"isvsvn", "isvprodid"}, TDX {"tee_tcb_svn"}
//   "signer"             who signed: SNP chip_id (or the VLEK's CSP), DCAP
//                        the FMSPC, TPM the SHA-256 of the AK's public key
//   "report_data"        hex (TPM: the quote's extraData)
//   SNP only: "product" (Milan, Genoa, Turin), "vmpl" (the requesting
//   VMPL), "migration_agent" (MIGRATE_MA allowed by the guest policy, or a
//   migration agent bound: REPORT_ID_MA not all 0xFF), "tcb_minimum"
//   {"met", "minimum", "below" (the first SPL under it)} against
//   VerifierContext::snp_min_tcb
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

#include <cstdint>
#include <filesystem>
#include <map>
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

// SEV-SNP: the lowest REPORTED_TCB accepted for a product, SPL by SPL
// (fmc: Turin only).
struct SnpMinTcb {
  int bootloader = 0;
  int tee = 0;
  int snp = 0;
  int microcode = 0;
  std::optional<int> fmc;
};
// The documented defaults (docs/policy.md), by AMD's product name: Milan
// BL 4, TEE 0, SNP 22, microcode 213; Genoa BL 9, TEE 0, SNP 22, microcode
// 84; Turin FMC 1, BL 1, TEE 1, SNP 3, microcode 72.
const std::map<std::string, SnpMinTcb>& default_snp_min_tcb();
// {"Milan": {"bootloader": 4, ...}, ...} -> the table; kMalformed naming
// the member for an unknown product or SPL, or a value outside 0..255.
Result<std::map<std::string, SnpMinTcb>> parse_snp_min_tcb(const nlohmann::json& j);

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
  // For a kind whose hardware trust is an enrolled key (EvidenceKind::
  // enrolled_keys; TPM: "ak:<SHA-256 of the AK's SubjectPublicKeyInfo>",
  // lowercase): the enrolled ones. Evidence signed by another key, or with
  // this unset, is rejected (evidence_verified false).
  std::optional<std::set<std::string>> enrolled_keys;
  // For a kind with EvidenceKind::required_registers (TPM: "tpm.required_pcr",
  // values "0".."23"): the registers the evidence must report, whatever the
  // attester chose to quote; evidence without one of them is rejected.
  std::set<std::string> required_registers;
  // DCAP: the lowest tcbEvaluationDataNumber accepted in collateral a guest
  // sends (used only when the operator configured no collateral folder).
  std::uint32_t dcap_min_evaluation_number = 0;
  // SEV-SNP: the minimum REPORTED_TCB per product ("tcb_minimum" claim).
  std::map<std::string, SnpMinTcb> snp_min_tcb = default_snp_min_tcb();
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
  // Its evidence comes with an event log (the "<tee>.event_digest" set).
  bool event_log = false;
  // The reference set of enrolled signing keys its hardware trust rests on
  // (VerifierContext::enrolled_keys), or nullptr.
  const char* enrolled_keys = nullptr;
  // The reference set naming the registers it must report
  // (VerifierContext::required_registers), or nullptr.
  const char* required_registers = nullptr;
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
