#include "cli.h"

namespace concierge::cli {

void register_eventlog(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace concierge::cli
