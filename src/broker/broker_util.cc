#include <openssl/rand.h>

#include <cctype>
#include <cstdio>
#include <mutex>

#include "broker/broker_internal.h"
#include "concierge/core/encoding.h"
#include "concierge/core/json.h"

namespace concierge::broker {

HttpResponse problem_response(int status, std::string_view slug, std::string_view detail) {
  const char* title = status == 400   ? "Bad Request"
                      : status == 401 ? "Unauthorized"
                      : status == 403 ? "Forbidden"
                      : status == 404 ? "Not Found"
                      : status == 405 ? "Method Not Allowed"
                      : status == 413 ? "Payload Too Large"
                      : status == 414 ? "URI Too Long"
                      : status == 415 ? "Unsupported Media Type"
                      : status < 500  ? "Bad Request"
                                      : "Internal Server Error";
  nlohmann::json j = {{"type", "/problems/" + std::string(slug)},
                      {"title", title},
                      {"status", status},
                      {"detail", std::string(detail)}};
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

namespace internal {

ParsedBody parse_body(std::string_view body, std::string_view what) {
  ParsedBody out;
  auto j = parse_json_with_offset(body, what);
  if (!j) {
    out.problem = problem_response(400, "malformed-request", j.error().to_string());
    return out;
  }
  if (!j->is_object()) {
    out.problem =
        problem_response(400, "malformed-request", std::string(what) + ": not a JSON object");
    return out;
  }
  out.json = std::move(*j);
  return out;
}

HttpResponse error_response(const Error& error, std::string_view context) {
  switch (error.code) {
    case Errc::kMalformed:
    case Errc::kTruncated:
    case Errc::kTrailingData:
    case Errc::kUnsupported:
    case Errc::kInvalidArgument:
      return problem_response(400, "malformed-request",
                              std::string(context) + ": " + error.to_string());
    case Errc::kNotFound:
      return problem_response(404, "not-found", std::string(context) + ": " + error.to_string());
    default:
      log_line("error: " + std::string(context) + ": " + error.to_string());
      return problem_response(500, "internal-error",
                              std::string(context) + ": internal error (see the server log)");
  }
}

std::string session_cookie(std::string_view header) {
  std::string v = cookie_value(header, kSessionCookie);
  // Ids are 32 random bytes in base64url (43 characters); anything else is
  // no session of ours, and never reaches the store.
  if (v.size() != 43) return {};
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return {};
  }
  return v;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      std::string_view v = item.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos = end + 1;
  }
  return {};
}

std::string bearer_token(std::string_view authorization) {
  if (authorization.size() < 7) return {};
  std::string scheme(authorization.substr(0, 7));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return {};
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view item = query.substr(pos, end - pos);
    const auto eq = item.find('=');
    if (item.substr(0, eq) == name) {
      std::string out;
      std::string_view v = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out += ' ';
        } else if (v[i] == '%' && i + 2 < v.size() + 0 &&
                   std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
          out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    if (end == query.size()) break;
    pos = end + 1;
  }
  return std::nullopt;
}

std::string random_token(std::size_t size) {
  Bytes b(size);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) return {};
  return base64url_encode(b);
}

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

void log_line(std::string_view line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fprintf(stderr, "concierge: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace internal
}  // namespace concierge::broker
