// concierge verify tdx|sgx: an Intel DCAP quote verified to the Intel SGX Root
// CA, with collateral (TCB status) when given.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/verify.h"
#include "concierge/measure/reference.h"

namespace concierge::cli {
namespace {

namespace dcap = evidence::dcap;

struct VerifyDcapOptions {
  dcap::TeeType tee = dcap::TeeType::kTdx;
  std::string quote;
  std::string collateral;
  std::string tcb_info;
  std::string qe_identity;
  std::string tcb_signing_chain;
  std::string ccel;
  std::string ccel_reference;
  std::vector<std::string> pck;
  std::vector<std::string> crls;
  std::string root;
  std::string at;
  std::string report_data;
  std::vector<std::string> allow_tcb;
  bool json = false;
};

Result<std::vector<dcap::TcbStatus>> parse_statuses(const std::vector<std::string>& names) {
  std::vector<dcap::TcbStatus> out = dcap::default_acceptable_tcb();
  for (const std::string& name : names) {
    const dcap::TcbStatus s = dcap::parse_tcb_status(name);
    if (s == dcap::TcbStatus::kUnknown || s == dcap::TcbStatus::kRevoked) {
      return fail(Errc::kInvalidArgument, "--allow-tcb: '" + name +
                                              "' is not a status that can be allowed (" +
                                              "OutOfDate, OutOfDateConfigurationNeeded, ...)");
    }
    out.push_back(s);
  }
  return out;
}

Result<dcap::DcapVerifyOptions> build_options(const VerifyDcapOptions& o) {
  dcap::DcapVerifyOptions v;
  v.expected_tee = o.tee;
  if (!o.root.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.root, load_certificate(o.root));
  }
  for (const std::string& path : o.pck) {
    CONCIERGE_ASSIGN_OR_RETURN(std::vector<Certificate> certs, load_certificates(path));
    for (Certificate& c : certs) v.pck_chain.push_back(std::move(c));
  }
  for (const std::string& path : o.crls) {
    CONCIERGE_ASSIGN_OR_RETURN(Crl crl, load_crl(path));
    v.crls.push_back(std::move(crl));
  }
  const int files = !o.tcb_info.empty() + !o.qe_identity.empty() + !o.tcb_signing_chain.empty();
  if (files != 0 && files != 3) {
    return fail(Errc::kInvalidArgument,
                "--tcb-info, --qe-identity and --tcb-signing-chain go together");
  }
  if (files == 3) {
    if (!o.collateral.empty()) {
      return fail(Errc::kInvalidArgument, "give --collateral DIR or the three files, not both");
    }
    CONCIERGE_ASSIGN_OR_RETURN(
        dcap::Collateral c,
        dcap::load_collateral_files(o.tcb_info, o.qe_identity, o.tcb_signing_chain));
    v.collateral = std::make_shared<const dcap::Collateral>(std::move(c));
  }
  if (!o.collateral.empty()) v.collateral_dir = o.collateral;
  if (!o.ccel.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.ccel_log, read_file(o.ccel));
  }
  if (!o.ccel_reference.empty()) {
    if (o.ccel.empty()) {
      return fail(Errc::kInvalidArgument, "--ccel-reference needs --ccel");
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes text, read_file(o.ccel_reference));
    CONCIERGE_ASSIGN_OR_RETURN(v.rtmr_reference, measure::parse_reference_values(as_chars(text)));
    // RTMRs are SHA-384: reference values of another bank (a TPM's) would
    // compare nothing, and a check that compares nothing is no check.
    if (v.rtmr_reference->pcrs.count(HashAlg::kSha384) == 0 &&
        v.rtmr_reference->digests.count(HashAlg::kSha384) == 0) {
      return fail(Errc::kInvalidArgument,
                  "--ccel-reference: nothing to compare: it holds no sha384 values or digests "
                  "(RTMRs are SHA-384; is it a TPM's reference?)");
    }
  }
  if (!o.at.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.at, parse_rfc3339(o.at, /*allow_date_only=*/true));
  }
  if (!o.report_data.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.expected_report_data, hex_decode(o.report_data));
  }
  CONCIERGE_ASSIGN_OR_RETURN(v.acceptable_tcb, parse_statuses(o.allow_tcb));
  return v;
}

std::string summary(const dcap::DcapVerification& r, bool has_reference) {
  const auto& c = r.claims;
  std::string s = "quote verified (" + std::string(r.quote.is_tdx() ? "TDX" : "SGX") + ", v" +
                  std::to_string(r.quote.header.version) + ", ";
  s += r.quote.is_tdx() ? "mrtd " + c["mrtd"].get<std::string>()
                        : "mrenclave " + c["mrenclave"].get<std::string>();
  s += ", fmspc " + c.value("fmspc", std::string("-")) + ", tcb " +
       c["tcb_status"].get<std::string>();
  if (!r.collateral_checked) s += " (no collateral: TCB status and advisories not checked)";
  if (!r.advisory_ids.empty()) {
    s += " [";
    for (std::size_t i = 0; i < r.advisory_ids.size(); ++i) {
      s += (i ? " " : "") + r.advisory_ids[i];
    }
    s += "]";
  }
  if (c.contains("ccel")) s += ", CCEL log replays to the RTMRs";
  if (has_reference) s += ", CCEL reference values";
  return s + ")";
}

int run_verify(const VerifyDcapOptions& o) {
  const std::string what = o.tee == dcap::TeeType::kTdx ? "verify tdx" : "verify sgx";
  auto options = build_options(o);
  if (!options) return report(what, options.error());
  auto data = read_file(o.quote);
  if (!data) return report(what, data.error());
  auto result = dcap::verify_dcap(*data, *options);
  if (!result) return report(what + ": " + o.quote, result.error());
  const bool ok = result->verdict.accepted;
  if (o.json) {
    nlohmann::json out = result->claims;
    if (!ok) out["reason"] = result->verdict.reason;
    std::printf("%s\n", out.dump(2).c_str());
  } else if (ok) {
    std::printf("%s\n", summary(*result, options->rtmr_reference.has_value()).c_str());
  }
  if (!ok) return report_rejected(result->verdict.reason);
  return kExitOk;
}

void add_verify(CLI::App& verify, Context& ctx, dcap::TeeType tee) {
  auto o = std::make_shared<VerifyDcapOptions>();
  o->tee = tee;
  const bool tdx = tee == dcap::TeeType::kTdx;
  auto* c = verify.add_subcommand(tdx ? "tdx" : "sgx", tdx ? "Verify an Intel TDX quote (v4/v5)"
                                                           : "Verify an Intel SGX quote (v3-v5)");
  c->add_option("quote", o->quote, "Quote file (trailing zero padding allowed)")->required();
  c->add_option("--collateral", o->collateral,
                "Folder of saved PCS responses: tcb/<fmspc>.json, qe/identity.json, "
                "tcb_signing_chain.pem (or the PCS paths)");
  c->add_option("--tcb-info", o->tcb_info, "TCB info response (with the next two)");
  c->add_option("--qe-identity", o->qe_identity, "QE identity response");
  c->add_option("--tcb-signing-chain", o->tcb_signing_chain, "TCB Signing chain (PEM)");
  if (tdx) {
    c->add_option("--ccel", o->ccel,
                  "CCEL event log (/sys/firmware/acpi/tables/data/CCEL): its replay must equal "
                  "the quote's RTMR0-3");
    c->add_option("--ccel-reference", o->ccel_reference,
                  "Reference values for the CCEL replay (JSON; \"pcr\" i = RTMR i, sha384); the "
                  "first unknown event is named");
  }
  c->add_option("--pck", o->pck,
                "PCK certificate, then its CA (PEM or DER; repeatable), used instead of the "
                "quote's certification data");
  c->add_option("--crl", o->crls, "Root CA or PCK CRL (DER or PEM); repeatable");
  c->add_option("--root", o->root,
                "Trust this root instead of the built-in Intel SGX Root CA (e.g. Intel's test "
                "root, or the simulator's)");
  c->add_option("--at", o->at, "Verify as of this time (RFC 3339, or YYYY-MM-DD)");
  c->add_option("--report-data", o->report_data,
                "Expected REPORT_DATA (hex, up to 64 bytes, zero-padded)");
  c->add_option("--allow-tcb", o->allow_tcb,
                "Also accept this TCB status (OutOfDate, OutOfDateConfigurationNeeded); "
                "repeatable. Default: UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
                "ConfigurationAndSWHardeningNeeded");
  c->add_flag("--json", o->json, "Print the claims and the verdict as JSON");
  c->callback([o, &ctx] { ctx.exit_code = run_verify(*o); });
}

}  // namespace

void register_verify_dcap(CLI::App& verify, Context& ctx) {
  add_verify(verify, ctx, dcap::TeeType::kTdx);
  add_verify(verify, ctx, dcap::TeeType::kSgx);
}

}  // namespace concierge::cli
