// The key broker on a socket: HTTP/1.1, or HTTPS with an OpenSSL
// certificate and key, through cpp-httplib (Debian's libcpp-httplib; why
// this library: docs/architecture.md). Every request goes to
// Broker::handle; the server adds only transport concerns: the body limit
// (413 problem), a thread pool, keep-alive, timeouts.
//
// Thread safety: start() once; stop() from any thread (e.g. a signal
// watcher) makes run() return.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

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
  int read_timeout_seconds = 10;
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

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::server
