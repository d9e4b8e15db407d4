// concierge snp simulate: a software AMD secure processor for tests and demos.
// `init` generates a test ARK/ASK/ASVK/VCEK (never AMD's: reports it signs
// verify only with `verify snp --root DIR/roots.pem`), `report` issues
// byte-exact signed reports from that state.
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/snp/simulator.h"

namespace concierge::cli {
namespace {

namespace snp = evidence::snp;

struct InitOptions {
  std::string dir;
  std::string product = "Milan";
  std::string vlek_csp;
  int ark_bits = 2048;
};

struct ReportOptions {
  std::string dir;
  unsigned version = 3;
  std::string report_data;
  std::string measurement;
  std::string host_data;
  std::string policy;
  std::string reported_tcb;
  bool debug = false;
  unsigned vmpl = 0;
  unsigned guest_svn = 0;
  bool vlek = false;
  bool mask_chip_id = false;
  bool mask_chip_key = false;
  std::string out;
  std::string certs_out;
};

// Hex into a fixed-size field, zero-padded on the right; longer is an error.
template <std::size_t N>
Result<void> hex_into(const std::string& text, const char* name, std::array<std::uint8_t, N>& out) {
  if (text.empty()) return {};
  CONCIERGE_ASSIGN_OR_RETURN(Bytes bytes, hex_decode(text));
  if (bytes.size() > N) {
    return fail(Errc::kInvalidArgument,
                std::string(name) + " is longer than " + std::to_string(N) + " bytes");
  }
  out.fill(0);
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

Result<std::uint64_t> hex_u64(const std::string& text, const char* name) {
  std::string digits = text.rfind("0x", 0) == 0 ? text.substr(2) : text;
  if (digits.empty() || digits.size() > 16 ||
      digits.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return fail(Errc::kInvalidArgument, std::string(name) + " must be up to 16 hex digits");
  }
  return std::stoull(digits, nullptr, 16);
}

int run_init(const InitOptions& o) {
  auto product = snp::parse_product(o.product);
  if (!product) {
    return report("snp simulate init",
                  make_error(Errc::kInvalidArgument, "unknown product '" + o.product + "'"));
  }
  snp::SimulatorOptions options;
  options.product = *product;
  options.ark_bits = o.ark_bits;
  if (!o.vlek_csp.empty()) options.vlek_csp_id = o.vlek_csp;
  auto sim = snp::SnpSimulator::create(options);
  if (!sim) return report("snp simulate init", sim.error());
  if (auto saved = sim->save(o.dir); !saved) return report("snp simulate init", saved.error());
  // One bundle to trust: ASK, ARK (the KDS cert_chain) and ASVK, ARK.
  const std::string roots = sim->cert_chain_pem() + sim->vlek_cert_chain_pem();
  const std::string roots_path = (std::filesystem::path(o.dir) / "roots.pem").string();
  if (auto w = write_text(roots_path, roots); !w) return report("snp simulate init", w.error());
  std::printf("simulated %s secure processor in %s (chip id %s...)\n",
              std::string(snp::product_name(*product)).c_str(), o.dir.c_str(),
              hex_encode(ByteView(sim->chip_id().data(), 8)).c_str());
  std::printf("its test roots, to trust explicitly: %s\n", roots_path.c_str());
  return kExitOk;
}

Result<snp::ReportRequest> build_request(const ReportOptions& o) {
  snp::ReportRequest r;
  r.version = o.version;
  r.vmpl = o.vmpl;
  r.guest_svn = o.guest_svn;
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.report_data, "--report-data", r.report_data));
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.measurement, "--measurement", r.measurement));
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.host_data, "--host-data", r.host_data));
  if (!o.policy.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(r.policy, hex_u64(o.policy, "--policy"));
  }
  if (o.debug) r.policy |= 1ull << 19;
  if (!o.reported_tcb.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(r.reported_tcb, hex_u64(o.reported_tcb, "--reported-tcb"));
  }
  r.signing_key = o.vlek ? snp::SigningKey::kVlek : snp::SigningKey::kVcek;
  r.mask_chip_id = o.mask_chip_id;
  r.mask_chip_key = o.mask_chip_key;
  return r;
}

int run_report(const ReportOptions& o) {
  auto sim = snp::SnpSimulator::load(o.dir);
  if (!sim) return report("snp simulate report", sim.error());
  auto request = build_request(o);
  if (!request) return report("snp simulate report", request.error());
  auto bytes = sim->issue(*request);
  if (!bytes) return report("snp simulate report", bytes.error());
  if (o.out.empty()) {
    std::fwrite(bytes->data(), 1, bytes->size(), stdout);
  } else if (auto w = write_file(o.out, *bytes); !w) {
    return report("snp simulate report", w.error());
  }
  if (!o.certs_out.empty()) {
    auto table = sim->cert_table(request->signing_key);
    if (!table) return report("snp simulate report", table.error());
    if (auto w = write_file(o.certs_out, *table); !w) {
      return report("snp simulate report", w.error());
    }
  }
  return kExitOk;
}

}  // namespace

void register_snp_simulator(CLI::App& snp, Context& ctx) {
  auto* sim = snp.add_subcommand(
      "simulate", "A software AMD secure processor under generated test roots (not AMD's)");
  sim->require_subcommand(1);

  auto init = std::make_shared<InitOptions>();
  auto* i = sim->add_subcommand("init", "Generate a test ARK, ASK, ASVK and VCEK into a folder");
  i->add_option("--dir", init->dir, "State folder (keys are written mode 0600)")->required();
  i->add_option("--product", init->product, "Milan, Genoa or Turin")->capture_default_str();
  i->add_option("--vlek", init->vlek_csp, "Also issue a VLEK for this cloud provider (cspID)");
  i->add_option("--ark-bits", init->ark_bits, "RSA size of the test ARK/ASK/ASVK")
      ->check(CLI::IsMember({2048, 3072, 4096}))
      ->capture_default_str();
  i->callback([init, &ctx] { ctx.exit_code = run_init(*init); });

  auto rep = std::make_shared<ReportOptions>();
  auto* r = sim->add_subcommand("report", "Issue a signed attestation report");
  r->add_option("--dir", rep->dir, "State folder made by `simulate init`")->required();
  r->add_option("--version", rep->version, "Report version: 2, 3 or 5")->capture_default_str();
  r->add_option("--report-data", rep->report_data, "REPORT_DATA (hex, up to 64 bytes)");
  r->add_option("--measurement", rep->measurement, "MEASUREMENT (hex, up to 48 bytes)");
  r->add_option("--host-data", rep->host_data, "HOST_DATA (hex, up to 32 bytes)");
  r->add_option("--policy", rep->policy, "Guest policy (hex; default 30000)");
  r->add_flag("--debug", rep->debug, "Set the policy's DEBUG bit");
  r->add_option("--vmpl", rep->vmpl, "VMPL (0-3)")->check(CLI::Range(0, 3));
  r->add_option("--guest-svn", rep->guest_svn, "GUEST_SVN");
  r->add_option("--reported-tcb", rep->reported_tcb,
                "REPORTED_TCB as a raw 64-bit hex value (default: the VCEK's TCB)");
  r->add_flag("--vlek", rep->vlek, "Sign with the VLEK (needs `init --vlek`)");
  r->add_flag("--mask-chip-id", rep->mask_chip_id, "Report CHIP_ID as zeros (MASK_CHIP_ID)");
  r->add_flag("--mask-chip-key", rep->mask_chip_key,
              "The VCEK disabled (MASK_CHIP_KEY): a zero signature, which verifiers reject");
  r->add_option("--out", rep->out, "Report file (default: standard output)");
  r->add_option("--certs-out", rep->certs_out,
                "Also write the extended report's certificate table");
  r->callback([rep, &ctx] { ctx.exit_code = run_report(*rep); });
}

}  // namespace concierge::cli
