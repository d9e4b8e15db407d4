// The key broker on a socket: HTTP/1.1, or HTTPS with an OpenSSL
// certificate and key, through cpp-httplib (Debian's libcpp-httplib; why
// this library: docs/architecture.md). Every request goes to
// Broker::handle; the server adds only transport concerns: a thread pool,
// keep-alive, and limits the library lacks, each with a test
// (tests/security/hardening_http_test.cc):
//   - every body is at most max_body_bytes whatever its framing: a
//     Content-Length over it is refused before reading (413), a chunked
//     body is counted as it arrives and refused past it (413);
//     Content-Encoding is refused (415: nothing is ever inflated);
//   - ambiguous framing is refused (400): Content-Length twice or not a
//     number, Transfer-Encoding other than one "chunked", both at once, a
//     body on GET/HEAD; other methods get 405;
//   - the head is at most max_header_bytes and max_header_count lines and
//     must arrive within header_timeout_seconds of its first byte (a client
//     sending a byte a second is cut off), a request within
//     request_timeout_seconds, and no read or write waits more than
//     read_timeout_seconds;
//   - a refused request ends its connection (its body is never read as
//     the next request).
// (server/connection.h and server/request_guard.h have the details.)
//
// Thread safety: start() once; stop() from any thread (e.g. a signal
// watcher) makes run() return.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/broker/broker.h"
#include "concierge/core/result.h"

namespace concierge::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                       // 0: any free port (bind() says which)
  std::optional<std::filesystem::path> tls_certificate;  // PEM chain; with tls_private_key
  std::optional<std::filesystem::path> tls_private_key;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t threads = 16;
  int read_timeout_seconds = 10;     // one read or write
  int header_timeout_seconds = 10;   // the TLS handshake; a request's head from its first byte
  int request_timeout_seconds = 60;  // a whole request, body included
  std::size_t max_header_bytes = 32 * 1024;  // request line and headers
  std::size_t max_header_count = 100;
};

class HttpServer {
 public:
  // kInvalidArgument for a TLS certificate without key (or the reverse) or a
  // certificate/key OpenSSL refuses.
  static Result<std::unique_ptr<HttpServer>> create(broker::Broker& broker,
                                                    const ServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port. kIo when it cannot.
  Result<int> bind();
  // Serves until stop(); kIo when serving fails.
  Result<void> run();
  void stop();
  bool tls() const;

  // For fuzzing: the bytes of one connection (after TLS) through the path
  // a socket's take (the limits, cpp-httplib's parser, the broker), without
  // a socket or timeouts; returns what the server wrote back. May be
  // called from several threads, and while run() serves.
  std::string serve_bytes(std::string_view input);

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::server
