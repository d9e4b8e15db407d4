// What the broker's server refuses in a request's head, before any of its
// body is read (not installed; http_server.cc's pre-routing handler):
//   - a method other than GET, HEAD, POST, PUT, DELETE: 405;
//   - Content-Encoding (other than "identity"): 415. The KBS protocol never
//     compresses, and cpp-httplib would inflate gzip/brotli bodies before
//     any limit applies;
//   - Transfer-Encoding other than exactly one "chunked", Content-Length
//     given twice or not a plain decimal number, or both headers at once
//     (RFC 9112 6.1/6.3: the framing smuggling attacks rely on): 400;
//   - a body on GET or HEAD: 400 (the library would not read it and it
//     would be parsed as the next request);
//   - Content-Length over `max_body_bytes`: 413.
// Every refusal also ends the connection (the body stays unread).
// Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

namespace concierge::server::internal {

struct HeadRefusal {
  int status = 400;
  std::string slug;    // the problem type (broker::problem_response)
  std::string detail;  // one line, naming the header
};

std::optional<HeadRefusal> check_request_head(std::string_view method,
                                              const httplib::Headers& headers,
                                              std::size_t max_body_bytes);

}  // namespace concierge::server::internal
