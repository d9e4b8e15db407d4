// Intel DCAP TCB Info: parsing a PCS "TCB info" response and matching a
// platform's TCB against its levels.
//
// Format (Intel SGX/TDX PCS API, "TCB Info V2" and "TCB Info V3" models): the
// response of GET {sgx,tdx}/certification/v4/tcb?fmspc=<fmspc> is
//   {"tcbInfo": {...}, "signature": "<hex r||s>"}
// where the ECDSA P-256 / SHA-256 signature covers the exact bytes of the
// "tcbInfo" value as they appear in the response (see collateral.h,
// split_signed_json). Accepted:
//   - v2 (SGX): "id" absent or "SGX", "version" 2, each level's "tcb" holds
//     sgxtcbcomp01svn..sgxtcbcomp16svn and pcesvn;
//   - v3: "id" "SGX" or "TDX", "version" 3, "tcb" holds sgxtcbcomponents[16]
//     ({svn, category?, type?}) and pcesvn, and for TDX tdxtcbcomponents[16];
//     TDX requires "tdxModule" {mrsigner (48 bytes hex), attributes and
//     attributesMask (8 bytes hex)}; "tdxModuleIdentities" is optional
//     ([{id "TDX_xx", mrsigner, attributes, attributesMask, tcbLevels
//     [{tcb {isvsvn}, tcbDate, tcbStatus, advisoryIDs?}]}]).
// Common fields: issueDate, nextUpdate, tcbDate (RFC 3339), fmspc (6 bytes
// hex), pceId (2 bytes hex), tcbType, tcbEvaluationDataNumber, tcbLevels
// (non-empty), tcbStatus, advisoryIDs (optional array of strings). Unknown
// members are ignored. A tcbStatus Intel has not defined parses as
// TcbStatus::kUnknown (kept with its text) and never matches as acceptable.
// SVNs are read as integers 0..65535: the specification defines component
// SVNs as bytes, but Intel's synthetic QVL sample uses larger values; such a
// level can never be met by a platform's 8-bit SVN (we do not truncate them).
//
// Matching (match_tcb_level) follows the QVL's TCB level selection; see there.
// Errors (kMalformed, kUnsupported for another version/id) are for garbage;
// a platform the collateral does not cover is a rejected Verdict.
// Pure functions on values; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/pck_extension.h"  // kFmspcSize, kPceIdSize
#include "concierge/evidence/dcap/tcb_status.h"

namespace concierge::evidence::dcap {

enum class TeeType { kSgx, kTdx };
std::string_view tee_type_name(TeeType tee);  // "SGX", "TDX"

inline constexpr std::size_t kTcbComponents = kTcbComponentCount;

struct TcbComponent {
  std::uint16_t svn = 0;
  std::string category;  // v3 only, "" when absent
  std::string type;      // v3 only, "" when absent
};
using TcbComponents = std::array<TcbComponent, kTcbComponents>;

struct TcbLevel {
  TcbComponents sgx_components;
  std::uint16_t pcesvn = 0;
  std::optional<TcbComponents> tdx_components;  // TDX only
  TimePoint tcb_date;
  TcbStatus status = TcbStatus::kUnknown;
  std::string status_text;  // as written (differs from the name for kUnknown)
  std::vector<std::string> advisory_ids;
};

// The identity of a TDX module: tcbInfo.tdxModule, or one tdxModuleIdentities entry.
struct TdxModuleIdentity {
  std::string id;         // "TDX_03"; "" for tcbInfo.tdxModule
  Bytes mrsigner;         // 48 bytes
  Bytes attributes;       // 8 bytes
  Bytes attributes_mask;  // 8 bytes
  struct Level {
    std::uint16_t isvsvn = 0;
    TimePoint tcb_date;
    TcbStatus status = TcbStatus::kUnknown;
    std::string status_text;
    std::vector<std::string> advisory_ids;
  };
  std::vector<Level> tcb_levels;  // empty for tcbInfo.tdxModule
};

struct TcbInfo {
  TeeType tee = TeeType::kSgx;
  std::string id;   // "SGX", "TDX", or "" (v2 without "id")
  int version = 0;  // 2 or 3
  TimePoint issue_date;
  TimePoint next_update;
  Bytes fmspc;   // 6 bytes
  Bytes pce_id;  // 2 bytes
  std::uint32_t tcb_type = 0;
  std::uint32_t tcb_evaluation_data_number = 0;
  std::optional<TdxModuleIdentity> tdx_module;  // TDX only (required there)
  std::vector<TdxModuleIdentity> tdx_module_identities;
  std::vector<TcbLevel> tcb_levels;  // in the order given (Intel sorts them descending)
};

// A parsed response with what its signature covers.
struct SignedTcbInfo {
  TcbInfo info;
  std::string signed_body;  // the exact "tcbInfo" value bytes from the response
  Bytes signature;          // r || s, 64 bytes
};

// Parses the inner "tcbInfo" object (JSON text of that object alone).
Result<TcbInfo> parse_tcb_info(std::string_view tcb_info_json);
// Parses a whole PCS response {"tcbInfo": ..., "signature": ...}. The
// signature must be 64 bytes of hex (any case).
Result<SignedTcbInfo> parse_tcb_info_response(std::string_view response);

// ECDSA P-256 / SHA-256 over signed_body with the TCB signing certificate's
// key (the caller verifies that certificate's chain). Errors: a key that is
// not EC (kInvalidArgument, from core).
Result<Verdict> verify_tcb_info_signature(const SignedTcbInfo& tcb, const PublicKey& key);

// What the verifier knows about the platform, from the PCK certificate's SGX
// extensions and (TDX) the quote's TD report.
struct PlatformTcb {
  Bytes fmspc;                                                // 6 bytes
  Bytes pce_id;                                               // 2 bytes
  std::array<std::uint8_t, kTcbComponents> sgx_components{};  // SGXTCBComp01..16 SVN
  std::uint16_t pcesvn = 0;
  // TDX only: TEE_TCB_SVN, MRSIGNERSEAM and SEAM_ATTRIBUTES of the TD report.
  std::optional<std::array<std::uint8_t, kTcbComponents>> tee_tcb_svn;
  std::optional<std::array<std::uint8_t, 48>> mrsignerseam;
  std::optional<std::array<std::uint8_t, 8>> seam_attributes;
};

// The outcome of matching. accepted: a TCB level (and, for TDX, module level)
// applies, and the converged status is not Revoked or Unknown; the policy on
// the other statuses (OutOfDate...) belongs to the caller. On rejection,
// `status` still says what was found when a level matched (e.g. kRevoked).
struct TcbMatch : Verdict {
  TcbStatus status = TcbStatus::kUnknown;           // platform converged with the module
  TcbStatus platform_status = TcbStatus::kUnknown;  // the TCB level's own status
  std::optional<TcbStatus> tdx_module_status;       // when a module identity was used
  std::optional<std::size_t> level_index;           // into TcbInfo::tcb_levels
  std::optional<TimePoint> tcb_date;
  std::vector<std::string> advisory_ids;  // the level's, then the module level's (no duplicates)
};

// Selects the TCB level the platform meets, as Intel's QVL does:
//   1. fmspc and pce_id must equal the TCB info's (else rejected: collateral
//      for another platform);
//   2. TDX TCB info requires tee_tcb_svn; when TEE_TCB_SVN[1] (the TDX module
//      major version) > 0 the module identity "TDX_" + two hex digits of it
//      (compared case-insensitively) must be in tdxModuleIdentities; otherwise
//      tcbInfo.tdxModule is the identity. When mrsignerseam / seam_attributes
//      are given they must equal its mrsigner and, under attributesMask,
//      its attributes. With a tdxModuleIdentities entry, its first tcbLevel
//      whose isvsvn <= TEE_TCB_SVN[0] gives the module status (none: rejected);
//   3. the first tcbLevel (in the order given) where each of the 16 SGX
//      component SVNs >= the level's, pcesvn >= the level's and, for TDX,
//      TEE_TCB_SVN[i] >= tdxtcbcomponents[i].svn for every i (i from 2 when
//      TEE_TCB_SVN[1] > 0: the module's own SVNs are judged by step 2);
//      none: rejected ("TCB level not supported");
//   4. status = converge_tcb_status(level status, module status).
TcbMatch match_tcb_level(const TcbInfo& info, const PlatformTcb& platform);

}  // namespace concierge::evidence::dcap
