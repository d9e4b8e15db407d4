#include "concierge/server/http_client.h"

#include <algorithm>
#include <cstdint>

namespace concierge::server {

std::string HttpAnswer::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<HttpAnswer> bounded_request(httplib::Client& client, const std::string& method,
                                   const std::string& path, const httplib::Headers& headers,
                                   const std::string& body, const std::string& content_type,
                                   std::size_t max_bytes) {
  HttpAnswer answer;
  bool over = false;
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.body = body;
    if (!content_type.empty()) req.set_header("Content-Type", content_type);
  }
  req.response_handler = [&](const httplib::Response& r) {
    const std::string length = r.get_header_value("Content-Length");
    if (!length.empty() &&
        std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        (length.size() > 18 || std::stoull(length) > max_bytes)) {
      over = true;
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    if (size > max_bytes - answer.body.size()) {
      over = true;
      return false;
    }
    answer.body.append(data, size);
    return true;
  };
  httplib::Result res = client.send(req);
  if (over) {
    return fail(Errc::kIo, method + " " + path + ": the answer is over the limit of " +
                               std::to_string(max_bytes) + " bytes");
  }
  if (!res) {
    return fail(Errc::kIo, "cannot reach the server: " + httplib::to_string(res.error()));
  }
  answer.status = res->status;
  answer.headers = res->headers;
  return answer;
}

}  // namespace concierge::server
