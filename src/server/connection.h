// One connection of the broker's HTTP server, read under limits
// cpp-httplib 0.11 does not have (not installed; http_server.cc uses it).
//
// cpp-httplib's own socket loop bounds only each single read by a timeout,
// so a client sending one byte per second holds a thread for ever, and it
// reads a header line of any length into memory before checking it. Here
// the server's connection loop is ours (HttpServer overrides the library's
// per-socket entry point) and the library parses requests from a
// RequestStream that enforces, per request:
//   - the head (request line and headers) within `head` of its first byte,
//     at most `max_head_bytes` and `max_header_lines` lines;
//   - the whole request within `request`, its body at most
//     `max_body_wire_bytes` as sent (chunk framing included; the decoded
//     body is bounded exactly by the server's content receiver);
//   - each read or write waiting at most `idle`;
//   - between requests, at most `keep_alive` of silence.
// A request whose stream failed, that the library refused before routing,
// or whose handler asked for it (RequestState::close) ends the connection:
// its unread body is never parsed as a next request.
//
// Thread safety: a connection is served by one thread; current_request()
// is that thread's.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>

namespace concierge::server::internal {

using Clock = std::chrono::steady_clock;

struct ConnectionLimits {
  std::size_t max_head_bytes = 32 * 1024;
  std::size_t max_header_lines = 100;
  std::size_t max_body_wire_bytes = 3 << 20;
  std::chrono::milliseconds idle{10000};
  std::chrono::milliseconds head{10000};
  std::chrono::milliseconds request{60000};
  std::chrono::milliseconds keep_alive{2000};
  std::size_t max_requests = 1000;
};

// The bytes of one connection.
class Transport {
 public:
  virtual ~Transport() = default;
  // > 0: bytes read; 0: the peer closed; -1: an error, or nothing by `deadline`.
  virtual long read_some(char* out, std::size_t size, Clock::time_point deadline) = 0;
  // > 0: bytes written; -1: an error, or no room by `deadline`.
  virtual long write_some(const char* data, std::size_t size, Clock::time_point deadline) = 0;
  // True when something (bytes or the peer's close) can be read before `deadline`.
  virtual bool wait_readable(Clock::time_point deadline) = 0;
  virtual int fd() const = 0;  // -1 without a socket
};

// A connected socket (made non-blocking).
std::unique_ptr<Transport> socket_transport(int fd);
// TLS over a connected socket, the handshake done by `deadline`; nullptr
// when it fails. `ctx` must outlive the transport.
std::unique_ptr<Transport> tls_transport(int fd, SSL_CTX* ctx, Clock::time_point deadline);
// `input` as what the peer sent (then its close); what is written goes to
// `output`. Deadlines are ignored.
std::unique_ptr<Transport> memory_transport(std::string_view input, std::string& output);

// What the handlers of the request being served on this thread learnt.
struct RequestState {
  bool routed = false;  // the library parsed it and called the pre-routing handler
  bool close = false;   // end the connection after the response
};
// The request served on this thread, or nullptr.
RequestState* current_request();

// Calls httplib::Server::process_request(stream, last, connection_closed).
using ProcessRequest = std::function<bool(httplib::Stream&, bool last, bool& connection_closed)>;

// Serves requests from `transport` until the peer closes, a limit is hit,
// a request must end the connection (above), or `stopping()`. True when it
// ended on a refused or failed request: the peer may still be sending, and
// the socket should be closed with linger_close().
bool serve_connection(Transport& transport, const ConnectionLimits& limits,
                      const ProcessRequest& process, const std::function<bool()>& stopping);

// Ends a connection whose peer may still be sending: no more writes
// (FIN), then what arrives is read and dropped for a moment (at most
// 500 ms, 2 MiB), so that closing does not reset the connection before the
// peer read the refusal; then closes `fd`.
void linger_close(int fd);

}  // namespace concierge::server::internal
