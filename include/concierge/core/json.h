// The one parser for JSON text that did not come from this process: request
// bodies, evidence, policies and reference documents, JOSE headers and
// payloads, key sets, configuration. It refuses, without recursing and
// without building what lies past the limit:
//   - nesting deeper than kJsonMaxDepth (arrays and objects),
//   - more than kJsonMaxElements values in the whole text,
// so a document small enough to pass a body limit cannot exhaust the stack
// (recursive copies, comparisons and serialization of the tree it gives are
// bounded by the depth) or amplify into a large tree. nlohmann's own
// parse() has no limit of either kind: call it only on text this process
// wrote.
//
// Thread-safe (no shared state). No exception escapes.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"

namespace concierge {

inline constexpr std::size_t kJsonMaxDepth = 64;
inline constexpr std::size_t kJsonMaxElements = std::size_t{1} << 18;  // 262,144

struct JsonParseOptions {
  // RFC 7493 (I-JSON) 2.3: a member name twice in one object is refused
  // (nlohmann would keep the last one silently).
  bool reject_duplicate_names = false;
};

// Parses one JSON text (nothing may follow it but whitespace). Every
// failure is kMalformed with Error::field = `what` and the message
// "<prefix><why>" where <prefix> is `message_prefix` (e.g. "policy: "):
//   - a syntax error: "not valid JSON: <nlohmann's reason>", Error::offset =
//     the byte where the parser stopped;
//   - "JSON nested deeper than 64 levels", Error::offset = the bracket that
//     opened the 65th level;
//   - "JSON with more than 262144 values";
//   - "duplicate member name \"<name>\"" (with reject_duplicate_names).
// Strings must be well-formed UTF-8 (nlohmann's lexer checks them).
Result<nlohmann::json> parse_json_with_offset(std::string_view text, std::string_view what,
                                              std::string_view message_prefix = {},
                                              JsonParseOptions options = {});

}  // namespace concierge
