#include "server/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

namespace concierge::server::internal {
namespace {

thread_local RequestState* t_current = nullptr;

// Waits for `events` on `fd` until `deadline`; false on a timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ip.clear();
  port = 0;
  if (r != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    port = ntohs(v6->sin6_port);
  }
  ip = text;
}

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) { set_nonblocking(fd); }

  long read_some(char* out, std::size_t size, Clock::time_point deadline) override {
    for (;;) {
      const ssize_t n = ::recv(fd_, out, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(fd_, POLLIN, deadline)) return -1;
    }
  }
  long write_some(const char* data, std::size_t size, Clock::time_point deadline) override {
    for (;;) {
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n > 0) return n;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(fd_, POLLOUT, deadline))
        return -1;
    }
  }
  bool wait_readable(Clock::time_point deadline) override {
    return wait_for(fd_, POLLIN, deadline);
  }
  int fd() const override { return fd_; }

 private:
  int fd_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsTransport() override {
    if (clean_) (void)SSL_shutdown(ssl_);  // close_notify, without waiting for the peer's
    SSL_free(ssl_);
  }

  // SSL_accept, SSL_read, SSL_write on a non-blocking socket: `call` is
  // retried while OpenSSL wants the socket readable or writable by `deadline`.
  template <typename Call>
  long retry(Call call, Clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      const int r = call();
      if (r > 0) return r;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      if ((e == SSL_ERROR_WANT_READ && wait_for(fd_, POLLIN, deadline)) ||
          (e == SSL_ERROR_WANT_WRITE && wait_for(fd_, POLLOUT, deadline))) {
        continue;
      }
      clean_ = false;  // after SSL_ERROR_SYSCALL or SSL_ERROR_SSL, no shutdown
      return -1;
    }
  }

  long read_some(char* out, std::size_t size, Clock::time_point deadline) override {
    const int n = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    return retry([&] { return SSL_read(ssl_, out, n); }, deadline);
  }
  long write_some(const char* data, std::size_t size, Clock::time_point deadline) override {
    const int n = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    const long w = retry([&] { return SSL_write(ssl_, data, n); }, deadline);
    return w == 0 ? -1 : w;
  }
  bool wait_readable(Clock::time_point deadline) override {
    return SSL_pending(ssl_) > 0 || wait_for(fd_, POLLIN, deadline);
  }
  int fd() const override { return fd_; }

 private:
  int fd_;
  SSL* ssl_;
  bool clean_ = true;
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(std::string_view input, std::string& output) : input_(input), output_(output) {}
  long read_some(char* out, std::size_t size, Clock::time_point) override {
    const std::size_t n = std::min(size, input_.size());
    std::memcpy(out, input_.data(), n);
    input_.remove_prefix(n);
    return static_cast<long>(n);
  }
  long write_some(const char* data, std::size_t size, Clock::time_point) override {
    output_.append(data, size);
    return static_cast<long>(size);
  }
  bool wait_readable(Clock::time_point) override { return !input_.empty(); }
  int fd() const override { return -1; }

 private:
  std::string_view input_;
  std::string& output_;
};

// Buffered reads of a connection; the buffer outlives each request, so
// bytes of a pipelined next request are kept for it.
struct Connection {
  Transport& transport;
  std::array<char, 4096> buffer{};
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t buffered() const { return end - begin; }
};

// One request's view of the connection, enforcing ConnectionLimits.
class RequestStream final : public httplib::Stream {
 public:
  RequestStream(Connection& c, const ConnectionLimits& limits, Clock::time_point start)
      : c_(c),
        limits_(limits),
        head_deadline_(start + limits.head),
        request_deadline_(start + limits.request) {}

  bool failed() const { return failed_; }
  bool in_head() const { return in_head_; }

  bool is_readable() const override {
    return c_.buffered() > 0 || c_.transport.wait_readable(read_deadline());
  }
  bool is_writable() const override { return true; }  // write() waits itself

  ssize_t read(char* out, size_t size) override {
    if (failed_) return -1;
    if (size == 0) return 0;
    if (c_.buffered() == 0) {
      if (Clock::now() >= phase_deadline()) return fail();
      const long n = c_.transport.read_some(c_.buffer.data(), c_.buffer.size(), read_deadline());
      if (n == 0) return 0;
      if (n < 0) return fail();
      c_.begin = 0;
      c_.end = static_cast<std::size_t>(n);
    }
    std::size_t take = std::min(size, c_.buffered());
    const char* data = c_.buffer.data() + c_.begin;
    if (in_head_) {
      // The head ends with an empty line ("\r\n", as the library requires);
      // what follows is the body's, or the next request's.
      for (std::size_t i = 0; i < take; ++i) {
        ++head_bytes_;
        if (data[i] != '\n') {
          ++line_length_;
          last_ = data[i];
          continue;
        }
        const bool empty = line_length_ == 1 && last_ == '\r';
        ++lines_;
        line_length_ = 0;
        last_ = '\n';
        if (empty) {
          in_head_ = false;
          take = i + 1;
          break;
        }
      }
      // The request line, up to max_header_lines headers, the empty line.
      if (head_bytes_ > limits_.max_head_bytes || lines_ > limits_.max_header_lines + 2) {
        return fail();
      }
    } else {
      body_bytes_ += take;
      if (body_bytes_ > limits_.max_body_wire_bytes) return fail();
    }
    std::memcpy(out, data, take);
    c_.begin += take;
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* data, size_t size) override {
    if (size == 0) return 0;
    const long n = c_.transport.write_some(data, size, Clock::now() + limits_.idle);
    return n < 0 ? -1 : n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(c_.transport.fd(), true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(c_.transport.fd(), false, ip, port);
  }
  socket_t socket() const override { return c_.transport.fd(); }

 private:
  ssize_t fail() {
    failed_ = true;
    return -1;
  }
  Clock::time_point phase_deadline() const {
    return in_head_ ? std::min(head_deadline_, request_deadline_) : request_deadline_;
  }
  Clock::time_point read_deadline() const {
    return std::min(Clock::now() + limits_.idle, phase_deadline());
  }

  Connection& c_;
  const ConnectionLimits& limits_;
  const Clock::time_point head_deadline_;
  const Clock::time_point request_deadline_;
  bool in_head_ = true;
  bool failed_ = false;
  std::size_t head_bytes_ = 0;
  std::size_t lines_ = 0;
  std::size_t line_length_ = 0;
  char last_ = '\n';
  std::size_t body_bytes_ = 0;
};

class CurrentRequest {
 public:
  explicit CurrentRequest(RequestState* s) { t_current = s; }
  ~CurrentRequest() { t_current = nullptr; }
  CurrentRequest(const CurrentRequest&) = delete;
  CurrentRequest& operator=(const CurrentRequest&) = delete;
};

}  // namespace

std::unique_ptr<Transport> socket_transport(int fd) {
  return std::make_unique<SocketTransport>(fd);
}

std::unique_ptr<Transport> tls_transport(int fd, SSL_CTX* ctx, Clock::time_point deadline) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  set_nonblocking(fd);
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  auto t = std::make_unique<TlsTransport>(fd, ssl);
  if (t->retry([ssl] { return SSL_accept(ssl); }, deadline) <= 0) return nullptr;
  return t;
}

std::unique_ptr<Transport> memory_transport(std::string_view input, std::string& output) {
  return std::make_unique<MemoryTransport>(input, output);
}

RequestState* current_request() { return t_current; }

bool serve_connection(Transport& transport, const ConnectionLimits& limits,
                      const ProcessRequest& process, const std::function<bool()>& stopping) {
  Connection c{transport};
  constexpr auto kSlice = std::chrono::milliseconds(100);  // how soon a stop is noticed
  for (std::size_t count = 0; count < limits.max_requests; ++count) {
    const Clock::time_point quiet_until = Clock::now() + limits.keep_alive;
    while (c.buffered() == 0) {
      if (stopping()) return false;
      const Clock::time_point now = Clock::now();
      if (now >= quiet_until) return false;
      if (transport.wait_readable(std::min(quiet_until, now + kSlice))) break;
      if (transport.fd() < 0) return false;  // memory: nothing more will come
    }
    RequestStream stream(c, limits, Clock::now());
    RequestState state;
    bool closed = false;
    bool ok = false;
    {
      CurrentRequest current(&state);
      ok = process(stream, count + 1 == limits.max_requests, closed);
    }
    // Refused: the peer may be sending what was not read.
    if (state.close || stream.failed() || (!state.routed && !stream.in_head())) return true;
    if (!ok || closed || !state.routed || stream.in_head()) return false;
  }
  return false;
}

void linger_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  const Clock::time_point until = Clock::now() + std::chrono::milliseconds(500);
  std::array<char, 16384> sink{};
  for (std::size_t dropped = 0; dropped < (2u << 20);) {
    if (!wait_for(fd, POLLIN, until)) break;
    const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    if (n > 0) dropped += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

}  // namespace concierge::server::internal
