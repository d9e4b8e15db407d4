// One HTTP request with cpp-httplib's client, its answer read under a size
// limit: the library's own calls buffer whatever a server sends (a 300 MB
// answer cost the agent 1.2 GB). Used by the agent's KBS client
// (attester/kbs_client.h) and by `concierge admin`.
//
// The answer is refused, as soon as that is known, when its Content-Length
// is over `max_bytes`, or when its body (as received: after de-chunking
// and any decompression) grows past it; reading stops there and the
// connection is dropped. Errors: kIo "cannot reach ..." when no answer
// came; kIo "... over the limit of N bytes" for an answer too large.
//
// Thread safety: as the client's (one request at a time per client).
#pragma once

#include <cstddef>
#include <string>

#include <httplib.h>

#include "concierge/core/result.h"

namespace concierge::server {

inline constexpr std::size_t kMaxResponseBytes = std::size_t{1} << 20;  // 1 MiB

struct HttpAnswer {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::string header(const std::string& name) const;  // "" when absent
};

// `method` GET, POST, PUT or DELETE; `content_type` with a body.
Result<HttpAnswer> bounded_request(httplib::Client& client, const std::string& method,
                                   const std::string& path, const httplib::Headers& headers = {},
                                   const std::string& body = {},
                                   const std::string& content_type = {},
                                   std::size_t max_bytes = kMaxResponseBytes);

}  // namespace concierge::server
