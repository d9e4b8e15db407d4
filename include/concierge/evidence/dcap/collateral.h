// Intel DCAP collateral: signed PCS JSON, a folder of saved PCS responses, and
// the whole collateral check (signatures, freshness, TCB level, QE identity).
//
// Signed JSON (Intel SGX/TDX PCS API, TCB Info and Enclave Identity
// responses): {"<body key>": {...}, "signature": "<hex>"}. The signature
// covers the exact bytes of the body value as they appear in the response
// text, so split_signed_json locates that substring with a JSON-aware scan
// (strings and escapes respected) instead of re-serialising.
//
// Folder layout (no networking; the operator saves PCS responses):
//   DIR/tcb/<fmspc>.json                  TCB info response (SGX or TDX), or
//   DIR/<tee>/certification/v4/tcb?fmspc=<fmspc>   the PCS path, <tee> = sgx|tdx
//   DIR/qe/identity.json                  QE identity response, or
//   DIR/<tee>/certification/v4/qe/identity         (tdx: the TD_QE identity)
//   DIR/tcb_signing_chain.pem             TCB signing chain: the PCS returns it
//       in the "TCB-Info-Issuer-Chain" response header (URL-encoded PEM:
//       leaf "Intel SGX TCB Signing", then the root); the operator saves it in
//       this file, decoded or still URL-encoded (both are read).
// <fmspc> is lowercase hex; an uppercase file name is found too. The first
// form found wins, in the order listed. Everything read here is untrusted
// until verify_collateral accepts it with a key whose chain the caller has
// verified (chain verification is not done here).
// Outcomes: a missing file is kNotFound, an unreadable one kIo, one that does
// not parse kMalformed (messages name the path). Thread-safe (read-only).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/qe_identity.h"
#include "concierge/evidence/dcap/tcb_info.h"
#include "concierge/evidence/dcap/tcb_status.h"

namespace concierge::evidence::dcap {

// The raw body and the signature of a signed PCS response.
struct SignedJson {
  std::string_view body;  // a view into the response text: the value of `body_key`
  Bytes signature;        // hex-decoded "signature"
};

// The response must be one JSON object (strict parse) whose top level has
// `body_key` (an object) and "signature" (a hex string) exactly once each.
// Errors: kMalformed (not JSON, a missing/duplicated/mistyped member).
Result<SignedJson> split_signed_json(std::string_view response, std::string_view body_key);

struct Collateral {
  SignedTcbInfo tcb_info;
  SignedQeIdentity qe_identity;
  std::vector<Certificate> tcb_signing_chain;  // as stored (leaf first for PCS)
  std::filesystem::path tcb_info_path;
  std::filesystem::path qe_identity_path;
};

// Reads a folder laid out as above for one FMSPC (6 bytes) and TEE.
Result<Collateral> load_collateral(const std::filesystem::path& dir, ByteView fmspc, TeeType tee);

// The same three documents from files named by the caller (e.g. Intel's
// sample collateral); each read and parsed as above.
Result<Collateral> load_collateral_files(const std::filesystem::path& tcb_info,
                                         const std::filesystem::path& qe_identity,
                                         const std::filesystem::path& tcb_signing_chain);

// The TCB signing key of a stored chain: the first certificate that is not
// self-signed (the "Intel SGX TCB Signing" leaf, whatever the order), else the
// first. kNotFound when the chain is empty.
Result<PublicKey> tcb_signing_key(const std::vector<Certificate>& chain);

struct CollateralVerdict : Verdict {
  // Platform, module and QE converged; set also when a matched level rejects
  // (Revoked), kUnknown when no level matched.
  TcbStatus status = TcbStatus::kUnknown;
  TcbMatch tcb;                           // the TCB level match
  QeMatch qe;                             // the QE identity match
  std::vector<std::string> advisory_ids;  // TCB level's, module's, then QE's (no duplicates)
};

// The whole check, in order (the first failure rejects, naming it):
//   1. the TCB info and QE identity signatures, with `tcb_signing_key`;
//   2. freshness of both at `at` (check_collateral_fresh);
//   3. the QE identity is for the TEE: TD_QE for TDX TCB info, QE for SGX;
//   4. match_tcb_level, then match_qe_identity;
//   5. status = converge_tcb_status(TCB status, QE status), accepted unless
//      it is Revoked or Unknown (the caller's policy judges the rest).
// Errors only for an unusable key (from core's ECDSA verification).
Result<CollateralVerdict> verify_collateral(const SignedTcbInfo& tcb_info,
                                            const SignedQeIdentity& qe_identity,
                                            const PublicKey& tcb_signing_key,
                                            const PlatformTcb& platform,
                                            const QeReportFields& qe_report, TimePoint at);

// Step 1 alone: both signatures with `tcb_signing_key` (the first failure
// rejects). Errors only for an unusable key.
Result<Verdict> verify_collateral_signatures(const SignedTcbInfo& tcb_info,
                                             const SignedQeIdentity& qe_identity,
                                             const PublicKey& tcb_signing_key);
// Steps 2 to 5 alone, on collateral whose signatures the caller has checked
// (e.g. once, then cached).
CollateralVerdict appraise_collateral(const TcbInfo& info, const QeIdentity& qe,
                                      const PlatformTcb& platform, const QeReportFields& qe_report,
                                      TimePoint at);

// Field readers shared by the DCAP parsers; not part of the API. `path` names
// the member in errors ("tcbLevels[1].tcb.pcesvn"); each fails with kMalformed.
namespace detail {
using Json = nlohmann::json;
// A strict parse (exceptions off) that must give an object.
Result<Json> parse_json_object(std::string_view text, std::string_view what);
const Json* find_member(const Json& object, std::string_view key);  // nullptr when absent
Result<const Json*> require_member(const Json& object, std::string_view key,
                                   const std::string& path);
Result<std::uint64_t> read_uint(const Json& object, std::string_view key, std::uint64_t max,
                                const std::string& path);
Result<std::string> read_string(const Json& object, std::string_view key, const std::string& path);
Result<TimePoint> read_time(const Json& object, std::string_view key, const std::string& path);
// Hex of exactly `size` bytes, either case.
Result<Bytes> read_hex(const Json& object, std::string_view key, std::size_t size,
                       const std::string& path);
// "advisoryIDs": optional array of strings.
Result<std::vector<std::string>> read_advisory_ids(const Json& object, const std::string& path);
Error field_error(const std::string& path, std::string message);
}  // namespace detail

}  // namespace concierge::evidence::dcap
