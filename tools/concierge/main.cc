// concierge: remote attestation and secret release for confidential computing.
#include <cstdio>
#include <exception>

#include "cli.h"
#include "cmd_refs.h"

int main(int argc, char** argv) {
  using namespace concierge::cli;
  CLI::App app{"concierge: from a root of trust to actual trust"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "concierge 0.1.0");
  Context ctx;
  register_eventlog(app, ctx);
  register_ima(app, ctx);
  register_boot(app, ctx);
  register_tpm(app, ctx);
  register_snp(app, ctx);
  register_dcap(app, ctx);
  register_verify(app, ctx);
  register_envelope(app, ctx);
  register_appraise(app, ctx);
  register_refs(app, ctx);
  register_serve(app, ctx);
  register_admin(app, ctx);
  register_agent(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "concierge: usage: %s (see --help)\n", e.what());
    return kExitMalformed;
  } catch (const std::exception& e) {
    // No exception is meant to get here; if one does, it is still a one-line
    // error with the malformed-input exit code rather than a crash.
    std::fprintf(stderr, "concierge: error: %s\n", e.what());
    return kExitMalformed;
  }
  return ctx.exit_code;
}
