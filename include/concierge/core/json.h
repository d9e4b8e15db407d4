// JSON text to nlohmann::json with the byte offset of a syntax error, for
// parsers whose errors must name where the input went wrong. nlohmann's
// plain parse() only says that it did. Thread-safe (no shared state).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"

namespace concierge {

// Parses one JSON text (nothing may follow it but whitespace). On a syntax
// error: kMalformed with Error::field = `what`, Error::offset = the byte
// where the parser stopped, and the message "<prefix>not valid JSON: <why>"
// where <prefix> is `message_prefix` (e.g. "policy: ").
Result<nlohmann::json> parse_json_with_offset(std::string_view text, std::string_view what,
                                              std::string_view message_prefix = {});

}  // namespace concierge
