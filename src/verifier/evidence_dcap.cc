// The Intel TDX and SGX entries of the evidence table.
#include <memory>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/ccel.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/reference.h"
#include "concierge/verifier/evidence_verifier.h"
#include "verifier/evidence_internal.h"

namespace concierge::verifier {
namespace {

namespace dcap = evidence::dcap;

Result<std::shared_ptr<const dcap::Collateral>> collateral_of(const nlohmann::json& e) {
  const auto it = e.find("collateral");
  if (it == e.end() || it->is_null()) return std::shared_ptr<const dcap::Collateral>();
  if (!it->is_object()) return fail(Errc::kMalformed, "endorsements.collateral is not an object");
  CONCIERGE_ASSIGN_OR_RETURN(auto tcb, optional_text(*it, "tcb_info"));
  CONCIERGE_ASSIGN_OR_RETURN(auto qe, optional_text(*it, "qe_identity"));
  CONCIERGE_ASSIGN_OR_RETURN(auto chain, optional_text(*it, "tcb_signing_chain"));
  if (!tcb || !qe || !chain) {
    return fail(Errc::kMalformed,
                "endorsements.collateral needs tcb_info, qe_identity and tcb_signing_chain");
  }
  dcap::Collateral c;
  CONCIERGE_ASSIGN_OR_RETURN(c.tcb_info, dcap::parse_tcb_info_response(*tcb));
  CONCIERGE_ASSIGN_OR_RETURN(c.qe_identity, dcap::parse_qe_identity_response(*qe));
  CONCIERGE_ASSIGN_OR_RETURN(c.tcb_signing_chain, Certificate::from_pem_bundle(*chain));
  return std::make_shared<const dcap::Collateral>(std::move(c));
}

// "log" for a TDX quote and its CCEL log.
Result<nlohmann::json> ccel_log_claims(ByteView log, const dcap::TdReportBody& td,
                                       const VerifierContext& ctx) {
  CONCIERGE_ASSIGN_OR_RETURN(dcap::RtmrReplay replay, dcap::replay_ccel(log));
  const Verdict match = dcap::check_rtmrs(replay, td);
  nlohmann::json out = {{"replayed", true}, {"matches_registers", match.accepted}};
  if (!match) out["mismatch"] = match.reason;
  if (ctx.known_event_digests) {
    nlohmann::json unknown = nlohmann::json::array();
    for (const measure::Event& ev : replay.log.events) {
      if (ev.type == measure::event_type::kNoAction || ev.pcr < dcap::kCcMrIndexRtmr0 ||
          ev.pcr > dcap::kCcMrIndexRtmr0 + 3) {
        continue;
      }
      const measure::EventDigest* dg = ev.digest_for(static_cast<std::uint16_t>(HashAlg::kSha384));
      if (dg == nullptr) continue;
      if (ctx.known_event_digests->count(hex_encode(dg->value)) == 0) {
        unknown.push_back(event_json("rtmr" + std::to_string(ev.pcr - dcap::kCcMrIndexRtmr0),
                                     ev.index, measure::describe_event(ev), dg->value));
      }
    }
    out["unknown_events"] = std::move(unknown);
  }
  return out;
}

Result<VerifiedEvidence> verify_dcap_evidence(const DeviceEvidence& d, const VerifierContext& ctx,
                                              dcap::TeeType tee) {
  dcap::DcapVerifyOptions o;
  o.expected_tee = tee;
  o.root = ctx.intel_root;
  o.crls = ctx.crls;
  o.at = ctx.at;
  o.cache = ctx.dcap_cache;
  // The policy judges the TCB status; only Revoked fails here.
  o.acceptable_tcb = {dcap::TcbStatus::kUpToDate,
                      dcap::TcbStatus::kSWHardeningNeeded,
                      dcap::TcbStatus::kConfigurationNeeded,
                      dcap::TcbStatus::kConfigurationAndSWHardeningNeeded,
                      dcap::TcbStatus::kOutOfDate,
                      dcap::TcbStatus::kOutOfDateConfigurationNeeded};
  CONCIERGE_ASSIGN_OR_RETURN(auto pck, optional_text(d.endorsements, "pck"));
  if (pck) {
    CONCIERGE_ASSIGN_OR_RETURN(o.pck_chain, Certificate::from_pem_bundle(*pck));
  }
  CONCIERGE_ASSIGN_OR_RETURN(o.collateral, collateral_of(d.endorsements));
  if (!o.collateral) o.collateral_dir = ctx.dcap_collateral_dir;
  CONCIERGE_ASSIGN_OR_RETURN(dcap::DcapVerification v, dcap::verify_dcap(d.evidence, o));

  VerifiedEvidence out;
  const nlohmann::json& c = v.claims;
  out.verdict = v.verdict;
  const bool tdx = v.quote.td() != nullptr;
  const auto& rd = tdx ? v.quote.td()->report_data : v.quote.sgx()->report_data;
  out.report_data.assign(rd.begin(), rd.end());
  nlohmann::json n = {{"tee", tdx ? "tdx" : "sgx"},
                      {"evidence_verified", v.verdict.accepted},
                      {"vendor_chain", v.verdict.accepted},
                      {"root", ctx.intel_root ? "configured" : "builtin"},
                      {"report_data", c["report_data"]},
                      {"tcb_status", c["tcb_status"]},
                      {"native", c}};
  if (c.contains("fmspc")) n["signer"] = "fmspc:" + c["fmspc"].get<std::string>();
  if (tdx) {
    n["debug"] = c["td_attributes"]["debug"];
    n["measurement"] = c["mrtd"];
    n["registers"] = {
        {"rtmr0", c["rtmr0"]}, {"rtmr1", c["rtmr1"]}, {"rtmr2", c["rtmr2"]}, {"rtmr3", c["rtmr3"]}};
    n["svn"] = {{"tee_tcb_svn", c["tee_tcb_svn"]}};
    if (d.event_log) {
      CONCIERGE_ASSIGN_OR_RETURN(n["log"], ccel_log_claims(*d.event_log, *v.quote.td(), ctx));
    }
  } else {
    n["debug"] = c["attributes"]["debug"];
    n["measurement"] = c["mrenclave"];
    n["svn"] = {{"isvsvn", c["isvsvn"]}, {"isvprodid", c["isvprodid"]}};
    if (d.event_log) return fail(Errc::kInvalidArgument, "an SGX quote has no event log");
  }
  if (!v.verdict.accepted) n["reason"] = v.verdict.reason;
  out.normalized = std::move(n);
  return out;
}

}  // namespace

Result<VerifiedEvidence> verify_tdx_evidence(const DeviceEvidence& d, const VerifierContext& ctx) {
  return verify_dcap_evidence(d, ctx, dcap::TeeType::kTdx);
}

Result<VerifiedEvidence> verify_sgx_evidence(const DeviceEvidence& d, const VerifierContext& ctx) {
  return verify_dcap_evidence(d, ctx, dcap::TeeType::kSgx);
}

}  // namespace concierge::verifier
