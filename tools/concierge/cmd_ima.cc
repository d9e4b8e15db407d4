#include "cli.h"

namespace concierge::cli {

void register_ima(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace concierge::cli
