// JSON and text rendering of PCR banks, shared by `eventlog replay`,
// `ima replay` and `boot`: {"pcrs": {"sha256": {"0": "<hex>", ...}, ...}}.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "concierge/measure/pcr_bank.h"

namespace concierge::cli {

// Bank name -> PCR index (decimal string) -> lowercase hex, for the PCRs that
// were extended (all 24 when `all` is set). Banks that no event extended are
// left out unless `all` is set, as tpm2_eventlog does.
nlohmann::json pcrs_json(const std::vector<measure::PcrBank>& banks, bool all = false);
// Prints JSON on stdout (1-space indent). Invalid UTF-8 in strings taken from
// evidence (IMA file names, say) is replaced with U+FFFD instead of throwing.
void print_json(const nlohmann::json& value);
// "sha256:\n   0: <hex>\n ..." for the same PCRs.
std::string pcrs_text(const std::vector<measure::PcrBank>& banks, bool all = false);

}  // namespace concierge::cli
