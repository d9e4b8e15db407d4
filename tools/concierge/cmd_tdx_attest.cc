// The attester side of `concierge tdx`: `tdx report` asks this TD for a quote
// through configfs-tsm (provider "tdx_guest"; see attester/tdx/collect.h)
// binding the given REPORTDATA, and saves the quote and the firmware's CCEL
// table and log area, from which a verifier replays RTMR0-3.
//
// Exit codes: 0 quote written; 2 usage, no TDX guest interface on this
// machine, an interface that failed, or a CCEL output asked for where the
// firmware published no CCEL (one line on stderr saying which).
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/attester/tdx/collect.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/ccel.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

namespace tdx = attester::tdx;
namespace dcap = evidence::dcap;

constexpr const char* kDefaultAcpiTables = "/sys/firmware/acpi/tables";

struct ReportOptions {
  std::string report_data;
  std::string out;
  std::string ccel_out;
  std::string ccel_table_out;
  std::string tsm_root = attester::kDefaultTsmRoot;
  std::string acpi_tables = kDefaultAcpiTables;
  bool json = false;
};

Result<void> write_outputs(const ReportOptions& o, const tdx::CollectedQuote& c) {
  if (!o.out.empty()) CONCIERGE_RETURN_IF_ERROR(write_file(o.out, c.quote));
  if (c.ccel && !o.ccel_out.empty()) CONCIERGE_RETURN_IF_ERROR(write_file(o.ccel_out, c.ccel->log));
  if (c.ccel && !o.ccel_table_out.empty()) {
    CONCIERGE_RETURN_IF_ERROR(write_file(o.ccel_table_out, c.ccel->table));
  }
  return {};
}

nlohmann::json ccel_json(const ReportOptions& o, const tdx::CollectedQuote& c) {
  if (!c.ccel) return {{"present", false}, {"detail", c.ccel_detail}};
  auto path_or_null = [](const std::string& p) {
    return p.empty() ? nlohmann::json() : nlohmann::json(p);
  };
  nlohmann::json j = {{"present", true},
                      {"table", dcap::ccel_table_json(c.ccel->parsed)},
                      {"log_size", c.ccel->log.size()},
                      {"log_out", path_or_null(o.ccel_out)},
                      {"table_out", path_or_null(o.ccel_table_out)}};
  // The collector checked that the log replays; the RTMRs it replays to are
  // what the verifier will compare with the quote.
  if (auto replayed = dcap::replay_ccel(c.ccel->log))
    j["replay"] = dcap::rtmr_replay_json(*replayed);
  return j;
}

int tdx_report(const ReportOptions& o) {
  auto data = hex_decode(o.report_data);
  if (!data) return report("--report-data", data.error());
  if (data->size() > tdx::kReportDataSize) {
    return report("--report-data",
                  make_error(Errc::kInvalidArgument,
                             std::to_string(data->size()) + " bytes; REPORTDATA holds at most 64"));
  }
  std::array<std::uint8_t, tdx::kReportDataSize> report_data{};  // zero-padded
  std::copy(data->begin(), data->end(), report_data.begin());

  tdx::CollectOptions options;
  options.tsm_root = o.tsm_root;
  options.ccel_table = std::filesystem::path(o.acpi_tables) / "CCEL";
  options.ccel_data = std::filesystem::path(o.acpi_tables) / "data" / "CCEL";
  auto collected = tdx::collect_tdx_quote(report_data, options);
  if (!collected) return report("TDX quote", collected.error());
  const tdx::CollectedQuote& c = *collected;
  if (!c.ccel && (!o.ccel_out.empty() || !o.ccel_table_out.empty())) {
    return report(o.ccel_out.empty() ? o.ccel_table_out : o.ccel_out,
                  make_error(Errc::kNotFound, c.ccel_detail + ": nothing to write"));
  }
  if (auto w = write_outputs(o, c); !w) return report("TDX report", w.error());

  if (o.json) {
    print_json({{"mechanism", "configfs-tsm"},
                {"quote", hex_encode(c.quote)},
                {"quote_out", o.out.empty() ? nlohmann::json() : nlohmann::json(o.out)},
                {"ccel", ccel_json(o, c)}});
    return kExitOk;
  }
  if (o.out.empty()) {
    std::printf("TDX quote (%zu bytes) from configfs-tsm:\n%s\n", c.quote.size(),
                hex_encode(c.quote).c_str());
  } else {
    std::printf("TDX quote (%zu bytes) from configfs-tsm written to %s\n", c.quote.size(),
                o.out.c_str());
  }
  if (!c.ccel) {
    std::printf("no CCEL event log: %s\n", c.ccel_detail.c_str());
    return kExitOk;
  }
  if (!o.ccel_out.empty()) {
    std::printf("CCEL log area (%zu bytes) written to %s\n", c.ccel->log.size(),
                o.ccel_out.c_str());
  }
  if (!o.ccel_table_out.empty()) {
    std::printf("CCEL table (%zu bytes) written to %s\n", c.ccel->table.size(),
                o.ccel_table_out.c_str());
  }
  if (o.ccel_out.empty() && o.ccel_table_out.empty()) {
    std::printf(
        "the firmware published a CCEL log (%zu bytes; --ccel-out and --ccel-table-out "
        "save it)\n",
        c.ccel->log.size());
  }
  return kExitOk;
}

}  // namespace

void register_tdx_attester(CLI::App& tdx_cmd, Context& ctx) {
  auto o = std::make_shared<ReportOptions>();
  auto* r = tdx_cmd.add_subcommand(
      "report", "Get a quote from this TDX guest (configfs-tsm) and its CCEL event log");
  r->add_option("--report-data", o->report_data,
                "REPORTDATA, hex, at most 64 bytes (zero-padded): the verifier's nonce")
      ->required();
  r->add_option("-o,--out", o->out, "Where to write the quote (default: print hex)");
  r->add_option("--ccel-out", o->ccel_out,
                "Where to write the CCEL log area (the RTMR event log, padding included)");
  r->add_option("--ccel-table-out", o->ccel_table_out, "Where to write the ACPI CCEL table");
  r->add_option("--tsm-root", o->tsm_root, "configfs-tsm report folder")->capture_default_str();
  r->add_option("--acpi-tables", o->acpi_tables,
                "ACPI tables folder (CCEL and data/CCEL are read from it)")
      ->capture_default_str();
  r->add_flag("--json", o->json, "Print the outcome (and the quote as hex) as JSON");
  r->callback([&ctx, o] { ctx.exit_code = tdx_report(*o); });
}

}  // namespace concierge::cli
