// The attester side of `concierge snp`: `snp report` asks this guest's SEV-SNP
// interface (configfs-tsm, else /dev/sev-guest; see attester/snp/collect.h)
// for an attestation report binding the given REPORT_DATA, and writes the raw
// 1184-byte report and, when the host supplies it, the GHCB certificate table
// (the format of configfs-tsm's auxblob).
//
// Exit codes: 0 report written; 2 usage, no SEV-SNP guest interface on this
// machine, or an interface that failed (one line on stderr saying which).
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/attester/snp/collect.h"
#include "concierge/core/encoding.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

namespace snp = attester::snp;

struct ReportOptions {
  std::string report_data;
  unsigned vmpl = 0;
  std::string out;
  std::string certs_out;
  std::string tsm_root = attester::kDefaultTsmRoot;
  std::string device = snp::kDefaultSevGuestDevice;
  bool json = false;
};

int snp_report(const ReportOptions& o) {
  auto data = hex_decode(o.report_data);
  if (!data) return report("--report-data", data.error());
  if (data->size() > snp::kReportDataSize) {
    return report("--report-data",
                  make_error(Errc::kInvalidArgument, std::to_string(data->size()) +
                                                         " bytes; REPORT_DATA holds at most 64"));
  }
  std::array<std::uint8_t, snp::kReportDataSize> report_data{};  // zero-padded
  std::copy(data->begin(), data->end(), report_data.begin());

  snp::CollectOptions options;
  options.tsm_root = o.tsm_root;
  options.device = o.device;
  auto collected = snp::collect_snp_report(report_data, o.vmpl, options);
  if (!collected) return report("SEV-SNP report", collected.error());
  const std::string mechanism(snp::mechanism_name(collected->mechanism));
  const auto& certs = collected->certificates;

  if (!o.out.empty()) {
    if (auto w = write_file(o.out, collected->report); !w) return report(o.out, w.error());
  }
  if (!o.certs_out.empty() && certs) {
    if (auto w = write_file(o.certs_out, *certs); !w) return report(o.certs_out, w.error());
  }

  if (o.json) {
    auto path_or_null = [](const std::string& p, bool written) {
      return written && !p.empty() ? nlohmann::json(p) : nlohmann::json();
    };
    print_json({{"mechanism", mechanism},
                {"report", hex_encode(collected->report)},
                {"report_out", path_or_null(o.out, true)},
                {"certificates_size", certs ? nlohmann::json(certs->size()) : nlohmann::json()},
                {"certificates_out", path_or_null(o.certs_out, certs.has_value())}});
    return kExitOk;
  }
  if (o.out.empty()) {
    std::printf("SEV-SNP report (%zu bytes) from %s:\n%s\n", collected->report.size(),
                mechanism.c_str(), hex_encode(collected->report).c_str());
  } else {
    std::printf("SEV-SNP report (%zu bytes) from %s written to %s\n", collected->report.size(),
                mechanism.c_str(), o.out.c_str());
  }
  if (certs && !o.certs_out.empty()) {
    std::printf("certificate table (%zu bytes) written to %s\n", certs->size(),
                o.certs_out.c_str());
  } else if (certs) {
    std::printf("the host supplied a certificate table (%zu bytes; --certs-out saves it)\n",
                certs->size());
  } else if (!o.certs_out.empty()) {
    std::printf("the host supplied no certificate table; %s not written\n", o.certs_out.c_str());
  }
  return kExitOk;
}

}  // namespace

void register_snp_attester(CLI::App& snp_cmd, Context& ctx) {
  auto o = std::make_shared<ReportOptions>();
  auto* r = snp_cmd.add_subcommand(
      "report",
      "Get an attestation report from this SEV-SNP guest (configfs-tsm or /dev/sev-guest)");
  r->add_option("--report-data", o->report_data,
                "REPORT_DATA, hex, at most 64 bytes (zero-padded): the verifier's nonce")
      ->required();
  r->add_option("--vmpl", o->vmpl, "VMPL the report is for (0-3, default 0)")
      ->check(CLI::Range(0u, snp::kMaxVmpl));
  r->add_option("--out", o->out, "Where to write the raw 1184-byte report (default: print hex)");
  r->add_option("--certs-out", o->certs_out,
                "Where to write the host's certificate table, when it supplies one");
  r->add_option("--tsm-root", o->tsm_root, "configfs-tsm report folder")->capture_default_str();
  r->add_option("--device", o->device, "sev-guest device")->capture_default_str();
  r->add_flag("--json", o->json, "Print the outcome (and the report as hex) as JSON");
  r->callback([&ctx, o] { ctx.exit_code = snp_report(*o); });
}

}  // namespace concierge::cli
