// JSON and text rendering of PCR banks, shared by `eventlog replay`,
// `ima replay` and `boot`: {"pcrs": {"sha256": {"0": "<hex>", ...}, ...}}.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::cli {

// Bank name -> PCR index (decimal string) -> lowercase hex, for the PCRs that
// were extended (all 24 when `all` is set). Banks that no event extended are
// left out unless `all` is set, as tpm2_eventlog does.
nlohmann::json pcrs_json(const std::vector<measure::PcrBank>& banks, bool all = false);
// PCR values as the TPM commands pass them: bank -> PCR index -> value.
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;
// The same {"<bank>": {"<index>": "<hex>"}} shape for given values.
nlohmann::json pcr_values_json(const PcrValues& values);
// Parses {"pcrs": {"sha256": {"0": "<hex>", ...}, ...}} (kMalformed naming the
// entry when a bank is unknown, an index is not 0-23, or a value is not hex of
// the bank's digest size).
Result<PcrValues> parse_pcrs_json(ByteView text);
// Prints JSON on stdout (1-space indent). Invalid UTF-8 in strings taken from
// evidence (IMA file names, say) is replaced with U+FFFD instead of throwing.
void print_json(const nlohmann::json& value);
// "sha256:\n   0: <hex>\n ..." for the same PCRs.
std::string pcrs_text(const std::vector<measure::PcrBank>& banks, bool all = false);

}  // namespace concierge::cli
