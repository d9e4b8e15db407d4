// RFC 8785 JSON Canonicalization Scheme (JCS): one byte-exact serialization of
// a JSON value, for hashing and signing JSON.
//
// canonicalize() writes (RFC 8785 section 3.2):
//   - no whitespace;
//   - object members sorted by their names compared as arrays of UTF-16 code
//     units (3.2.3) — not by UTF-8 bytes, which order U+E000..U+FFFF after
//     supplementary characters;
//   - strings as ECMAScript JSON.stringify writes them (3.2.2.2): \b \f \n \r
//     \t \" \\ escaped, other U+0000..U+001F as \u00xx (lowercase hex),
//     everything else (DEL and non-ASCII included) as literal UTF-8. A string
//     or name that is not well-formed UTF-8 (overlong forms, surrogates,
//     > U+10FFFF, truncated sequences) is kMalformed;
//   - floating-point numbers as ECMAScript Number::toString (3.2.2.3): the
//     shortest digits that round-trip, plain notation for 1e-7 < |x| < 1e21,
//     otherwise "d.ddde+N"/"de-N"; -0 as "0". NaN and infinities are
//     kMalformed (they have no JSON form);
//   - integers (nlohmann's int64/uint64) as exact decimal. Within I-JSON's
//     range, |x| <= 2^53 - 1 (RFC 7493 2.2), this equals what RFC 8785's
//     double-based serialization gives. Integers outside that range are
//     written exactly too rather than rounded through a double, so documents
//     holding them match only implementations that also keep them exact (RFC
//     8785 3.2.2.3 recommends strings for such values);
//   - nlohmann binary values are kUnsupported (JSON has none).
// Nesting deeper than kMaxDepth is kUnsupported (the serializer recurses).
//
// parse_strict() is the I-JSON parser to pair with it (RFC 8785 3.1, RFC 7493
// 2.3): core/json.h's parser (nesting at most kJsonMaxDepth, at most
// kJsonMaxElements values) with well-formed UTF-8 only, no duplicate member
// names at any depth, no trailing data; any violation is kMalformed.
// nlohmann's own parser silently keeps the last duplicate, which lets two
// parsers of one signed document disagree.
//
// Pure functions; thread-safe. No exceptions escape.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"

namespace concierge::jcs {

inline constexpr std::size_t kMaxDepth = 256;

// The canonical form of `value` (see above).
Result<std::string> canonicalize(const nlohmann::json& value);

// parse_strict(text) then canonicalize().
Result<std::string> canonicalize_text(std::string_view json_text);

// An I-JSON parse (see above). The top-level value may be any JSON value.
Result<nlohmann::json> parse_strict(std::string_view json_text);

// ECMAScript Number::toString of a finite double (RFC 8785 3.2.2.3);
// kMalformed for NaN and infinities.
Result<std::string> number_to_string(double value);

// A JSON string literal, quotes included, escaped as RFC 8785 3.2.2.2 says;
// kMalformed when `utf8` is not well-formed UTF-8.
Result<std::string> quote_string(std::string_view utf8);

// The RFC 8785 3.2.3 member order: true when `a` sorts before `b` as UTF-16
// code-unit arrays. Both must be well-formed UTF-8 (ill-formed input compares
// by bytes; canonicalize() rejects it before sorting).
bool utf16_less(std::string_view a, std::string_view b);

}  // namespace concierge::jcs
