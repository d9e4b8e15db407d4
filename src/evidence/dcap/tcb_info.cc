// TCB Info v2/v3 parsing (tcb_info.h) on nlohmann::json with exceptions off:
// every member is looked up with find and type-checked before use.
#include "concierge/evidence/dcap/tcb_info.h"

#include <cstdio>
#include <string>
#include <utility>

#include "concierge/core/signature.h"
#include "concierge/evidence/dcap/collateral.h"

namespace concierge::evidence::dcap {
namespace {

using detail::Json;
using detail::read_hex;
using detail::read_string;
using detail::read_time;
using detail::read_uint;

constexpr std::uint64_t kU16 = 0xFFFF;
constexpr std::uint64_t kU32 = 0xFFFFFFFF;

Result<TcbStatus> read_status(const Json& obj, const std::string& path, std::string* text) {
  CONCIERGE_ASSIGN_OR_RETURN(*text, read_string(obj, "tcbStatus", path + ".tcbStatus"));
  return parse_tcb_status(*text);
}

Result<void> read_optional_string(const Json& obj, std::string_view key, const std::string& path,
                                  std::string* out) {
  const Json* s = detail::find_member(obj, key);
  if (s == nullptr) return {};
  if (!s->is_string()) {
    return Unexpected(
        detail::field_error(path + "." + std::string(key),
                            "\"" + path + "." + std::string(key) + "\" is not a string"));
  }
  *out = s->get<std::string>();
  return {};
}

// v3 components: an array of 16 objects {svn, category?, type?}.
Result<TcbComponents> read_components(const Json& tcb, std::string_view key,
                                      const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(const Json* arr, detail::require_member(tcb, key, path));
  if (!arr->is_array() || arr->size() != kTcbComponents) {
    return Unexpected(detail::field_error(path, "\"" + path + "\" is not an array of 16"));
  }
  TcbComponents out;
  for (std::size_t i = 0; i < kTcbComponents; ++i) {
    const Json& c = (*arr)[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!c.is_object())
      return Unexpected(detail::field_error(at, "\"" + at + "\" is not an object"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t svn, read_uint(c, "svn", kU16, at + ".svn"));
    out[i].svn = static_cast<std::uint16_t>(svn);
    CONCIERGE_RETURN_IF_ERROR(read_optional_string(c, "category", at, &out[i].category));
    CONCIERGE_RETURN_IF_ERROR(read_optional_string(c, "type", at, &out[i].type));
  }
  return out;
}

// v2 components: sgxtcbcomp01svn .. sgxtcbcomp16svn.
Result<TcbComponents> read_v2_components(const Json& tcb, const std::string& path) {
  TcbComponents out;
  for (std::size_t i = 0; i < kTcbComponents; ++i) {
    char key[20];
    std::snprintf(key, sizeof key, "sgxtcbcomp%02zusvn", i + 1);
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t svn, read_uint(tcb, key, kU16, path + "." + key));
    out[i].svn = static_cast<std::uint16_t>(svn);
  }
  return out;
}

Result<TcbLevel> read_level(const Json& level, const TcbInfo& info, const std::string& path) {
  if (!level.is_object()) return Unexpected(detail::field_error(path, path + " is not an object"));
  CONCIERGE_ASSIGN_OR_RETURN(const Json* tcb, detail::require_member(level, "tcb", path + ".tcb"));
  if (!tcb->is_object())
    return Unexpected(detail::field_error(path, path + ".tcb is not an object"));
  TcbLevel out;
  if (info.version == 2) {
    CONCIERGE_ASSIGN_OR_RETURN(out.sgx_components, read_v2_components(*tcb, path + ".tcb"));
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(out.sgx_components, read_components(*tcb, "sgxtcbcomponents",
                                                                   path + ".tcb.sgxtcbcomponents"));
    if (info.tee == TeeType::kTdx) {
      CONCIERGE_ASSIGN_OR_RETURN(
          out.tdx_components,
          read_components(*tcb, "tdxtcbcomponents", path + ".tcb.tdxtcbcomponents"));
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t pcesvn,
                             read_uint(*tcb, "pcesvn", kU16, path + ".tcb.pcesvn"));
  out.pcesvn = static_cast<std::uint16_t>(pcesvn);
  CONCIERGE_ASSIGN_OR_RETURN(out.tcb_date, read_time(level, "tcbDate", path + ".tcbDate"));
  CONCIERGE_ASSIGN_OR_RETURN(out.status, read_status(level, path, &out.status_text));
  CONCIERGE_ASSIGN_OR_RETURN(out.advisory_ids,
                             detail::read_advisory_ids(level, path + ".advisoryIDs"));
  return out;
}

Result<TdxModuleIdentity> read_module(const Json& m, const std::string& path, bool with_levels) {
  if (!m.is_object()) return Unexpected(detail::field_error(path, path + " is not an object"));
  TdxModuleIdentity out;
  if (with_levels) {
    CONCIERGE_ASSIGN_OR_RETURN(out.id, read_string(m, "id", path + ".id"));
  }
  CONCIERGE_ASSIGN_OR_RETURN(out.mrsigner, read_hex(m, "mrsigner", 48, path + ".mrsigner"));
  CONCIERGE_ASSIGN_OR_RETURN(out.attributes, read_hex(m, "attributes", 8, path + ".attributes"));
  CONCIERGE_ASSIGN_OR_RETURN(out.attributes_mask,
                             read_hex(m, "attributesMask", 8, path + ".attributesMask"));
  if (!with_levels) return out;
  CONCIERGE_ASSIGN_OR_RETURN(const Json* levels,
                             detail::require_member(m, "tcbLevels", path + ".tcbLevels"));
  if (!levels->is_array() || levels->empty()) {
    return Unexpected(detail::field_error(path, path + ".tcbLevels is not a non-empty array"));
  }
  out.tcb_levels.resize(levels->size());
  for (std::size_t i = 0; i < levels->size(); ++i) {
    const Json& l = (*levels)[i];
    const std::string at = path + ".tcbLevels[" + std::to_string(i) + "]";
    if (!l.is_object()) return Unexpected(detail::field_error(at, at + " is not an object"));
    CONCIERGE_ASSIGN_OR_RETURN(const Json* tcb, detail::require_member(l, "tcb", at + ".tcb"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t isvsvn,
                               read_uint(*tcb, "isvsvn", kU16, at + ".tcb.isvsvn"));
    TdxModuleIdentity::Level& level = out.tcb_levels[i];
    level.isvsvn = static_cast<std::uint16_t>(isvsvn);
    CONCIERGE_ASSIGN_OR_RETURN(level.tcb_date, read_time(l, "tcbDate", at + ".tcbDate"));
    CONCIERGE_ASSIGN_OR_RETURN(level.status, read_status(l, at, &level.status_text));
    CONCIERGE_ASSIGN_OR_RETURN(level.advisory_ids,
                               detail::read_advisory_ids(l, at + ".advisoryIDs"));
  }
  return out;
}

Result<void> read_header(const Json& j, TcbInfo& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t version, read_uint(j, "version", kU32, "version"));
  if (version != 2 && version != 3) {
    return fail(Errc::kUnsupported,
                "TCB info version " + std::to_string(version) + " is not supported (2 or 3)");
  }
  out.version = static_cast<int>(version);
  if (detail::find_member(j, "id") != nullptr) {
    CONCIERGE_ASSIGN_OR_RETURN(out.id, read_string(j, "id", "id"));
  } else if (version == 3) {
    return Unexpected(detail::field_error("id", "TCB info v3 has no \"id\""));
  }
  if (out.id == "TDX" && version == 3) {
    out.tee = TeeType::kTdx;
  } else if (out.id == "SGX" || out.id.empty()) {
    out.tee = TeeType::kSgx;
  } else {
    return fail(Errc::kUnsupported, "TCB info id \"" + out.id + "\" is not supported in version " +
                                        std::to_string(version));
  }
  CONCIERGE_ASSIGN_OR_RETURN(out.issue_date, read_time(j, "issueDate", "issueDate"));
  CONCIERGE_ASSIGN_OR_RETURN(out.next_update, read_time(j, "nextUpdate", "nextUpdate"));
  CONCIERGE_ASSIGN_OR_RETURN(out.fmspc, read_hex(j, "fmspc", kFmspcSize, "fmspc"));
  CONCIERGE_ASSIGN_OR_RETURN(out.pce_id, read_hex(j, "pceId", kPceIdSize, "pceId"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t type, read_uint(j, "tcbType", kU32, "tcbType"));
  out.tcb_type = static_cast<std::uint32_t>(type);
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t number, read_uint(j, "tcbEvaluationDataNumber", kU32,
                                                             "tcbEvaluationDataNumber"));
  out.tcb_evaluation_data_number = static_cast<std::uint32_t>(number);
  return {};
}

}  // namespace

std::string_view tee_type_name(TeeType tee) { return tee == TeeType::kTdx ? "TDX" : "SGX"; }

Result<TcbInfo> parse_tcb_info(std::string_view tcb_info_json) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j, detail::parse_json_object(tcb_info_json, "TCB info"));
  TcbInfo out;
  CONCIERGE_RETURN_IF_ERROR(read_header(j, out));
  if (out.tee == TeeType::kTdx) {
    CONCIERGE_ASSIGN_OR_RETURN(const Json* m, detail::require_member(j, "tdxModule", "tdxModule"));
    CONCIERGE_ASSIGN_OR_RETURN(out.tdx_module, read_module(*m, "tdxModule", false));
    if (const Json* ids = detail::find_member(j, "tdxModuleIdentities")) {
      if (!ids->is_array()) {
        return Unexpected(
            detail::field_error("tdxModuleIdentities", "tdxModuleIdentities is not an array"));
      }
      out.tdx_module_identities.resize(ids->size());
      for (std::size_t i = 0; i < ids->size(); ++i) {
        CONCIERGE_ASSIGN_OR_RETURN(
            out.tdx_module_identities[i],
            read_module((*ids)[i], "tdxModuleIdentities[" + std::to_string(i) + "]", true));
      }
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(const Json* levels,
                             detail::require_member(j, "tcbLevels", "tcbLevels"));
  if (!levels->is_array() || levels->empty()) {
    return Unexpected(detail::field_error("tcbLevels", "tcbLevels is not a non-empty array"));
  }
  out.tcb_levels.resize(levels->size());
  for (std::size_t i = 0; i < levels->size(); ++i) {
    CONCIERGE_ASSIGN_OR_RETURN(
        out.tcb_levels[i], read_level((*levels)[i], out, "tcbLevels[" + std::to_string(i) + "]"));
  }
  return out;
}

Result<SignedTcbInfo> parse_tcb_info_response(std::string_view response) {
  CONCIERGE_ASSIGN_OR_RETURN(SignedJson split, split_signed_json(response, "tcbInfo"));
  CONCIERGE_ASSIGN_OR_RETURN(TcbInfo info, parse_tcb_info(split.body));
  return SignedTcbInfo{std::move(info), std::string(split.body), std::move(split.signature)};
}

Result<Verdict> verify_tcb_info_signature(const SignedTcbInfo& tcb, const PublicKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(
      Verdict v, verify_ecdsa_raw(key, HashAlg::kSha256, as_bytes(tcb.signed_body), tcb.signature));
  if (!v) return Verdict::reject("TCB info signature does not verify: " + v.reason);
  return v;
}

}  // namespace concierge::evidence::dcap
