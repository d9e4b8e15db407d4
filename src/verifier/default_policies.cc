// The appraisal policies compiled into the program, one per TEE (policy.h;
// docs/policy.md explains every rule and its values).
#include <string>

#include "concierge/verifier/policy.h"

namespace concierge::verifier {
namespace {

// Hardware: the built-in crypto check (evidence_verified) comes first in the
// engine; then the chain must end at a trusted root. Only the vendors' roots
// are trusted unless the operator configures another explicitly (a
// simulator's test root, for tests and demos): that is the operator's
// decision, and the claims say which it was ("root": "builtin" or
// "configured", kept in the EAR's annotated evidence) for a stricter policy
// to require "builtin". TPM: the AK must be an enrolled one (tpm.ak); the
// verifier rejects any other (evidence_verifier.h), so no policy can drop it.
//
// Event logs: "log.unknown_events" lists the events whose digests are not
// among the "<tee>.event_digest" reference values (appraise.h: all of them
// when there are none); a non-empty list is named in the explanation. The
// "not empty: false" form also lets a caller that does not compute the list
// (no event log judged) leave it absent.
constexpr std::string_view kSnp = R"json({
  "id": "concierge/default-snp",
  "version": 1,
  "description": "AMD SEV-SNP guests: vendor chain, minimum TCB, no debug, no migration agent, VMPL 0, launch measurement among the reference values, bound to the runtime data",
  "rules": [
    {"id": "genuine-hardware", "claim": "hardware",
     "when": {"path": "vendor_chain", "equals": true},
     "then": 2, "else": 32,
     "explain": "the report is signed by a VCEK or VLEK whose chain ends at a trusted AMD root (built in, or configured explicitly)"},
    {"id": "tcb-minimum", "claim": "hardware",
     "when": {"path": "tcb_minimum.met", "equals": true}, "then": 2, "else": 96,
     "explain": "every SPL of REPORTED_TCB (bootloader, TEE, SNP, microcode; FMC on Turin) is at least the configured minimum for the product"},
    {"id": "no-debug", "claim": "configuration",
     "when": {"path": "debug", "equals": false}, "then": 2, "else": 96,
     "explain": "the guest policy forbids debugging, so the host cannot read or change guest memory"},
    {"id": "no-migration-agent", "claim": "configuration",
     "when": {"path": "migration_agent", "equals": false}, "then": 2, "else": 96,
     "explain": "the guest policy allows no migration agent (MIGRATE_MA clear) and none is bound (REPORT_ID_MA all 0xFF): no other party can export the guest's state"},
    {"id": "host-data", "claim": "configuration",
     "when": {"any": [{"path": "host_data", "equals": "0000000000000000000000000000000000000000000000000000000000000000"},
                      {"path": "host_data", "in_refs": "snp.host_data"}]},
     "then": 2, "else": 96,
     "explain": "HOST_DATA, which the host sets at launch, is zero or one of snp.host_data (e.g. the digest of the guest's init-data)"},
    {"id": "vmpl-0", "claim": "configuration",
     "when": {"path": "vmpl", "equals": 0}, "then": 2, "else": 96,
     "explain": "the report was requested from VMPL 0, the guest's most privileged level"},
    {"id": "known-measurement", "claim": "executables",
     "when": {"path": "measurement", "in_refs": "snp.measurement"}, "then": 2, "else": 33,
     "explain": "the launch measurement is one of the reference values of snp.measurement"},
    {"id": "encrypted-memory", "claim": "runtime-opaque",
     "when": {"path": "tee", "equals": "snp"}, "then": 2, "else": 96,
     "explain": "SEV-SNP encrypts and integrity-protects guest memory"},
    {"id": "bound-to-key", "claim": "instance-identity",
     "applies_if": {"path": "binding", "exists": true},
     "when": {"path": "binding", "equals": true}, "then": 2, "else": 96,
     "explain": "REPORT_DATA is the hash of the runtime data (nonce and key) sent with the evidence"}
  ]
})json";

constexpr std::string_view kTdx = R"json({
  "id": "concierge/default-tdx",
  "version": 1,
  "description": "Intel TDX trust domains: PCK chain to Intel's root, TCB status, no debug, MRTD and RTMRs among the reference values, event log explained, bound to the runtime data",
  "rules": [
    {"id": "genuine-hardware", "claim": "hardware",
     "when": {"path": "vendor_chain", "equals": true},
     "then": 2, "else": 32,
     "explain": "the quote's PCK chain ends at a trusted Intel root (built in, or configured explicitly)"},
    {"id": "tcb-not-revoked", "claim": "hardware",
     "when": {"path": "tcb_status", "one_of": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
              "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]},
     "then": 2, "else": 96,
     "explain": "the platform's TCB level is known to Intel's collateral and not revoked"},
    {"id": "tcb-up-to-date", "claim": "hardware",
     "when": {"path": "tcb_status", "equals": "UpToDate"}, "then": 2, "else": 32,
     "explain": "the platform's TCB is up to date (no hardening or configuration needed)"},
    {"id": "no-debug", "claim": "configuration",
     "when": {"path": "debug", "equals": false}, "then": 2, "else": 96,
     "explain": "the TD is not debuggable (TD_ATTRIBUTES.DEBUG clear)"},
    {"id": "not-migratable", "claim": "configuration",
     "when": {"all": [{"path": "migratable", "equals": false},
                      {"any": [{"path": "service_td", "exists": false},
                               {"path": "service_td", "equals": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
                               {"path": "service_td", "in_refs": "tdx.mrservicetd"}]}]},
     "then": 2, "else": 96,
     "explain": "the TD cannot be migrated (TD_ATTRIBUTES.MIGRATABLE clear) and has no service TD unless one of tdx.mrservicetd"},
    {"id": "launch-config", "claim": "configuration",
     "when": {"all": [{"any": [{"path": "launch_config.mrconfigid", "equals": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
                               {"path": "launch_config.mrconfigid", "in_refs": "tdx.mrconfigid"}]},
                      {"any": [{"path": "launch_config.mrowner", "equals": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
                               {"path": "launch_config.mrowner", "in_refs": "tdx.mrowner"}]},
                      {"any": [{"path": "launch_config.mrownerconfig", "equals": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
                               {"path": "launch_config.mrownerconfig", "in_refs": "tdx.mrownerconfig"}]}]},
     "then": 2, "else": 96,
     "explain": "MRCONFIGID, MROWNER and MROWNERCONFIG, which the host sets at launch, are zero or among tdx.mrconfigid, tdx.mrowner, tdx.mrownerconfig"},
    {"id": "known-measurement", "claim": "executables",
     "when": {"all": [{"path": "measurement", "in_refs": "tdx.mrtd"},
                      {"path": "registers", "each_in_refs": "tdx."}]},
     "then": 2, "else": 33,
     "explain": "MRTD is one of tdx.mrtd, and every RTMR with reference values (tdx.rtmr0..tdx.rtmr3) matches one; at least one RTMR must have some"},
    {"id": "log-explained", "claim": "executables",
     "applies_if": {"path": "log", "exists": true},
     "when": {"all": [{"path": "log.matches_registers", "equals": true},
                      {"not": {"path": "log.unknown_events", "empty": false}}]},
     "then": 2, "else": 33,
     "explain": "the event log replays to the RTMRs and every event in it is known"},
    {"id": "encrypted-memory", "claim": "runtime-opaque",
     "when": {"path": "tee", "equals": "tdx"}, "then": 2, "else": 96,
     "explain": "TDX encrypts and integrity-protects TD memory"},
    {"id": "bound-to-key", "claim": "instance-identity",
     "applies_if": {"path": "binding", "exists": true},
     "when": {"path": "binding", "equals": true}, "then": 2, "else": 96,
     "explain": "REPORTDATA is the hash of the runtime data (nonce and key) sent with the evidence"}
  ]
})json";

constexpr std::string_view kSgx = R"json({
  "id": "concierge/default-sgx",
  "version": 1,
  "description": "Intel SGX enclaves: PCK chain to Intel's root, TCB status, no debug, MRENCLAVE or MRSIGNER among the reference values, bound to the runtime data",
  "rules": [
    {"id": "genuine-hardware", "claim": "hardware",
     "when": {"path": "vendor_chain", "equals": true},
     "then": 2, "else": 32,
     "explain": "the quote's PCK chain ends at a trusted Intel root (built in, or configured explicitly)"},
    {"id": "tcb-not-revoked", "claim": "hardware",
     "when": {"path": "tcb_status", "one_of": ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
              "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"]},
     "then": 2, "else": 96,
     "explain": "the platform's TCB level is known to Intel's collateral and not revoked"},
    {"id": "tcb-up-to-date", "claim": "hardware",
     "when": {"path": "tcb_status", "equals": "UpToDate"}, "then": 2, "else": 32,
     "explain": "the platform's TCB is up to date (no hardening or configuration needed)"},
    {"id": "no-debug", "claim": "configuration",
     "when": {"path": "debug", "equals": false}, "then": 2, "else": 96,
     "explain": "the enclave is not debuggable (ATTRIBUTES.DEBUG clear)"},
    {"id": "known-enclave", "claim": "executables",
     "when": {"any": [{"path": "measurement", "in_refs": "sgx.mrenclave"},
                      {"path": "native.mrsigner", "in_refs": "sgx.mrsigner"}]},
     "then": 2, "else": 33,
     "explain": "MRENCLAVE is one of sgx.mrenclave, or MRSIGNER one of sgx.mrsigner"},
    {"id": "encrypted-memory", "claim": "runtime-opaque",
     "when": {"path": "tee", "equals": "sgx"}, "then": 2, "else": 96,
     "explain": "SGX encrypts enclave memory"},
    {"id": "bound-to-key", "claim": "instance-identity",
     "applies_if": {"path": "binding", "exists": true},
     "when": {"path": "binding", "equals": true}, "then": 2, "else": 96,
     "explain": "REPORTDATA is the hash of the runtime data (nonce and key) sent with the evidence"}
  ]
})json";

constexpr std::string_view kTpm = R"json({
  "id": "concierge/default-tpm",
  "version": 1,
  "description": "TPM 2.0 quotes: EK chain to the manufacturer, PCRs among the reference values, event log explained, bound to the runtime data",
  "rules": [
    {"id": "genuine-hardware", "claim": "hardware",
     "when": {"path": "vendor_chain", "equals": true},
     "then": 2, "else": 32,
     "explain": "the quote is signed by an enrolled AK (tpm.ak: enrolment proved, by credential activation, that the AK lives in the TPM whose EK certificate chains to its manufacturer); the verifier enforces this whatever the policy"},
    {"id": "known-pcrs", "claim": "executables",
     "when": {"path": "registers", "each_in_refs": "tpm."}, "then": 2, "else": 33,
     "explain": "every PCR with reference values (tpm.pcr0..tpm.pcr23) is quoted and matches one; at least one PCR must have some"},
    {"id": "log-explained", "claim": "executables",
     "applies_if": {"path": "log", "exists": true},
     "when": {"all": [{"path": "log.matches_registers", "equals": true},
                      {"not": {"path": "log.unknown_events", "empty": false}}]},
     "then": 2, "else": 33,
     "explain": "the event log replays to the quoted PCRs and every event in it is known"},
    {"id": "bound-to-key", "claim": "instance-identity",
     "applies_if": {"path": "binding", "exists": true},
     "when": {"path": "binding", "equals": true}, "then": 2, "else": 96,
     "explain": "the quote's qualifying data is the hash of the runtime data (nonce and key)"}
  ]
})json";

}  // namespace

std::vector<std::string_view> default_policy_names() { return {"tpm", "snp", "tdx", "sgx"}; }

std::string_view default_policy_text(std::string_view tee) {
  if (tee == "snp") return kSnp;
  if (tee == "tdx") return kTdx;
  if (tee == "sgx") return kSgx;
  if (tee == "tpm") return kTpm;
  return {};
}

Result<Policy> default_policy(std::string_view tee) {
  const std::string_view text = default_policy_text(tee);
  if (text.empty()) {
    return fail(Errc::kNotFound,
                "no default policy for '" + std::string(tee) + "' (there are: tpm, snp, tdx, sgx)");
  }
  return parse_policy(text);
}

}  // namespace concierge::verifier
