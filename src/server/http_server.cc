#include "concierge/server/http_server.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>

#include <type_traits>
#include <utility>

#include "server/connection.h"
#include "server/request_guard.h"

namespace concierge::server {
namespace {

// cpp-httplib's server with the connection loop of server/connection.h in
// place of the library's own (it calls the library's request parser).
template <typename Base>
class Guarded final : public Base {
 public:
  template <typename... Args>
  explicit Guarded(const internal::ConnectionLimits& limits, Args&&... args)
      : Base(std::forward<Args>(args)...), limits_(limits) {}

  // True when the connection ended on a refusal (server/connection.h).
  bool serve(internal::Transport& transport, bool until_stopped) {
    return internal::serve_connection(
        transport, limits_,
        [this](httplib::Stream& stream, bool last, bool& closed) {
          return this->process_request(stream, last, closed, nullptr);
        },
        [this, until_stopped] { return until_stopped && this->svr_sock_ == INVALID_SOCKET; });
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    std::unique_ptr<internal::Transport> transport;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) {
      transport =
          internal::tls_transport(sock, this->ssl_context(), internal::Clock::now() + limits_.head);
    } else {
      transport = internal::socket_transport(sock);
    }
    const bool refused = transport && serve(*transport, true);
    transport.reset();
    if (refused) {
      internal::linger_close(sock);
    } else {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
    return true;
  }

  const internal::ConnectionLimits limits_;
};

using PlainServer = Guarded<httplib::Server>;
using TlsServer = Guarded<httplib::SSLServer>;

void set_problem(httplib::Response& res, int status, std::string_view slug,
                 std::string_view detail) {
  broker::HttpResponse p = broker::problem_response(status, slug, detail);
  res.status = status;
  res.set_content(p.body, p.content_type);
}

// The rest of the connection is not read: it ends after this response.
void close_after(httplib::Response& res) {
  if (internal::RequestState* s = internal::current_request()) s->close = true;
  res.set_header("Connection", "close");
}

void serve(broker::Broker& broker, const httplib::Request& req, std::string body,
           httplib::Response& res) {
  broker::HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  const auto q = req.target.find('?');
  if (q != std::string::npos) r.query = req.target.substr(q + 1);
  r.body = std::move(body);
  r.cookie = req.get_header_value("Cookie");
  r.authorization = req.get_header_value("Authorization");
  r.peer = req.remote_addr + ":" + std::to_string(req.remote_port);
  broker::HttpResponse out = broker.handle(r);
  res.status = out.status;
  for (const auto& [name, value] : out.headers) res.set_header(name, value);
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(out.body), out.content_type);
}

}  // namespace

struct HttpServer::Impl {
  broker::Broker* broker = nullptr;
  ServerOptions options;
  // One of the two, as `tls` says; `server` points at it.
  std::unique_ptr<PlainServer> plain;
  std::unique_ptr<TlsServer> secure;
  httplib::Server* server = nullptr;
  bool tls = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::create(broker::Broker& broker,
                                                       const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->broker = &broker;
  impl->options = options;
  if (options.tls_certificate.has_value() != options.tls_private_key.has_value()) {
    return fail(Errc::kInvalidArgument, "TLS needs both a certificate and a private key");
  }
  if (options.read_timeout_seconds <= 0 || options.header_timeout_seconds <= 0 ||
      options.request_timeout_seconds <= 0) {
    return fail(Errc::kInvalidArgument, "the server's timeouts must be positive");
  }
  const std::size_t limit = options.max_body_bytes;
  internal::ConnectionLimits limits;
  limits.max_head_bytes = options.max_header_bytes;
  limits.max_header_lines = options.max_header_count;
  // Chunk framing on top of the body; a client sending one-byte chunks
  // needs six bytes per byte, and is refused.
  limits.max_body_wire_bytes = 2 * limit + 64 * 1024;
  limits.idle = std::chrono::seconds(options.read_timeout_seconds);
  limits.head = std::chrono::seconds(options.header_timeout_seconds);
  limits.request = std::chrono::seconds(options.request_timeout_seconds);
  // Idle keep-alive connections hold a pool thread; a short timeout also
  // bounds how long they keep one.
  limits.keep_alive = std::chrono::seconds(2);
  limits.max_requests = 1000;
  if (options.tls_certificate) {
    // The private key is the broker's identity: only its owner may read it.
    struct stat st {};
    if (::stat(options.tls_private_key->c_str(), &st) != 0) {
      return fail(Errc::kIo, "TLS: cannot read " + options.tls_private_key->string());
    }
    if ((st.st_mode & 077) != 0) {
      return fail(Errc::kInvalidArgument,
                  "TLS: the private key " + options.tls_private_key->string() +
                      " may be read by others than its owner: chmod 600 it");
    }
    auto s = std::make_unique<TlsServer>(limits, options.tls_certificate->c_str(),
                                         options.tls_private_key->c_str());
    if (!s->is_valid()) {
      return fail(Errc::kInvalidArgument, "TLS: OpenSSL refused the certificate " +
                                              options.tls_certificate->string() + " or its key");
    }
    // TLS 1.2 with forward-secret AEAD suites only, and TLS 1.3 (whose
    // suites all are).
    SSL_CTX* ctx = s->ssl_context();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx,
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") != 1) {
      return fail(Errc::kCrypto, "TLS: OpenSSL refused the protocol settings");
    }
    impl->server = s.get();
    impl->secure = std::move(s);
    impl->tls = true;
  } else {
    impl->plain = std::make_unique<PlainServer>(limits);
    impl->server = impl->plain.get();
  }
  httplib::Server& s = *impl->server;
  const std::size_t threads = options.threads == 0 ? 1 : options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(limit);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.read_timeout_seconds, 0);
  // What the library advertises in Keep-Alive: what the loop applies.
  s.set_keep_alive_max_count(limits.max_requests);
  s.set_keep_alive_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(limits.keep_alive).count());
  // A response goes out as two writes (headers, then body): with Nagle's
  // algorithm the body would wait for the client's delayed ACK (~40 ms).
  s.set_tcp_nodelay(true);

  // The head is checked before any body is read (server/request_guard.h).
  s.set_pre_routing_handler([limit](const httplib::Request& req, httplib::Response& res) {
    if (internal::RequestState* st = internal::current_request()) st->routed = true;
    auto refused = internal::check_request_head(req.method, req.headers, limit);
    if (!refused) return httplib::Server::HandlerResponse::Unhandled;
    set_problem(res, refused->status, refused->slug, refused->detail);
    close_after(res);
    return httplib::Server::HandlerResponse::Handled;
  });
  broker::Broker* b = &broker;
  s.Get(".*",
        [b](const httplib::Request& req, httplib::Response& res) { serve(*b, req, {}, res); });
  // Bodies are read here, counted as they arrive (after de-chunking), and
  // refused past the limit whatever their framing.
  const auto with_body = [b, limit](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& read) {
    std::string body;
    // RFC 9112 6.3: a request with neither header has no body.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      bool over = false;
      const bool ok = read([&](const char* data, std::size_t size) {
        if (size > limit - body.size()) {
          over = true;
          return false;
        }
        body.append(data, size);
        return true;
      });
      if (over) {
        set_problem(res, 413, "payload-too-large",
                    "the request body is over the limit of " + std::to_string(limit) + " bytes");
        close_after(res);
        return;
      }
      if (!ok) {
        set_problem(res, 400, "bad-request", "the request body could not be read");
        close_after(res);
        return;
      }
    }
    serve(*b, req, std::move(body), res);
  };
  s.Post(".*", with_body);
  s.Put(".*", with_body);
  s.Delete(".*", with_body);
  // Errors the library answers itself (400 for a request it cannot parse,
  // 414 for a long target) get a problem document too; the broker's own
  // problems already have a body.
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        broker::HttpResponse p =
            broker::problem_response(res.status, "bad-request", "the request could not be served");
        res.set_content(p.body, p.content_type);
        return httplib::Server::HandlerResponse::Handled;
      }));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<int> HttpServer::bind() {
  int port = impl_->options.port;
  if (port == 0) {
    port = impl_->server->bind_to_any_port(impl_->options.host);
    if (port < 0) return fail(Errc::kIo, "cannot listen on " + impl_->options.host);
    return port;
  }
  if (!impl_->server->bind_to_port(impl_->options.host, port)) {
    return fail(Errc::kIo, "cannot listen on " + impl_->options.host + ":" + std::to_string(port));
  }
  return port;
}

Result<void> HttpServer::run() {
  if (!impl_->server->listen_after_bind()) return fail(Errc::kIo, "the server stopped on error");
  return {};
}

void HttpServer::stop() { impl_->server->stop(); }
bool HttpServer::tls() const { return impl_->tls; }

std::string HttpServer::serve_bytes(std::string_view input) {
  std::string output;
  auto transport = internal::memory_transport(input, output);
  if (impl_->plain) {
    impl_->plain->serve(*transport, false);
  } else {
    impl_->secure->serve(*transport, false);  // the bytes as they would be after TLS
  }
  return output;
}

}  // namespace concierge::server
