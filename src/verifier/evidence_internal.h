// Helpers shared by the evidence table's entries. Not part of the API.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::verifier {

// endorsements[key] as base64 / text; nullopt when absent; kMalformed
// ("endorsements.<key>") when present with the wrong type or encoding.
Result<std::optional<Bytes>> optional_base64(const nlohmann::json& endorsements,
                                             const std::string& key);
Result<std::optional<std::string>> optional_text(const nlohmann::json& endorsements,
                                                 const std::string& key);

// One event of a replayed log for "log.unknown_events".
nlohmann::json event_json(const std::string& register_name, std::size_t index,
                          const std::string& description, ByteView digest);

// One register as the evidence reports it and as its event log replays it.
// An empty `replayed` means the log has no bank for it.
struct RegisterReplay {
  std::string name;  // "sha256 PCR 4", "RTMR2"
  Bytes quoted;
  Bytes replayed;
  std::size_t events = 0;  // events the log extended into it
};

// The one rule for every kind with an event log: each register the
// evidence reports is compared with its replay, including registers the log
// never touches (they replay to their reset value), so leaving a register's
// events out of the log cannot go unnoticed. Returns the "log" claim:
// {"replayed": true, "matches_registers", "mismatch" (the first that
// differs, as a sentence naming `log_name`)}.
nlohmann::json compare_with_replay(const std::vector<RegisterReplay>& registers,
                                   const std::string& log_name);

}  // namespace concierge::verifier
