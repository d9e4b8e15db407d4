// The Intel TDX and SGX entries of the evidence table.
#include <algorithm>
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
  std::vector<RegisterReplay> registers;
  for (std::size_t i = 0; i < dcap::kRtmrCount; ++i) {
    registers.push_back({"RTMR" + std::to_string(i), Bytes(td.rtmr[i].begin(), td.rtmr[i].end()),
                         Bytes(replay.rtmr[i].begin(), replay.rtmr[i].end()),
                         replay.rtmr_events[i]});
  }
  nlohmann::json out = compare_with_replay(registers, "CCEL log");
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
  // The operator's collateral wins: collateral the guest sends is used only
  // when the operator configured none, and never older than the minimum or
  // than what this process has already seen.
  CONCIERGE_ASSIGN_OR_RETURN(auto guest_collateral, collateral_of(d.endorsements));
  const bool guest_sent = !ctx.dcap_collateral_dir && guest_collateral;

  if (ctx.dcap_collateral_dir) {
    o.collateral_dir = ctx.dcap_collateral_dir;
  } else {
    o.collateral = std::move(guest_collateral);
  }
  CONCIERGE_ASSIGN_OR_RETURN(dcap::DcapVerification v, dcap::verify_dcap(d.evidence, o));
  if (guest_sent && v.verdict.accepted && ctx.dcap_min_evaluation_number == 0) {
    // Without a floor, a guest could pick old collateral that rates its
    // platform better, and every replica or restart would take it.
    v.verdict = Verdict::reject(
        "collateral sent with the evidence is not accepted: this broker has no collateral folder "
        "and no minimum tcbEvaluationDataNumber configured");
  } else if (guest_sent && v.verdict.accepted && v.claims.contains("collateral")) {
    const std::uint32_t number =
        v.claims["collateral"].value("tcb_evaluation_data_number", std::uint32_t{0});
    const std::uint32_t seen = ctx.dcap_cache ? ctx.dcap_cache->highest_evaluation_number() : 0;
    const std::uint32_t minimum = std::max(ctx.dcap_min_evaluation_number, seen);
    if (number < minimum) {
      v.verdict =
          Verdict::reject("the collateral sent with the evidence has tcbEvaluationDataNumber " +
                          std::to_string(number) + ", older than the " +
                          (seen > ctx.dcap_min_evaluation_number ? "newest this broker has seen"
                                                                 : "configured minimum"));
    } else if (ctx.dcap_cache) {
      ctx.dcap_cache->note_evaluation_number(number);
    }
  }

  VerifiedEvidence out;
  const nlohmann::json& c = v.claims;
  out.verdict = v.verdict;
  const bool tdx = v.quote.td() != nullptr;
  const auto& rd = tdx ? v.quote.td()->report_data : v.quote.sgx()->report_data;
  out.report_data.assign(rd.begin(), rd.end());
  nlohmann::json n = {{"tee", tdx ? "tdx" : "sgx"},
                      {"collateral_source", ctx.dcap_collateral_dir ? "operator"
                                            : guest_sent            ? "evidence"
                                                                    : "none"},
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
    // What the host chose at launch beside the image: the configuration and
    // owner fields, whether the TD may migrate, and its service TD (TD 1.5).
    n["launch_config"] = {{"mrconfigid", c["mrconfigid"]},
                          {"mrowner", c["mrowner"]},
                          {"mrownerconfig", c["mrownerconfig"]}};
    n["migratable"] = c["td_attributes"].value("migratable", true);
    if (c.contains("mrservicetd")) n["service_td"] = c["mrservicetd"];
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
