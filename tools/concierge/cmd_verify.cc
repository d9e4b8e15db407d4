// concierge verify <kind>: one subcommand per evidence kind, each verifying
// hardware-signed evidence to its vendor's roots (exit 0 authentic, 1
// rejected, 2 malformed).
#include "cli.h"

namespace concierge::cli {

void register_verify(CLI::App& app, Context& ctx) {
  auto* verify = app.add_subcommand("verify", "Verify hardware-signed evidence (snp, tdx, sgx)");
  verify->require_subcommand(1);
  register_verify_snp(*verify, ctx);
  register_verify_dcap(*verify, ctx);
}

}  // namespace concierge::cli
