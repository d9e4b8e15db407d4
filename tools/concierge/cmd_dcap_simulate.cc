// concierge tdx|sgx simulate: a software Intel quoting enclave for tests and
// demos. `init DIR` generates a test PKI shaped like Intel's (never Intel's:
// quotes verify only with `verify tdx|sgx --root DIR/root.pem`) and signed
// collateral for the family's TEE in DIR; `quote --dir DIR` issues byte-exact
// signed quotes (TDX v4, SGX v3) from that state.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/simulator.h"

namespace concierge::cli {
namespace {

namespace dcap = evidence::dcap;

struct InitOptions {
  std::string dir;
  std::string fmspc;
  std::string tcb_status = "UpToDate";
  std::vector<std::string> advisories;
};

struct QuoteOptions {
  std::string dir;
  std::string report_data;
  bool debug = false;
  std::string out;
  // TDX
  std::string mrtd;
  std::array<std::string, 4> rtmr;
  std::string mrconfigid;
  std::string mrowner;
  std::string mrownerconfig;
  // SGX
  std::string mrenclave;
  std::string mrsigner;
  unsigned isvprodid = 0;
  unsigned isvsvn = 0;
};

// Hex into a fixed-size field, zero-padded on the right; longer is an error.
template <std::size_t N>
Result<void> hex_into(const std::string& text, const char* name, std::array<std::uint8_t, N>& out) {
  if (text.empty()) return {};
  Result<Bytes> bytes = hex_decode(text);
  if (!bytes) return fail(Errc::kInvalidArgument, std::string(name) + " is not hex");
  if (bytes->size() > N) {
    return fail(Errc::kInvalidArgument,
                std::string(name) + " is longer than " + std::to_string(N) + " bytes");
  }
  out.fill(0);
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return {};
}

const char* family_name(bool tdx) { return tdx ? "tdx" : "sgx"; }

Result<dcap::DcapSimulatorOptions> simulator_options(const InitOptions& o) {
  dcap::DcapSimulatorOptions options;
  if (!o.fmspc.empty()) {
    Result<Bytes> fmspc = hex_decode(o.fmspc);
    if (!fmspc || fmspc->size() != dcap::kFmspcSize) {
      return fail(Errc::kInvalidArgument, "--fmspc must be 6 bytes of hex");
    }
    std::copy(fmspc->begin(), fmspc->end(), options.fmspc.begin());
  }
  return options;
}

Result<dcap::CollateralOptions> collateral_options(const InitOptions& o) {
  dcap::CollateralOptions c;
  c.tcb_status = dcap::parse_tcb_status(o.tcb_status);
  if (c.tcb_status == dcap::TcbStatus::kUnknown) {
    return fail(Errc::kInvalidArgument, "--tcb-status '" + o.tcb_status +
                                            "' is not an Intel TCB status (UpToDate, "
                                            "OutOfDate, Revoked, ...)");
  }
  c.advisory_ids = o.advisories;
  return c;
}

int run_init(const InitOptions& o, bool tdx) {
  const std::string what = std::string(family_name(tdx)) + " simulate init";
  auto options = simulator_options(o);
  if (!options) return report(what, options.error());
  auto collateral = collateral_options(o);
  if (!collateral) return report(what, collateral.error());
  auto sim = dcap::DcapSimulator::create(*options);
  if (!sim) return report(what, sim.error());
  if (auto saved = sim->save(o.dir); !saved) return report(what, saved.error());
  const dcap::TeeType tee = tdx ? dcap::TeeType::kTdx : dcap::TeeType::kSgx;
  if (auto written = sim->write_collateral(o.dir, tee, *collateral); !written) {
    return report(what, written.error());
  }
  // save() wrote root.pem: the test root alone.
  const std::string root = (std::filesystem::path(o.dir) / "root.pem").string();
  std::printf("simulated %s quoting enclave in %s (FMSPC %s), collateral %s\n", tdx ? "TDX" : "SGX",
              o.dir.c_str(), hex_encode(sim->fmspc()).c_str(), o.tcb_status.c_str());
  std::printf("its test root, to trust explicitly: %s\n", root.c_str());
  return kExitOk;
}

Result<Bytes> make_quote(const dcap::DcapSimulator& sim, const QuoteOptions& o, bool tdx) {
  if (tdx) {
    dcap::TdQuoteInput in;
    CONCIERGE_RETURN_IF_ERROR(hex_into(o.report_data, "--report-data", in.report_data));
    CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrtd, "--mrtd", in.mr_td));
    for (std::size_t i = 0; i < 4; ++i) {
      const std::string name = "--rtmr" + std::to_string(i);
      CONCIERGE_RETURN_IF_ERROR(hex_into(o.rtmr[i], name.c_str(), in.rtmr[i]));
    }
    CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrconfigid, "--mrconfigid", in.mr_config_id));
    CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrowner, "--mrowner", in.mr_owner));
    CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrownerconfig, "--mrownerconfig", in.mr_owner_config));
    if (o.debug) in.td_attributes |= 1;  // TUD.DEBUG
    return sim.tdx_quote(in);
  }
  dcap::SgxQuoteInput in;
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.report_data, "--report-data", in.report_data));
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrenclave, "--mrenclave", in.mr_enclave));
  CONCIERGE_RETURN_IF_ERROR(hex_into(o.mrsigner, "--mrsigner", in.mr_signer));
  in.isv_prod_id = static_cast<std::uint16_t>(o.isvprodid);
  in.isv_svn = static_cast<std::uint16_t>(o.isvsvn);
  if (o.debug) in.attributes_flags |= 2;  // ATTRIBUTES.DEBUG
  return sim.sgx_quote(in);
}

int run_quote(const QuoteOptions& o, bool tdx) {
  const std::string what = std::string(family_name(tdx)) + " simulate quote";
  auto sim = dcap::DcapSimulator::load(o.dir);
  if (!sim) return report(what, sim.error());
  auto bytes = make_quote(*sim, o, tdx);
  if (!bytes) return report(what, bytes.error());
  if (o.out.empty()) {
    std::fwrite(bytes->data(), 1, bytes->size(), stdout);
  } else if (auto w = write_file(o.out, *bytes); !w) {
    return report(what, w.error());
  }
  return kExitOk;
}

}  // namespace

void register_dcap_simulator(CLI::App& family, Context& ctx, bool tdx) {
  auto* sim = family.add_subcommand(
      "simulate", "A software Intel quoting enclave under generated test roots (not Intel's)");
  sim->require_subcommand(1);

  auto init = std::make_shared<InitOptions>();
  auto* i = sim->add_subcommand("init", std::string("Generate a test PCK PKI and signed ") +
                                            (tdx ? "TDX" : "SGX") +
                                            " collateral into a folder (root.pem: the test root)");
  i->add_option("dir", init->dir, "State and collateral folder (keys are written mode 0600)")
      ->required();
  i->add_option("--fmspc", init->fmspc, "FMSPC of the simulated platform (6 bytes hex)");
  i->add_option("--tcb-status", init->tcb_status,
                "tcbStatus of the TCB level the platform meets (UpToDate, OutOfDate, ...)")
      ->capture_default_str();
  i->add_option("--advisory", init->advisories, "An advisory ID of that level; repeatable");
  i->callback([init, &ctx, tdx] { ctx.exit_code = run_init(*init, tdx); });

  auto q = std::make_shared<QuoteOptions>();
  auto* c = sim->add_subcommand("quote", tdx ? "Issue a signed TDX quote (v4, TD 1.0 body)"
                                             : "Issue a signed SGX quote (v3)");
  c->add_option("--dir", q->dir, "State folder made by `simulate init`")->required();
  c->add_option("--report-data", q->report_data, "REPORT_DATA (hex, up to 64 bytes)");
  if (tdx) {
    c->add_option("--mrtd", q->mrtd, "MRTD (hex, up to 48 bytes)");
    for (std::size_t k = 0; k < 4; ++k) {
      c->add_option("--rtmr" + std::to_string(k), q->rtmr[k],
                    "RTMR" + std::to_string(k) + " (hex, up to 48 bytes)");
    }
    c->add_option("--mrconfigid", q->mrconfigid, "MRCONFIGID (hex, up to 48 bytes)");
    c->add_option("--mrowner", q->mrowner, "MROWNER (hex, up to 48 bytes)");
    c->add_option("--mrownerconfig", q->mrownerconfig, "MROWNERCONFIG (hex, up to 48 bytes)");
    c->add_flag("--debug", q->debug, "Set TD_ATTRIBUTES.DEBUG");
  } else {
    c->add_option("--mrenclave", q->mrenclave, "MRENCLAVE (hex, up to 32 bytes)");
    c->add_option("--mrsigner", q->mrsigner, "MRSIGNER (hex, up to 32 bytes)");
    c->add_option("--isvprodid", q->isvprodid, "ISVPRODID")->check(CLI::Range(0, 65535));
    c->add_option("--isvsvn", q->isvsvn, "ISVSVN")->check(CLI::Range(0, 65535));
    c->add_flag("--debug", q->debug, "Set ATTRIBUTES.DEBUG");
  }
  c->add_option("-o,--out", q->out, "Quote file (default: standard output)");
  c->callback([q, &ctx, tdx] { ctx.exit_code = run_quote(*q, tdx); });
}

}  // namespace concierge::cli
