// concierge tdx|sgx show: an Intel DCAP quote decoded without verifying.
// (verify tdx|sgx is in cmd_dcap_verify.cc; the in-guest collection in
// cmd_tdx_attest.cc; the simulator in cmd_dcap_simulate.cc.)
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "concierge/evidence/dcap/ccel.h"
#include "concierge/evidence/dcap/quote.h"
#include "concierge/measure/reference.h"

namespace concierge::cli {
namespace {

namespace dcap = evidence::dcap;

struct ShowOptions {
  std::string quote;
  bool json = false;
};

std::string text(const nlohmann::json& c, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string flags_text(const nlohmann::json& flags) {
  std::string on;
  for (const auto& [name, value] : flags.items()) {
    if (value.is_boolean() && value.get<bool>()) on += (on.empty() ? "" : ",") + name;
  }
  return on.empty() ? "-" : on;
}

void print_line(const char* label, const std::string& value) {
  std::printf("  %-18s %s\n", label, value.c_str());
}

void print_text(const dcap::Quote& q, const nlohmann::json& c) {
  std::printf("Intel DCAP quote v%d, %s%s, certification data type %d\n", q.header.version,
              q.is_tdx() ? "TDX TD report " : "SGX enclave report",
              q.is_tdx() ? text(c, "td_report_version").c_str() : "", q.sig.certification.type);
  print_line("qe_svn / pce_svn", text(c, "qe_svn") + " / " + text(c, "pce_svn"));
  if (q.is_tdx()) {
    for (const char* key : {"mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
                            "mrownerconfig", "mrseam", "tee_tcb_svn", "report_data"}) {
      print_line(key, text(c, key));
    }
    const auto& attributes = c["td_attributes"];
    print_line("td_attributes", text(attributes, "raw") + ": " + flags_text(attributes));
    print_line("xfam", text(c["xfam"], "raw") + ": " + flags_text(c["xfam"]));
  } else {
    for (const char* key :
         {"mrenclave", "mrsigner", "isvprodid", "isvsvn", "cpusvn", "report_data"}) {
      print_line(key, text(c, key));
    }
    const auto& attributes = c["attributes"];
    print_line("attributes", text(attributes, "flags") + ": " + flags_text(attributes));
  }
  print_line("pck chain", q.pck_chain_pem() ? "in the quote" : "absent");
}

int run_show(const ShowOptions& o) {
  auto data = read_file(o.quote);
  if (!data) return report("show", data.error());
  auto quote = dcap::parse_quote(*data);
  if (!quote) return report("show: " + o.quote, quote.error());
  const nlohmann::json claims = dcap::quote_claims(*quote);
  if (o.json) {
    std::printf("%s\n", claims.dump(2).c_str());
  } else {
    print_text(*quote, claims);
  }
  return kExitOk;
}

void add_show(CLI::App& family, Context& ctx, const char* what) {
  auto o = std::make_shared<ShowOptions>();
  auto* c = family.add_subcommand("show", std::string("Decode ") + what + " without verifying it");
  c->add_option("quote", o->quote, "Quote file (trailing zero padding allowed)")->required();
  c->add_flag("--json", o->json, "Print the claims as JSON");
  c->callback([o, &ctx] { ctx.exit_code = run_show(*o); });
}

struct CcelOptions {
  std::string log;
  std::string table;
  std::string reference_out;
  bool json = false;
};

int run_ccel(const CcelOptions& o) {
  nlohmann::json out;
  if (!o.table.empty()) {
    auto data = read_file(o.table);
    if (!data) return report("tdx ccel", data.error());
    auto table = dcap::parse_ccel_table(*data);
    if (!table) return report("tdx ccel: " + o.table, table.error());
    out["table"] = dcap::ccel_table_json(*table);
  }
  auto data = read_file(o.log);
  if (!data) return report("tdx ccel", data.error());
  auto replay = dcap::replay_ccel(*data);
  if (!replay) return report("tdx ccel: " + o.log, replay.error());
  out["replay"] = dcap::rtmr_replay_json(*replay);
  if (!o.reference_out.empty()) {
    const auto refs = measure::reference_values_json(dcap::rtmr_reference_values(*replay));
    if (auto w = write_text(o.reference_out, refs.dump(2) + "\n"); !w) {
      return report("tdx ccel", w.error());
    }
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  const auto& r = out["replay"];
  std::printf("CCEL log: %zu records, replayed (SHA-384)\n", r["events"].get<std::size_t>());
  for (int i = 0; i < 4; ++i) {
    const std::string key = "rtmr" + std::to_string(i);
    std::printf("  %-6s %s (%zu events)\n", key.c_str(), r[key].get<std::string>().c_str(),
                r["rtmr_events"][i].get<std::size_t>());
  }
  return kExitOk;
}

void add_ccel(CLI::App& tdx, Context& ctx) {
  auto o = std::make_shared<CcelOptions>();
  auto* c = tdx.add_subcommand(
      "ccel", "Replay a CCEL event log into RTMR0-3 (and write reference values from it)");
  c->add_option("log", o->log, "CCEL log area (/sys/firmware/acpi/tables/data/CCEL)")->required();
  c->add_option("--table", o->table, "The CCEL ACPI table (/sys/firmware/acpi/tables/CCEL)");
  c->add_option("--reference-out", o->reference_out,
                "Write reference values from this (known-good) log: \"pcr\" i = RTMR i, sha384");
  c->add_flag("--json", o->json, "Print the table and the replay as JSON");
  c->callback([o, &ctx] { ctx.exit_code = run_ccel(*o); });
}

}  // namespace

void register_dcap(CLI::App& app, Context& ctx) {
  auto* tdx = app.add_subcommand("tdx", "Intel TDX: decode, collect and simulate DCAP quotes");
  tdx->require_subcommand(1);
  add_show(*tdx, ctx, "an Intel TDX quote (v4/v5; SGX quotes decode too)");
  add_ccel(*tdx, ctx);
  register_tdx_attester(*tdx, ctx);
  register_dcap_simulator(*tdx, ctx, /*tdx=*/true);
  auto* sgx = app.add_subcommand("sgx", "Intel SGX: decode and simulate DCAP quotes");
  sgx->require_subcommand(1);
  add_show(*sgx, ctx, "an Intel SGX quote (v3/v4/v5; TDX quotes decode too)");
  register_dcap_simulator(*sgx, ctx, /*tdx=*/false);
}

}  // namespace concierge::cli
