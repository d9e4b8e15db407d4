// Enclave Identity v2 parsing and QE matching (qe_identity.h).
#include "concierge/evidence/dcap/qe_identity.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/dcap/collateral.h"

namespace concierge::evidence::dcap {
namespace {

using detail::Json;
using detail::read_hex;
using detail::read_time;
using detail::read_uint;

constexpr std::uint64_t kU16 = 0xFFFF;
constexpr std::uint64_t kU32 = 0xFFFFFFFF;

template <std::size_t N>
Result<std::array<std::uint8_t, N>> read_array(const Json& j, std::string_view key) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes b, read_hex(j, key, N, std::string(key)));
  std::array<std::uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

Result<std::uint32_t> read_u32_hex(const Json& j, std::string_view key) {
  CONCIERGE_ASSIGN_OR_RETURN(auto b, read_array<4>(j, key));
  // The hex spells the bytes in report order (QVL: swapBytes of the
  // big-endian reading), so the value is little-endian, as in the report.
  return (std::uint32_t{b[3]} << 24) | (std::uint32_t{b[2]} << 16) | (std::uint32_t{b[1]} << 8) |
         b[0];
}

// A MISCSELECT value spelled as collateral spells it: its bytes in report
// (little-endian) order, uppercase hex.
std::string miscselect_spelling(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%02X%02X%02X%02X", v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF,
                v >> 24);
  return buf;
}

Result<QeTcbLevel> read_level(const Json& l, const std::string& at) {
  if (!l.is_object()) return Unexpected(detail::field_error(at, at + " is not an object"));
  CONCIERGE_ASSIGN_OR_RETURN(const Json* tcb, detail::require_member(l, "tcb", at + ".tcb"));
  QeTcbLevel out;
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t isvsvn,
                             read_uint(*tcb, "isvsvn", kU16, at + ".tcb.isvsvn"));
  out.isvsvn = static_cast<std::uint16_t>(isvsvn);
  CONCIERGE_ASSIGN_OR_RETURN(out.tcb_date, read_time(l, "tcbDate", at + ".tcbDate"));
  CONCIERGE_ASSIGN_OR_RETURN(out.status_text,
                             detail::read_string(l, "tcbStatus", at + ".tcbStatus"));
  out.status = parse_tcb_status(out.status_text);
  CONCIERGE_ASSIGN_OR_RETURN(out.advisory_ids, detail::read_advisory_ids(l, at + ".advisoryIDs"));
  return out;
}

QeMatch rejected(std::string why) {
  QeMatch m;
  m.reason = std::move(why);
  return m;
}

}  // namespace

std::string_view enclave_id_name(EnclaveId id) {
  switch (id) {
    case EnclaveId::kQe:
      return "QE";
    case EnclaveId::kQve:
      return "QVE";
    case EnclaveId::kTdQe:
      return "TD_QE";
  }
  return "QE";
}

Result<QeIdentity> parse_qe_identity(std::string_view enclave_identity_json) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j,
                             detail::parse_json_object(enclave_identity_json, "enclave identity"));
  QeIdentity out;
  CONCIERGE_ASSIGN_OR_RETURN(std::string id, detail::read_string(j, "id", "id"));
  if (id == "QE") {
    out.id = EnclaveId::kQe;
  } else if (id == "QVE") {
    out.id = EnclaveId::kQve;
  } else if (id == "TD_QE") {
    out.id = EnclaveId::kTdQe;
  } else {
    return fail(Errc::kUnsupported, "enclave identity id \"" + id + "\" is not supported");
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t version, read_uint(j, "version", kU32, "version"));
  if (version != 2) {
    return fail(Errc::kUnsupported,
                "enclave identity version " + std::to_string(version) + " is not supported (2)");
  }
  out.version = 2;
  CONCIERGE_ASSIGN_OR_RETURN(out.issue_date, read_time(j, "issueDate", "issueDate"));
  CONCIERGE_ASSIGN_OR_RETURN(out.next_update, read_time(j, "nextUpdate", "nextUpdate"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t number, read_uint(j, "tcbEvaluationDataNumber", kU32,
                                                             "tcbEvaluationDataNumber"));
  out.tcb_evaluation_data_number = static_cast<std::uint32_t>(number);
  CONCIERGE_ASSIGN_OR_RETURN(out.miscselect, read_u32_hex(j, "miscselect"));
  CONCIERGE_ASSIGN_OR_RETURN(out.miscselect_mask, read_u32_hex(j, "miscselectMask"));
  CONCIERGE_ASSIGN_OR_RETURN(out.attributes, read_array<16>(j, "attributes"));
  CONCIERGE_ASSIGN_OR_RETURN(out.attributes_mask, read_array<16>(j, "attributesMask"));
  CONCIERGE_ASSIGN_OR_RETURN(out.mrsigner, read_array<32>(j, "mrsigner"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t prodid, read_uint(j, "isvprodid", kU16, "isvprodid"));
  out.isvprodid = static_cast<std::uint16_t>(prodid);
  CONCIERGE_ASSIGN_OR_RETURN(const Json* levels,
                             detail::require_member(j, "tcbLevels", "tcbLevels"));
  if (!levels->is_array() || levels->empty()) {
    return Unexpected(detail::field_error("tcbLevels", "tcbLevels is not a non-empty array"));
  }
  out.tcb_levels.resize(levels->size());
  for (std::size_t i = 0; i < levels->size(); ++i) {
    CONCIERGE_ASSIGN_OR_RETURN(out.tcb_levels[i],
                               read_level((*levels)[i], "tcbLevels[" + std::to_string(i) + "]"));
  }
  return out;
}

Result<SignedQeIdentity> parse_qe_identity_response(std::string_view response) {
  CONCIERGE_ASSIGN_OR_RETURN(SignedJson split, split_signed_json(response, "enclaveIdentity"));
  CONCIERGE_ASSIGN_OR_RETURN(QeIdentity identity, parse_qe_identity(split.body));
  return SignedQeIdentity{std::move(identity), std::string(split.body), std::move(split.signature)};
}

Result<Verdict> verify_qe_identity_signature(const SignedQeIdentity& qe, const PublicKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(
      Verdict v, verify_ecdsa_raw(key, HashAlg::kSha256, as_bytes(qe.signed_body), qe.signature));
  if (!v) return Verdict::reject("QE identity signature does not verify: " + v.reason);
  return v;
}

QeMatch match_qe_identity(const QeIdentity& identity, const QeReportFields& report) {
  const std::string who(enclave_id_name(identity.id));
  if (report.mrsigner != identity.mrsigner) {
    return rejected(who + " MRSIGNER " + hex_encode(report.mrsigner) + " differs from " +
                    hex_encode(identity.mrsigner));
  }
  if (report.isvprodid != identity.isvprodid) {
    return rejected(who + " ISVPRODID " + std::to_string(report.isvprodid) + " differs from " +
                    std::to_string(identity.isvprodid));
  }
  if ((report.miscselect & identity.miscselect_mask) !=
      (identity.miscselect & identity.miscselect_mask)) {
    return rejected(who + " MISCSELECT " + miscselect_spelling(report.miscselect) +
                    " does not match " + miscselect_spelling(identity.miscselect) + " under mask " +
                    miscselect_spelling(identity.miscselect_mask));
  }
  for (std::size_t i = 0; i < identity.attributes.size(); ++i) {
    const std::uint8_t mask = identity.attributes_mask[i];
    if ((report.attributes[i] & mask) != (identity.attributes[i] & mask)) {
      return rejected(who + " ATTRIBUTES " + hex_encode(report.attributes) + " do not match " +
                      hex_encode(identity.attributes) + " under mask " +
                      hex_encode(identity.attributes_mask));
    }
  }
  for (std::size_t i = 0; i < identity.tcb_levels.size(); ++i) {
    const QeTcbLevel& level = identity.tcb_levels[i];
    if (level.isvsvn > report.isvsvn) continue;
    QeMatch m;
    m.status = level.status;
    m.level_index = i;
    m.tcb_date = level.tcb_date;
    m.advisory_ids = level.advisory_ids;
    if (level.status == TcbStatus::kUnknown) {
      m.reason = who + " TCB level " + std::to_string(i) + " has an unrecognised tcbStatus \"" +
                 level.status_text + "\"";
    } else if (level.status == TcbStatus::kRevoked) {
      m.reason = who + " TCB status is Revoked (ISVSVN " + std::to_string(report.isvsvn) + ")";
    } else {
      m.accepted = true;
    }
    return m;
  }
  return rejected(who + " ISVSVN " + std::to_string(report.isvsvn) +
                  " is not supported: below every TCB level");
}

}  // namespace concierge::evidence::dcap
