// The SEV-SNP entry of the evidence table.
#include <algorithm>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/verifier/evidence_verifier.h"
#include "verifier/evidence_internal.h"

namespace concierge::verifier {

namespace snp = evidence::snp;

namespace {

nlohmann::json min_tcb_json(const SnpMinTcb& m) {
  nlohmann::json j = {
      {"bootloader", m.bootloader}, {"tee", m.tee}, {"snp", m.snp}, {"microcode", m.microcode}};
  if (m.fmc) j["fmc"] = *m.fmc;
  return j;
}

// {"met", "minimum", "below"}: REPORTED_TCB against the product's minimum.
nlohmann::json tcb_minimum(const nlohmann::json& reported, const std::string& product,
                           const std::map<std::string, SnpMinTcb>& table) {
  const auto it = table.find(product);
  if (it == table.end()) {
    return {{"met", false}, {"below", "no minimum TCB is configured for product " + product}};
  }
  const SnpMinTcb& m = it->second;
  nlohmann::json out = {{"met", true}, {"minimum", min_tcb_json(m)}};
  std::vector<std::pair<const char*, int>> spls = {
      {"bootloader", m.bootloader}, {"tee", m.tee}, {"snp", m.snp}, {"microcode", m.microcode}};
  if (m.fmc) spls.emplace_back("fmc", *m.fmc);
  for (const auto& [name, minimum] : spls) {
    const auto v = reported.find(name);
    const int have = v != reported.end() && v->is_number_integer() ? v->get<int>() : -1;
    if (have >= minimum) continue;
    out["met"] = false;
    out["below"] = std::string(name) + " SPL " + (have < 0 ? "absent" : std::to_string(have)) +
                   " is below the minimum " + std::to_string(minimum) + " for " + product;
    break;
  }
  return out;
}

}  // namespace

const std::map<std::string, SnpMinTcb>& default_snp_min_tcb() {
  static const std::map<std::string, SnpMinTcb> table = {
      {"Milan", SnpMinTcb{4, 0, 22, 213, std::nullopt}},
      {"Genoa", SnpMinTcb{9, 0, 22, 84, std::nullopt}},
      {"Turin", SnpMinTcb{1, 1, 3, 72, 1}},
  };
  return table;
}

Result<std::map<std::string, SnpMinTcb>> parse_snp_min_tcb(const nlohmann::json& j) {
  const auto bad = [](const std::string& where, const std::string& what) {
    return fail_at(Errc::kMalformed, where, 0, where + ": " + what);
  };
  if (!j.is_object()) return bad("snp_min_tcb", "not an object");
  std::map<std::string, SnpMinTcb> out;
  for (const auto& [product, spls] : j.items()) {
    const std::string where = "snp_min_tcb." + product;
    if (product != "Milan" && product != "Genoa" && product != "Turin") {
      return bad(where, "unknown product (Milan, Genoa, Turin)");
    }
    if (!spls.is_object()) return bad(where, "not an object");
    SnpMinTcb m;
    bool has_microcode = false;
    for (const auto& [name, value] : spls.items()) {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > 255) {
        return bad(where + "." + name, "not an integer 0..255");
      }
      const int v = value.get<int>();
      if (name == "bootloader") {
        m.bootloader = v;
      } else if (name == "tee") {
        m.tee = v;
      } else if (name == "snp") {
        m.snp = v;
      } else if (name == "microcode") {
        m.microcode = v;
        has_microcode = true;
      } else if (name == "fmc" && product == "Turin") {
        m.fmc = v;
      } else {
        return bad(where + "." + name, "unknown SPL (bootloader, tee, snp, microcode; Turin fmc)");
      }
    }
    if (!has_microcode) return bad(where + ".microcode", "missing");
    out[product] = m;
  }
  return out;
}

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
  if (tcb.contains("fmc")) n["svn"]["fmc"] = tcb["fmc"];
  const std::string product(snp::product_name(v.product));
  n["product"] = product;
  n["host_data"] = c["host_data"];
  n["vmpl"] = v.report.vmpl;
  const bool ma_bound = std::any_of(v.report.report_id_ma.begin(), v.report.report_id_ma.end(),
                                    [](std::uint8_t b) { return b != 0xFF; });
  n["migration_agent"] = v.report.policy.migrate_ma || ma_bound;
  n["tcb_minimum"] = tcb_minimum(n["svn"], product, ctx.snp_min_tcb);
  n["signer"] = c.contains("csp_id") ? "vlek:" + c["csp_id"].get<std::string>()
                                     : "chip:" + c["chip_id"].get<std::string>();
  if (!v.verdict.accepted) n["reason"] = v.verdict.reason;
  out.normalized = std::move(n);
  return out;
}

}  // namespace concierge::verifier
