#include "concierge/server/http_server.h"

#include <httplib.h>

namespace concierge::server {

struct HttpServer::Impl {
  broker::Broker* broker = nullptr;
  ServerOptions options;
  std::unique_ptr<httplib::Server> server;
  bool tls = false;
};

namespace {

void serve(broker::Broker& broker, const httplib::Request& req, httplib::Response& res) {
  broker::HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  const auto q = req.target.find('?');
  if (q != std::string::npos) r.query = req.target.substr(q + 1);
  r.body = req.body;
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

Result<std::unique_ptr<HttpServer>> HttpServer::create(broker::Broker& broker,
                                                       const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->broker = &broker;
  impl->options = options;
  if (options.tls_certificate.has_value() != options.tls_private_key.has_value()) {
    return fail(Errc::kInvalidArgument, "TLS needs both a certificate and a private key");
  }
  if (options.tls_certificate) {
    auto s = std::make_unique<httplib::SSLServer>(options.tls_certificate->c_str(),
                                                  options.tls_private_key->c_str());
    if (!s->is_valid()) {
      return fail(Errc::kInvalidArgument, "TLS: OpenSSL refused the certificate " +
                                              options.tls_certificate->string() + " or its key");
    }
    impl->server = std::move(s);
    impl->tls = true;
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& s = *impl->server;
  const std::size_t threads = options.threads == 0 ? 1 : options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.read_timeout_seconds, 0);
  s.set_keep_alive_max_count(1000);
  // Idle keep-alive connections hold a pool thread; a short timeout also
  // bounds how long a stop waits for them.
  s.set_keep_alive_timeout(2);
  // A response goes out as two writes (headers, then body): with Nagle's
  // algorithm the body would wait for the client's delayed ACK (~40 ms).
  s.set_tcp_nodelay(true);
  broker::Broker* b = &broker;
  const auto handler = [b](const httplib::Request& req, httplib::Response& res) {
    serve(*b, req, res);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  // Errors the library answers itself (413 for a body over the limit, 400
  // for a request it cannot parse, 405 for another method) get a problem
  // document too; the broker's own problems already have a body.
  const std::size_t limit = options.max_body_bytes;
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [limit](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string detail = res.status == 413 ? "the request body is over the limit of " +
                                                     std::to_string(limit) + " bytes"
                                               : "the request could not be served";
        broker::HttpResponse p = broker::problem_response(
            res.status, res.status == 413 ? "payload-too-large" : "bad-request", detail);
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

}  // namespace concierge::server
