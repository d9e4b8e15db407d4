// `concierge refs`: the reference value store on the command line (a JSON
// file, verifier/reference_store.h).
//
//   refs add NAME VALUE [--expires RFC3339] [--provenance TEXT] [--note TEXT]
//   refs list [NAME] [--json]
//   refs rm NAME [VALUE]
//   refs import FILE
//   refs export
//
// Every command takes --file PATH; the default is $CONCIERGE_REFS, else
// ./concierge-refs.json. A file that does not exist is an empty store (add
// and import create it). Writes are atomic (temporary file, then rename).
// Exit codes: 0 success; 1 `rm` found nothing to remove; 2 malformed input or
// usage (one line on stderr).
#pragma once

#include <CLI/CLI.hpp>

#include "cli.h"

namespace concierge::cli {

void register_refs(CLI::App& app, Context& ctx);

}  // namespace concierge::cli
