// DcapSimulator: signed collateral for the simulated platform (Intel SGX/TDX
// PCS API, "TCB Info V2/V3" and "Enclave Identity V2"), members in the order
// Intel's PCS writes them, compact JSON, signed over the exact body bytes.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "concierge/core/encoding.h"
#include "concierge/core/state_files.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"

namespace concierge::evidence::dcap {
namespace {

using Json = nlohmann::ordered_json;
using std::chrono::hours;

std::string upper_hex(ByteView b) {
  std::string s = hex_encode(b);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

template <std::size_t N>
std::array<std::uint8_t, N> le_bytes(std::uint64_t v) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> lowered(const std::array<std::uint8_t, N>& svns) {
  std::array<std::uint8_t, N> out = svns;
  for (std::uint8_t& s : out) s = s > 0 ? static_cast<std::uint8_t>(s - 1) : 0;
  return out;
}

std::uint16_t lowered(std::uint16_t svn) {
  return svn > 0 ? static_cast<std::uint16_t>(svn - 1) : 0;
}

Json components_json(const std::array<std::uint8_t, kTcbComponents>& svns) {
  Json a = Json::array();
  for (std::uint8_t svn : svns) a.push_back({{"svn", svn}});
  return a;
}

// One tcbLevels entry around its "tcb" object.
Json level_json(Json tcb, TimePoint date, TcbStatus status, const std::vector<std::string>& ids) {
  Json l = {{"tcb", std::move(tcb)},
            {"tcbDate", format_rfc3339(date)},
            {"tcbStatus", std::string(tcb_status_name(status))}};
  if (!ids.empty()) l["advisoryIDs"] = ids;
  return l;
}

struct Level {
  std::array<std::uint8_t, kTcbComponents> sgx{};
  std::uint16_t pcesvn = 0;
  std::array<std::uint8_t, kTcbComponents> tdx{};
};

Json tcb_json(const Level& l, int version, bool tdx) {
  Json tcb = Json::object();
  if (version == 2) {
    for (std::size_t i = 0; i < kTcbComponents; ++i) {
      char key[20];
      std::snprintf(key, sizeof key, "sgxtcbcomp%02zusvn", i + 1);
      tcb[key] = l.sgx[i];
    }
    tcb["pcesvn"] = l.pcesvn;
    return tcb;
  }
  tcb["sgxtcbcomponents"] = components_json(l.sgx);
  tcb["pcesvn"] = l.pcesvn;
  if (tdx) tcb["tdxtcbcomponents"] = components_json(l.tdx);
  return tcb;
}

struct Dates {
  TimePoint issue;
  TimePoint next;
  TimePoint tcb;    // the platform's level
  TimePoint lower;  // the lower level
};

Dates dates_of(const CollateralOptions& o) {
  const TimePoint now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  Dates d;
  d.issue = o.issue_date.value_or(now - hours(1));
  d.next = o.next_update.value_or(now + hours(24 * 30));
  d.tcb = std::chrono::floor<std::chrono::seconds>(d.issue - hours(24 * 30));
  d.lower = std::chrono::floor<std::chrono::seconds>(d.issue - hours(24 * 365));
  return d;
}

// {"<key>": body, "signature": "<hex r||s>"}: the body's exact bytes are signed.
Result<std::string> signed_response(const char* key, const Json& body, const PrivateKey& signer) {
  const std::string text = body.dump();
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes sig,
                             signer.sign_ecdsa_raw(HashAlg::kSha256, as_bytes(text)));
  return "{\"" + std::string(key) + "\":" + text + ",\"signature\":\"" + hex_encode(sig) + "\"}";
}

}  // namespace

Result<DcapSimulator::Responses> DcapSimulator::responses(TeeType tee,
                                                          const CollateralOptions& o) const {
  const bool tdx = tee == TeeType::kTdx;
  const int version = tdx ? 3 : o.sgx_tcb_info_version;
  if (version != 2 && version != 3) {
    return fail(Errc::kInvalidArgument, "SGX TCB info version must be 2 or 3");
  }
  const Dates d = dates_of(o);
  const TdxModuleConfig& module = config_.tdx_module;

  // ---- TCB info ----
  Json info = Json::object();
  if (version == 3) info["id"] = tdx ? "TDX" : "SGX";
  info["version"] = version;
  info["issueDate"] = format_rfc3339(d.issue);
  info["nextUpdate"] = format_rfc3339(d.next);
  info["fmspc"] = hex_encode(config_.fmspc);
  info["pceId"] = hex_encode(config_.pce_id);
  info["tcbType"] = 0;
  info["tcbEvaluationDataNumber"] = o.tcb_evaluation_data_number;
  if (tdx) {
    Json identity = {{"mrsigner", upper_hex(module.mr_signer_seam)},
                     {"attributes", upper_hex(le_bytes<8>(module.seam_attributes))},
                     {"attributesMask", "FFFFFFFFFFFFFFFF"}};
    info["tdxModule"] = identity;
    const std::uint8_t major = module.tee_tcb_svn[1];
    if (major > 0) {
      char id[8];
      std::snprintf(id, sizeof id, "TDX_%02X", static_cast<unsigned>(major));
      Json levels = Json::array();
      const std::uint8_t svn = module.tee_tcb_svn[0];
      levels.push_back(level_json({{"isvsvn", svn}}, d.tcb, o.tdx_module_status, {}));
      if (svn > 0) {
        levels.push_back(level_json({{"isvsvn", svn - 1}}, d.lower, TcbStatus::kOutOfDate, {}));
      }
      Json entry = {{"id", id}};
      for (auto& [k, v] : identity.items()) entry[k] = v;
      entry["tcbLevels"] = std::move(levels);
      info["tdxModuleIdentities"] = Json::array({std::move(entry)});
    }
  }
  const Level platform{config_.pck_tcb.sgx_components, config_.pck_tcb.pcesvn, module.tee_tcb_svn};
  Level lower{lowered(platform.sgx), lowered(platform.pcesvn), lowered(platform.tdx)};
  lower.tdx[1] = platform.tdx[1];  // the module's major version stays
  info["tcbLevels"] = Json::array(
      {level_json(tcb_json(platform, version, tdx), d.tcb, o.tcb_status, o.advisory_ids),
       level_json(tcb_json(lower, version, tdx), d.lower, o.lower_tcb_status,
                  o.lower_advisory_ids)});

  // ---- QE identity ----
  const QeConfig& q = qe(tee);
  static constexpr std::array<std::uint8_t, 16> kAttributesMask = {
      0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
  std::array<std::uint8_t, 16> attributes{};
  const auto flags = le_bytes<8>(q.attributes_flags);
  const auto xfrm = le_bytes<8>(q.attributes_xfrm);
  for (std::size_t i = 0; i < 8; ++i) {
    attributes[i] = flags[i] & kAttributesMask[i];
    attributes[8 + i] = xfrm[i] & kAttributesMask[8 + i];
  }
  Json qe_levels = Json::array();
  qe_levels.push_back(level_json({{"isvsvn", q.isvsvn}}, d.tcb, o.qe_status, o.qe_advisory_ids));
  if (q.isvsvn > 0) {
    qe_levels.push_back(level_json({{"isvsvn", q.isvsvn - 1}}, d.lower, TcbStatus::kOutOfDate, {}));
  }
  const Json identity = {{"id", tdx ? "TD_QE" : "QE"},
                         {"version", 2},
                         {"issueDate", format_rfc3339(d.issue)},
                         {"nextUpdate", format_rfc3339(d.next)},
                         {"tcbEvaluationDataNumber", o.tcb_evaluation_data_number},
                         {"miscselect", upper_hex(le_bytes<4>(q.miscselect))},
                         {"miscselectMask", "FFFFFFFF"},
                         {"attributes", upper_hex(attributes)},
                         {"attributesMask", upper_hex(kAttributesMask)},
                         {"mrsigner", upper_hex(q.mrsigner)},
                         {"isvprodid", q.isvprodid},
                         {"tcbLevels", std::move(qe_levels)}};

  Responses out;
  CONCIERGE_ASSIGN_OR_RETURN(out.tcb_info, signed_response("tcbInfo", info, keys_.tcb_signing.key));
  CONCIERGE_ASSIGN_OR_RETURN(out.qe_identity,
                             signed_response("enclaveIdentity", identity, keys_.tcb_signing.key));
  return out;
}

Result<Collateral> DcapSimulator::collateral(TeeType tee, const CollateralOptions& options) const {
  CONCIERGE_ASSIGN_OR_RETURN(const Responses r, responses(tee, options));
  CONCIERGE_ASSIGN_OR_RETURN(SignedTcbInfo tcb_info, parse_tcb_info_response(r.tcb_info));
  CONCIERGE_ASSIGN_OR_RETURN(SignedQeIdentity qe_identity,
                             parse_qe_identity_response(r.qe_identity));
  Collateral c{std::move(tcb_info),
               std::move(qe_identity),
               {keys_.tcb_signing.cert, keys_.root.cert},
               {},
               {}};
  return c;
}

Result<void> DcapSimulator::write_collateral(const std::filesystem::path& dir, TeeType tee,
                                             const CollateralOptions& options) const {
  CONCIERGE_ASSIGN_OR_RETURN(const Responses r, responses(tee, options));
  CONCIERGE_RETURN_IF_ERROR(state_files::make_dir(dir / "tcb"));
  CONCIERGE_RETURN_IF_ERROR(state_files::make_dir(dir / "qe"));
  CONCIERGE_RETURN_IF_ERROR(state_files::write_file(
      dir / "tcb" / (hex_encode(config_.fmspc) + ".json"), r.tcb_info, 0644));
  CONCIERGE_RETURN_IF_ERROR(
      state_files::write_file(dir / "qe" / "identity.json", r.qe_identity, 0644));
  return state_files::write_file(dir / "tcb_signing_chain.pem", tcb_signing_chain_pem(), 0644);
}

}  // namespace concierge::evidence::dcap
