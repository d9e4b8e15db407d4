// Helpers shared by the evidence table's entries. Not part of the API.
#pragma once

#include <optional>
#include <string>

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

}  // namespace concierge::verifier
