// concierge verify snp: an SEV-SNP attestation report verified to AMD's roots.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/snp/verify.h"

namespace concierge::cli {
namespace {

namespace snp = evidence::snp;

struct VerifySnpOptions {
  std::string report;
  std::string vcek;
  std::string certs;
  std::vector<std::string> crls;
  std::vector<std::string> roots;
  std::string at;
  std::string report_data;
  bool json = false;
};

Result<snp::SnpVerifyOptions> build_options(const VerifySnpOptions& o) {
  snp::SnpVerifyOptions v;
  if (!o.vcek.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.endorsement_key, load_certificate(o.vcek));
  }
  if (!o.certs.empty()) {
    if (std::filesystem::is_directory(o.certs)) {
      v.kds_dir = o.certs;
    } else {
      CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(o.certs));
      if (looks_like_pem(data)) {
        CONCIERGE_ASSIGN_OR_RETURN(v.supplied, Certificate::from_pem_bundle(as_chars(data)));
      } else {
        CONCIERGE_ASSIGN_OR_RETURN(v.cert_table, snp::parse_cert_table(data));
      }
    }
  }
  for (const std::string& path : o.crls) {
    CONCIERGE_ASSIGN_OR_RETURN(Crl crl, load_crl(path));
    v.crls.push_back(std::move(crl));
  }
  for (const std::string& path : o.roots) {
    CONCIERGE_ASSIGN_OR_RETURN(snp::AmdRootSet set, load_snp_root_set(path));
    v.trusted_roots.push_back(std::move(set));
  }
  if (!o.at.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.at, parse_rfc3339(o.at, /*allow_date_only=*/true));
  }
  if (!o.report_data.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.expected_report_data, hex_decode(o.report_data));
  }
  return v;
}

int run_verify(const VerifySnpOptions& o) {
  auto options = build_options(o);
  if (!options) return report("verify snp", options.error());
  auto data = read_file(o.report);
  if (!data) return report("verify snp", data.error());
  auto result = snp::verify_snp(*data, *options);
  if (!result) return report("verify snp: " + o.report, result.error());
  const bool ok = result->verdict.accepted;
  if (o.json) {
    nlohmann::json out = result->claims;
    out["verified"] = ok;
    if (!ok) out["reason"] = result->verdict.reason;
    std::printf("%s\n", out.dump(2).c_str());
  } else if (ok) {
    const auto& c = result->claims;
    // What was compared: the chain to a root, the report's signature, the
    // certificate against the report, and the report data when given.
    std::printf(
        "report verified (%s, %s, v%d, measurement %s; checked: chain to the %s root, "
        "signature, certificate TCB%s%s)\n",
        std::string(snp::product_name(result->product)).c_str(),
        c["signing_key"].get<std::string>().c_str(), c["version"].get<int>(),
        c["measurement"].get<std::string>().c_str(),
        o.roots.empty() ? "built-in AMD" : "configured",
        c["signing_key"] == "vcek" &&
                c["chip_id"].get<std::string>().find_first_not_of('0') != std::string::npos
            ? " and chip id"
            : "",
        o.report_data.empty() ? "" : ", report data");
  }
  if (!ok) return report_rejected(result->verdict.reason);
  return kExitOk;
}

}  // namespace

void register_verify_snp(CLI::App& verify, Context& ctx) {
  auto o = std::make_shared<VerifySnpOptions>();
  auto* c = verify.add_subcommand("snp", "Verify an AMD SEV-SNP attestation report");
  c->add_option("report", o->report, "Report file (1184 bytes)")->required();
  c->add_option("--vcek", o->vcek, "VCEK or VLEK certificate (DER or PEM)");
  c->add_option("--certs", o->certs,
                "The extended report's certificate table, a PEM bundle, or a folder laid out "
                "like AMD's KDS (vcek/v1/<Product>/...)");
  c->add_option("--crl", o->crls, "A CRL to check (DER or PEM); repeatable");
  c->add_option("--root", o->roots,
                "Trust this ARK/ASK[/ASVK] PEM bundle instead of AMD's built-in roots "
                "(e.g. the simulator's); repeatable");
  c->add_option("--at", o->at, "Verify as of this time (RFC 3339, or YYYY-MM-DD)");
  c->add_option("--report-data", o->report_data,
                "Expected REPORT_DATA (hex, up to 64 bytes, zero-padded)");
  c->add_flag("--json", o->json, "Print the claims and the verdict as JSON");
  c->callback([o, &ctx] { ctx.exit_code = run_verify(*o); });
}

}  // namespace concierge::cli
