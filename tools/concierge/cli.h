// Shared plumbing of the `concierge` program: exit codes, error reporting,
// file I/O, and the registration hooks of each subcommand family.
//
// Exit codes (every subcommand): 0 success / authentic, 1 rejected (a trust
// outcome), 2 malformed input or usage. Errors are one line on stderr.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/amd_roots.h"

namespace concierge::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitMalformed = 2;

// Where a subcommand's callback leaves the process exit code.
struct Context {
  int exit_code = kExitOk;
};

// Prints "concierge: <what>: <error>" on one line and returns kExitMalformed.
// Both print their text made printable (core/printable.h): a reason may
// come from a broker, a file or a device.
int report(const std::string& what, const Error& error);
// Prints "concierge: rejected: <reason>" and returns kExitRejected.
int report_rejected(const std::string& reason);

Result<Bytes> read_file(const std::string& path);
Result<void> write_file(const std::string& path, ByteView data);
Result<void> write_text(const std::string& path, const std::string& text);

// Certificates and CRLs from files, PEM or DER (told apart by a PEM header).
bool looks_like_pem(ByteView data);
Result<Certificate> load_certificate(const std::string& path);
Result<std::vector<Certificate>> load_certificates(const std::string& path);  // a bundle
Result<Crl> load_crl(const std::string& path);
// A trusted SEV-SNP root set from one PEM bundle: the ARK (self-signed; its
// subject names the product), the ASK, optionally the ASVK.
Result<evidence::snp::AmdRootSet> load_snp_root_set(const std::string& path);

// Subcommand families, one file each.
void register_eventlog(CLI::App& app, Context& ctx);
void register_ima(CLI::App& app, Context& ctx);
void register_boot(CLI::App& app, Context& ctx);
void register_tpm(CLI::App& app, Context& ctx);
// Under `tpm`: the commands that talk to a TPM (cmd_tpm_attest.cc).
void register_tpm_attester(CLI::App& tpm, Context& ctx);
// Under `tpm`: enrolment checks from public data (cmd_tpm_credential.cc).
void register_tpm_verifier(CLI::App& tpm, Context& ctx);
// `snp show` and the `snp` family (cmd_snp.cc).
void register_snp(CLI::App& app, Context& ctx);
// Under `snp`: collecting a report inside a guest (cmd_snp_attest.cc).
void register_snp_attester(CLI::App& snp, Context& ctx);
// Under `snp`: the software AMD secure processor (cmd_snp_simulate.cc).
void register_snp_simulator(CLI::App& snp, Context& ctx);
// `verify <kind>`: one subcommand per evidence kind (cmd_verify.cc).
void register_verify(CLI::App& app, Context& ctx);
void register_verify_snp(CLI::App& verify, Context& ctx);  // cmd_snp_verify.cc
// `tdx` and `sgx` families: decoding quotes (cmd_dcap.cc).
void register_dcap(CLI::App& app, Context& ctx);
// Under `tdx`: collecting a quote and the CCEL log inside a TD (cmd_tdx_attest.cc).
void register_tdx_attester(CLI::App& tdx, Context& ctx);
// Under `tdx` and `sgx`: the software quoting enclave (cmd_dcap_simulate.cc);
// `tdx` is true under `tdx`.
void register_dcap_simulator(CLI::App& family, Context& ctx, bool tdx);
// `verify tdx` and `verify sgx` (cmd_dcap_verify.cc).
void register_verify_dcap(CLI::App& verify, Context& ctx);
// `appraise` (cmd_appraise.cc) and `envelope make` (cmd_envelope.cc).
void register_appraise(CLI::App& app, Context& ctx);
void register_envelope(CLI::App& app, Context& ctx);
// The key broker (cmd_serve.cc), its owner's client (cmd_admin.cc) and the
// in-guest agent (cmd_agent.cc).
void register_serve(CLI::App& app, Context& ctx);
void register_admin(CLI::App& app, Context& ctx);
void register_agent(CLI::App& app, Context& ctx);

}  // namespace concierge::cli
