#include "cli.h"

namespace concierge::cli {

void register_boot(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace concierge::cli
