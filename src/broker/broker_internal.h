// Helpers shared by the broker's handlers (not installed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/broker/broker.h"
#include "concierge/core/error.h"

namespace concierge::broker::internal {

// A JSON object from a request body, or a 400 problem naming the offset.
struct ParsedBody {
  std::optional<nlohmann::json> json;
  HttpResponse problem;
};
ParsedBody parse_body(std::string_view body, std::string_view what);

// The problem for an Error: input errors are 400 (the message names the
// field), kNotFound 404, everything else 500 with a generic detail (the
// message goes to stderr, not to the client).
HttpResponse error_response(const Error& error, std::string_view context);

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(std::string_view header, std::string_view name);
// The kbs-session-id cookie when it has the shape of our ids, else "".
std::string session_cookie(std::string_view header);
// The token of "Bearer <token>" (case-insensitive scheme), or "".
std::string bearer_token(std::string_view authorization);
// A query parameter, undecoded ('+' and %XX are decoded), or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// `size` random bytes, base64url; "" when the generator fails.
std::string random_token(std::size_t size);

HttpResponse json_response(int status, const nlohmann::json& body);

void log_line(std::string_view line);

}  // namespace concierge::broker::internal
