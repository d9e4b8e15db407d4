// Intel DCAP Enclave Identity (QE Identity): parsing a PCS "QE identity"
// response and matching a quoting enclave's report against it.
//
// Format (Intel SGX/TDX PCS API, "Enclave Identity V2" model): the response of
// GET {sgx,tdx}/certification/v4/qe/identity is
//   {"enclaveIdentity": {...}, "signature": "<hex r||s>"}
// where the ECDSA P-256 / SHA-256 signature (by the TCB signing key) covers
// the exact bytes of the "enclaveIdentity" value in the response (see
// collateral.h). Fields: id ("QE", "QVE" or "TD_QE"), version (2), issueDate,
// nextUpdate (RFC 3339), tcbEvaluationDataNumber, miscselect and
// miscselectMask (4 bytes hex in report byte order, so read little-endian
// as the report's MISCSELECT is; QVL's EnclaveReportVerifier does the same),
// attributes and attributesMask (16 bytes hex), mrsigner (32 bytes hex),
// isvprodid, tcbLevels (non-empty) [{tcb {isvsvn}, tcbDate, tcbStatus,
// advisoryIDs?}]. Unknown members are ignored; an undefined tcbStatus parses
// as TcbStatus::kUnknown.
//
// Errors are for garbage (kMalformed; kUnsupported for another version or
// id); a QE that does not match is a rejected Verdict. Pure; thread-safe.
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
#include "concierge/evidence/dcap/tcb_status.h"

namespace concierge::evidence::dcap {

enum class EnclaveId { kQe, kQve, kTdQe };
std::string_view enclave_id_name(EnclaveId id);  // "QE", "QVE", "TD_QE"

struct QeTcbLevel {
  std::uint16_t isvsvn = 0;
  TimePoint tcb_date;
  TcbStatus status = TcbStatus::kUnknown;
  std::string status_text;
  std::vector<std::string> advisory_ids;
};

struct QeIdentity {
  EnclaveId id = EnclaveId::kQe;
  int version = 0;  // 2
  TimePoint issue_date;
  TimePoint next_update;
  std::uint32_t tcb_evaluation_data_number = 0;
  std::uint32_t miscselect = 0;
  std::uint32_t miscselect_mask = 0;
  std::array<std::uint8_t, 16> attributes{};
  std::array<std::uint8_t, 16> attributes_mask{};
  std::array<std::uint8_t, 32> mrsigner{};
  std::uint16_t isvprodid = 0;
  std::vector<QeTcbLevel> tcb_levels;  // in the order given (Intel: descending isvsvn)
};

struct SignedQeIdentity {
  QeIdentity identity;
  std::string signed_body;  // the exact "enclaveIdentity" value bytes
  Bytes signature;          // r || s, 64 bytes
};

// Parses the inner "enclaveIdentity" object alone.
Result<QeIdentity> parse_qe_identity(std::string_view enclave_identity_json);
// Parses a whole PCS response {"enclaveIdentity": ..., "signature": ...}.
Result<SignedQeIdentity> parse_qe_identity_response(std::string_view response);

// ECDSA P-256 / SHA-256 over signed_body with the TCB signing key.
Result<Verdict> verify_qe_identity_signature(const SignedQeIdentity& qe, const PublicKey& key);

// The quoting enclave's REPORT fields (from the quote's QE report).
struct QeReportFields {
  std::array<std::uint8_t, 32> mrsigner{};
  std::uint16_t isvprodid = 0;
  std::uint16_t isvsvn = 0;
  std::uint32_t miscselect = 0;
  std::array<std::uint8_t, 16> attributes{};
};

// accepted: the QE is the one described and a TCB level covers its ISVSVN,
// with a status that is not Revoked or Unknown.
struct QeMatch : Verdict {
  TcbStatus status = TcbStatus::kUnknown;
  std::optional<std::size_t> level_index;
  std::optional<TimePoint> tcb_date;
  std::vector<std::string> advisory_ids;
};

// As Intel's QVL: mrsigner equal; isvprodid equal; (miscselect & mask) equal
// on both sides; attributes equal bytewise under attributesMask (the mask is
// applied to both the report's and the identity's attributes); then the
// first tcbLevel (in the order given) with isvsvn <= the report's ISVSVN
// gives the status (none: rejected, "QE ISVSVN ... not supported").
QeMatch match_qe_identity(const QeIdentity& identity, const QeReportFields& report);

}  // namespace concierge::evidence::dcap
