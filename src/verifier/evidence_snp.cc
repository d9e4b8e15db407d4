// The SEV-SNP entry of the evidence table.
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/verifier/evidence_verifier.h"
#include "verifier/evidence_internal.h"

namespace concierge::verifier {

namespace snp = evidence::snp;

Result<VerifiedEvidence> verify_snp_evidence(const DeviceEvidence& d, const VerifierContext& ctx) {
  snp::SnpVerifyOptions o;
  const nlohmann::json& e = d.endorsements;
  CONCIERGE_ASSIGN_OR_RETURN(auto vcek, optional_base64(e, "vcek"));
  if (vcek) {
    CONCIERGE_ASSIGN_OR_RETURN(o.endorsement_key, ctx.snp_cache != nullptr
                                                      ? ctx.snp_cache->parse_certificate(*vcek)
                                                      : Certificate::from_der(*vcek));
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto table, optional_base64(e, "cert_table"));
  if (table) {
    CONCIERGE_ASSIGN_OR_RETURN(o.cert_table, snp::parse_cert_table(*table));
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto certs, optional_text(e, "certs"));
  if (certs) {
    CONCIERGE_ASSIGN_OR_RETURN(o.supplied, Certificate::from_pem_bundle(*certs));
  }
  o.trusted_roots = ctx.snp_roots;
  o.at = ctx.at;
  o.crls = ctx.crls;
  o.cache = ctx.snp_cache;
  CONCIERGE_ASSIGN_OR_RETURN(snp::SnpVerification v, snp::verify_snp(d.evidence, o));

  VerifiedEvidence out;
  const nlohmann::json& c = v.claims;
  out.verdict = v.verdict;
  out.report_data.assign(v.report.report_data.begin(), v.report.report_data.end());
  nlohmann::json n = {{"tee", "snp"},
                      {"evidence_verified", v.verdict.accepted},
                      {"vendor_chain", v.verdict.accepted},
                      {"root", ctx.snp_roots.empty() ? "builtin" : "configured"},
                      {"debug", c["policy"]["debug"]},
                      {"measurement", c["measurement"]},
                      {"report_data", c["report_data"]},
                      {"native", c}};
  const auto& tcb = c["reported_tcb"];
  n["svn"] = {{"bootloader", tcb["bootloader"]},
              {"tee", tcb["tee"]},
              {"snp", tcb["snp"]},
              {"microcode", tcb["microcode"]}};
  n["signer"] = c.contains("csp_id") ? "vlek:" + c["csp_id"].get<std::string>()
                                     : "chip:" + c["chip_id"].get<std::string>();
  if (!v.verdict.accepted) n["reason"] = v.verdict.reason;
  out.normalized = std::move(n);
  return out;
}

}  // namespace concierge::verifier
