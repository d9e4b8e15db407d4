#include "server/request_guard.h"

#include <algorithm>
#include <cctype>

namespace concierge::server::internal {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

HeadRefusal refusal(int status, std::string slug, std::string detail) {
  return HeadRefusal{status, std::move(slug), std::move(detail)};
}

}  // namespace

std::optional<HeadRefusal> check_request_head(std::string_view method,
                                              const httplib::Headers& headers,
                                              std::size_t max_body_bytes) {
  const bool bodyless = method == "GET" || method == "HEAD";
  if (!bodyless && method != "POST" && method != "PUT" && method != "DELETE") {
    return refusal(405, "method-not-allowed",
                   "the method is not one of GET, HEAD, POST, PUT, DELETE");
  }
  // Headers is a case-insensitive multimap: every spelling counts.
  const auto encodings = headers.equal_range("Content-Encoding");
  for (auto it = encodings.first; it != encodings.second; ++it) {
    if (!equals_ignoring_case(trimmed(it->second), "identity")) {
      return refusal(415, "unsupported-content-encoding",
                     "Content-Encoding is not accepted: send the body uncompressed");
    }
  }
  const std::size_t transfer_encodings = headers.count("Transfer-Encoding");
  const std::size_t lengths = headers.count("Content-Length");
  if (transfer_encodings > 1) {
    return refusal(400, "bad-framing", "Transfer-Encoding is given more than once");
  }
  if (transfer_encodings == 1 &&
      !equals_ignoring_case(trimmed(headers.find("Transfer-Encoding")->second), "chunked")) {
    return refusal(400, "bad-framing", "Transfer-Encoding other than \"chunked\" is not accepted");
  }
  if (lengths > 1) return refusal(400, "bad-framing", "Content-Length is given more than once");
  if (lengths == 1 && transfer_encodings == 1) {
    return refusal(400, "bad-framing", "both Content-Length and Transfer-Encoding are given");
  }
  if (lengths == 1) {
    const std::string_view value = trimmed(headers.find("Content-Length")->second);
    if (value.empty() || value.size() > 18 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return refusal(400, "bad-framing", "Content-Length is not a decimal number");
    }
    const std::size_t length = std::stoull(std::string(value));
    if (bodyless && length > 0) {
      return refusal(400, "bad-framing", "a " + std::string(method) + " request has no body");
    }
    if (length > max_body_bytes) {
      return refusal(
          413, "payload-too-large",
          "the request body is over the limit of " + std::to_string(max_body_bytes) + " bytes");
    }
  }
  if (bodyless && transfer_encodings == 1) {
    return refusal(400, "bad-framing", "a " + std::string(method) + " request has no body");
  }
  return std::nullopt;
}

}  // namespace concierge::server::internal
