// concierge snp show: an SEV-SNP attestation report decoded without verifying.
// (verify snp is in cmd_snp_verify.cc; the in-guest collection in
// cmd_snp_attest.cc; the simulator in cmd_snp_simulate.cc.)
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::cli {
namespace {

using evidence::snp::Product;

struct ShowOptions {
  std::string report;
  std::string product;
  bool json = false;
};

std::string tcb_text(const nlohmann::json& tcb) {
  std::string s = "bootloader " + std::to_string(tcb["bootloader"].get<int>()) + ", tee " +
                  std::to_string(tcb["tee"].get<int>()) + ", snp " +
                  std::to_string(tcb["snp"].get<int>()) + ", microcode " +
                  std::to_string(tcb["microcode"].get<int>());
  if (tcb.contains("fmc")) s = "fmc " + std::to_string(tcb["fmc"].get<int>()) + ", " + s;
  return s + " (" + tcb["raw"].get<std::string>() + ")";
}

std::string flags_text(const nlohmann::json& flags) {
  std::string on;
  for (const auto& [name, value] : flags.items()) {
    if (value.is_boolean() && value.get<bool>()) on += (on.empty() ? "" : ",") + name;
  }
  return on.empty() ? "-" : on;
}

void print_text(const nlohmann::json& c) {
  const auto& p = c["policy"];
  std::printf("SEV-SNP attestation report v%d (%s)\n", c["version"].get<int>(),
              c["product"].get<std::string>().c_str());
  std::printf("  measurement        %s\n", c["measurement"].get<std::string>().c_str());
  std::printf("  report_data        %s\n", c["report_data"].get<std::string>().c_str());
  std::printf("  host_data          %s\n", c["host_data"].get<std::string>().c_str());
  std::printf("  id_key_digest      %s\n", c["id_key_digest"].get<std::string>().c_str());
  std::printf("  author_key_digest  %s\n", c["author_key_digest"].get<std::string>().c_str());
  std::printf("  family_id          %s\n", c["family_id"].get<std::string>().c_str());
  std::printf("  image_id           %s\n", c["image_id"].get<std::string>().c_str());
  std::printf("  guest_svn          %d\n", c["guest_svn"].get<int>());
  std::printf("  vmpl               %d\n", c["vmpl"].get<int>());
  std::printf("  policy             %s: abi %d.%d, %s\n", p["raw"].get<std::string>().c_str(),
              p["abi_major"].get<int>(), p["abi_minor"].get<int>(), flags_text(p).c_str());
  std::printf("  platform_info      %s: %s\n", c["platform_info"]["raw"].get<std::string>().c_str(),
              flags_text(c["platform_info"]).c_str());
  std::printf("  signing_key        %s%s%s\n", c["signing_key"].get<std::string>().c_str(),
              c["mask_chip_key"].get<bool>() ? ", chip key masked (unsigned)" : "",
              c["author_key_en"].get<bool>() ? ", author key" : "");
  std::printf("  chip_id            %s\n", c["chip_id"].get<std::string>().c_str());
  std::printf("  current_tcb        %s\n", tcb_text(c["current_tcb"]).c_str());
  std::printf("  reported_tcb       %s\n", tcb_text(c["reported_tcb"]).c_str());
  std::printf("  committed_tcb      %s\n", tcb_text(c["committed_tcb"]).c_str());
  std::printf("  launch_tcb         %s\n", tcb_text(c["launch_tcb"]).c_str());
  std::printf("  firmware           %s (committed %s)\n",
              c["current_version"].get<std::string>().c_str(),
              c["committed_version"].get<std::string>().c_str());
  if (c.contains("cpuid")) {
    std::printf("  cpuid              family %02xh model %02xh stepping %d\n",
                c["cpuid"]["family"].get<int>(), c["cpuid"]["model"].get<int>(),
                c["cpuid"]["stepping"].get<int>());
  }
  if (c.contains("launch_mit_vector")) {
    std::printf("  mitigation vector  launch %s, current %s\n",
                c["launch_mit_vector"].get<std::string>().c_str(),
                c["current_mit_vector"].get<std::string>().c_str());
  }
}

int run_show(const ShowOptions& o) {
  auto data = read_file(o.report);
  if (!data) return report("snp show", data.error());
  auto rep = evidence::snp::parse_report(*data);
  if (!rep) return report("snp show: " + o.report, rep.error());
  Product product = rep->cpuid_product();
  if (!o.product.empty()) {
    auto named = evidence::snp::parse_product(o.product);
    if (!named) {
      return report("snp show",
                    make_error(Errc::kInvalidArgument,
                               "unknown product '" + o.product + "' (Milan, Genoa or Turin)"));
    }
    product = *named;
  }
  const nlohmann::json claims = evidence::snp::report_claims(*rep, product);
  if (o.json) {
    std::printf("%s\n", claims.dump(2).c_str());
  } else {
    print_text(claims);
  }
  return kExitOk;
}

}  // namespace

void register_snp(CLI::App& app, Context& ctx) {
  auto* snp = app.add_subcommand("snp", "AMD SEV-SNP: decode, collect and simulate reports");
  snp->require_subcommand(1);

  auto show = std::make_shared<ShowOptions>();
  auto* s = snp->add_subcommand("show", "Decode an attestation report without verifying it");
  s->add_option("report", show->report, "Report file (1184 bytes)")->required();
  s->add_option("--product", show->product,
                "TCB layout for a v2 report (Milan, Genoa, Turin); v3+ carry it in CPUID");
  s->add_flag("--json", show->json, "Print the claims as JSON");
  s->callback([show, &ctx] { ctx.exit_code = run_show(*show); });

  register_snp_attester(*snp, ctx);
  register_snp_simulator(*snp, ctx);
}

}  // namespace concierge::cli
