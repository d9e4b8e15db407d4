// Attacks on the broker as a service, one section per kind, each against a
// real server on loopback (server::HttpServer over a BrokerHarness), with
// raw sockets where cpp-httplib's client would not send the request. Each
// attack is refused with its status, the server keeps answering
// (/healthz), and no secret is in any answer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <httplib.h>

#include "concierge/attester/kbs_client.h"
#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "support/broker_harness.h"
#include "support/running_server.h"
#include "support/vectors.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecret = "the disk key nobody may see";
constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string auth_body(const std::string& extra = "{}") {
  return R"({"version":"0.4.0","tee":"snp","extra-params":)" + extra + "}";
}

void expect_serving(const RunningServer& server) {
  httplib::Client c(server.url());
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r) << "the server no longer answers";
  EXPECT_EQ(r->status, 200);
}

// A broker holding a secret, and its server.
struct Served {
  explicit Served(server::ServerOptions o = {}) {
    EXPECT_EQ(h.admin("PUT", "/admin/v0/resources/default/disk/key", kSecret).status, 200);
    running = std::make_unique<RunningServer>(h, o);
  }
  BrokerHarness h;
  std::unique_ptr<RunningServer> running;
  int port() const { return running->port(); }
};

void expect_no_secret(const std::string& response) {
  EXPECT_EQ(response.find(kSecret), std::string::npos) << "a secret in an answer";
}

// ---- 1. JSON past the parser's limits ----------------------------------------

// 1. JSON nested 200,000 deep (about 400 KB, under the body limit) in an
// attest: a recursive copy of that tree overflowed the stack. The parser
// now refuses nesting past 64, naming it.
TEST(HardeningHttp, DeepJsonInAttestIsRefusedAndTheServerKeepsServing) {
  Served s;
  httplib::Client c(s.running->url());
  auto auth = c.Post("/kbs/v0/auth", auth_body(), "application/json");
  ASSERT_TRUE(auth);
  ASSERT_EQ(auth->status, 200);
  const std::string cookie = auth->get_header_value("Set-Cookie")
                                 .substr(0, auth->get_header_value("Set-Cookie").find(';'));
  Guest g;
  const Json runtime = {{"nonce", Json::parse(auth->body)["nonce"]}, {"tee-pubkey", g.jwk}};
  const std::size_t depth = 200000;
  const std::string body = R"({"runtime-data":)" + runtime.dump() +
                           R"(,"tee-evidence":{"evidence":)" + std::string(depth, '[') +
                           std::string(depth, ']') + "}}";
  ASSERT_LT(body.size(), kMiB);
  auto r = c.Post("/kbs/v0/attest", {{"Cookie", cookie}}, body, "application/json");
  ASSERT_TRUE(r) << "no answer: the server died";
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("nested deeper than 64 levels"), std::string::npos) << r->body;
  expect_no_secret(r->body);
  expect_serving(*s.running);
}

// 1b. A flat array of 1,000,000 values (the body limit raised so that the
// JSON limit is what decides).
TEST(HardeningHttp, AMillionValuesAreRefused) {
  server::ServerOptions o;
  o.max_body_bytes = 4 * kMiB;
  Served s(o);
  std::string values = "[0";
  for (int i = 1; i < 1000000; ++i) values += ",0";
  values += "]";
  httplib::Client c(s.running->url());
  auto r = c.Post("/kbs/v0/auth", auth_body(R"({"pad":)" + values + "}"), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("more than 262144 values"), std::string::npos) << r->body;
  expect_serving(*s.running);
  r = c.Post("/kbs/v0/auth", auth_body(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ---- 2. Bodies, framing, heads and time --------------------------------------

// A TCP connection to the server that sends exactly the bytes it is given.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    timeval tv{2, 0};  // a send the server stopped reading fails instead of blocking
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~Raw() { ::close(fd_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  // False once the server no longer takes bytes.
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool readable(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }
  void end_of_request() { ::shutdown(fd_, SHUT_WR); }
  // What the server sends until it closes (or `wait` passes).
  std::string read_all(std::chrono::milliseconds wait = 5000ms) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + wait;
    char buf[16384];
    while (std::chrono::steady_clock::now() < until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (!readable(std::max(left, 1ms))) break;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // One response with a Content-Length body (the connection may stay open).
  std::string read_response(std::chrono::milliseconds wait = 5000ms) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + wait;
    char buf[16384];
    while (std::chrono::steady_clock::now() < until) {
      const auto end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto cl = out.find("Content-Length: ");
        const std::size_t length =
            cl != std::string::npos && cl < end ? std::stoul(out.substr(cl + 16)) : 0;
        if (out.size() >= end + 4 + length) break;
      }
      if (!readable(10ms)) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string request(const std::string& method, const std::string& path, const std::string& headers,
                    const std::string& body) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n" + body;
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

// Resident memory of this process (the server runs in it).
std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// 2. A chunked body has no Content-Length to compare with the limit: it is
// counted as it arrives and refused past it, and the rest is not read.
TEST(HardeningHttp, AChunkedBodyOverTheLimitIsRefusedWithoutReadingIt) {
  Served s;  // max_body_bytes: 1 MiB
  Raw raw(s.port());
  ASSERT_TRUE(raw.connected());
  const std::size_t before = rss_bytes();
  ASSERT_TRUE(
      raw.send_all(request("POST", "/kbs/v0/auth",
                           "Content-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n",
                           chunk(R"({"version":"0.4.0","tee":"snp","extra-params":{"pad":")"))));
  const std::string block = chunk(std::string(64 * 1024, 'a'));
  const std::size_t total = 20 * kMiB;
  std::size_t sent = 0;
  while (sent < total && !raw.readable(0ms) && raw.send_all(block)) sent += 64 * 1024;
  if (sent >= total) raw.send_all(chunk("\"}}") + "0\r\n\r\n");  // all of it went through
  const std::string response = raw.read_all();
  EXPECT_EQ(status_of(response), 413) << response.substr(0, 300);
  EXPECT_NE(response.find("over the limit"), std::string::npos);
  EXPECT_LT(sent, total) << "the server read the whole body";
  EXPECT_LT(rss_bytes(), before + 16 * kMiB) << "the server kept the body";
  expect_no_secret(response);
  expect_serving(*s.running);

  // A chunked body within the limit is still served.
  Raw ok(s.port());
  ASSERT_TRUE(ok.send_all(
      request("POST", "/kbs/v0/auth",
              "Content-Type: application/json\r\n"
              "Transfer-Encoding: chunked\r\n",
              chunk(auth_body().substr(0, 10)) + chunk(auth_body().substr(10)) + "0\r\n\r\n")));
  EXPECT_EQ(status_of(ok.read_response()), 200);
}

// gzip of `size` zero bytes, made a MiB at a time.
std::string gzip_of_zeros(std::size_t size) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string zeros(kMiB, '\0');
  std::string out;
  char buf[65536];
  for (std::size_t done = 0; done < size; done += zeros.size()) {
    const bool last = done + zeros.size() >= size;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(zeros.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

// 2b. A compressed body is refused before anything is inflated: 100 MiB of
// zeros compress to about 100 KB, well under the body limit.
TEST(HardeningHttp, ACompressedBodyIsRefusedWithoutInflatingIt) {
  Served s;
  const std::string bomb = gzip_of_zeros(100 * kMiB);
  ASSERT_LT(bomb.size(), kMiB);
  const std::size_t before = rss_bytes();
  for (const char* encoding : {"gzip", "deflate", "br", "GZip"}) {
    Raw raw(s.port());
    raw.send_all(request("POST", "/kbs/v0/auth",
                         std::string("Content-Type: application/json\r\nContent-Encoding: ") +
                             encoding + "\r\nContent-Length: " + std::to_string(bomb.size()) +
                             "\r\n",
                         bomb));
    const std::string response = raw.read_all();
    EXPECT_EQ(status_of(response), 415) << encoding << ": " << response.substr(0, 300);
    expect_no_secret(response);
  }
  EXPECT_LT(rss_bytes(), before + 32 * kMiB) << "the body was inflated";
  expect_serving(*s.running);
}

// 2c. Framing two parsers could read differently (request smuggling) is
// refused, and so is a body where the method has none.
TEST(HardeningHttp, AmbiguousFramingIsRefused) {
  Served s;
  const std::string body = auth_body();
  const std::string n = std::to_string(body.size());
  const struct {
    const char* what;
    std::string headers;
    bool half_close;
  } cases[] = {
      {"duplicate Content-Length", "Content-Length: " + n + "\r\nContent-Length: " + n + "\r\n",
       false},
      {"conflicting Content-Length", "Content-Length: " + n + "\r\nContent-Length: 5\r\n", false},
      {"Content-Length list", "Content-Length: " + n + ", " + n + "\r\n", false},
      {"signed Content-Length", "Content-Length: +" + n + "\r\n", false},
      {"Transfer-Encoding gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", true},
      {"Transfer-Encoding twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
       true},
      {"Transfer-Encoding and Content-Length",
       "Transfer-Encoding: chunked\r\nContent-Length: " + n + "\r\n", false},
  };
  for (const auto& c : cases) {
    Raw raw(s.port());
    raw.send_all(
        request("POST", "/kbs/v0/auth", "Content-Type: application/json\r\n" + c.headers, body));
    if (c.half_close) raw.end_of_request();
    const std::string response = raw.read_all();
    EXPECT_EQ(status_of(response), 400) << c.what << ": " << response.substr(0, 300);
  }
  // A GET with a body: the body would be read as the next request.
  const std::string smuggled = "GET /kbs/v0/resource/default/disk/key HTTP/1.1\r\n\r\n";
  Raw get(s.port());
  get.send_all(request("GET", "/healthz",
                       "Content-Length: " + std::to_string(smuggled.size()) + "\r\n", smuggled));
  const std::string response = get.read_all();
  EXPECT_EQ(status_of(response), 400) << response.substr(0, 300);
  EXPECT_EQ(response.find("HTTP/1.1", 8), std::string::npos) << "a second answer";
  // Other methods.
  Raw patch(s.port());
  patch.send_all(request("PATCH", "/kbs/v0/auth", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n"));
  EXPECT_EQ(status_of(patch.read_all()), 405);
  expect_serving(*s.running);
}

// 2d. A client sending its headers a byte a second never trips the read
// timeout (each byte comes well within it); the head's own deadline cuts
// it off.
TEST(HardeningHttp, ASlowClientIsCutOff) {
  server::ServerOptions o;
  o.header_timeout_seconds = 1;  // the idle read timeout stays 10 s
  Served s(o);
  Raw raw(s.port());
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (std::size_t i = 0; i < head.size() && !closed; ++i) {
    if (!raw.send_all(head.substr(i, 1))) {
      closed = true;
      break;
    }
    if (raw.readable(1000ms)) {
      char c;
      closed = ::recv(raw.fd(), &c, 1, 0) <= 0;
      if (!closed) FAIL() << "the server answered an incomplete head";
    }
    if (std::chrono::steady_clock::now() - start > 4s) break;
  }
  EXPECT_TRUE(closed) << "the connection was still open after 4 s";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3500ms);
  expect_serving(*s.running);
}

// 2e. Header count and size.
TEST(HardeningHttp, TooManyOrTooLargeHeadersAreRefused) {
  Served s;
  std::string many;
  for (int i = 0; i < 500; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  Raw a(s.port());
  a.send_all(request("GET", "/healthz", many, ""));
  EXPECT_EQ(status_of(a.read_all()), 400);
  Raw b(s.port());
  b.send_all(request("GET", "/healthz", "X-Big: " + std::string(40 * 1024, 'b') + "\r\n", ""));
  const std::string r = b.read_all();
  EXPECT_TRUE(status_of(r) == 400 || r.empty()) << r.substr(0, 200);
  expect_serving(*s.running);
}

// ---- 4. The audit log and the owner's terminal -------------------------------

bool has_control_bytes(std::string_view text, bool allow_newline) {
  for (unsigned char c : text) {
    if ((c < 0x20 && !(allow_newline && c == '\n')) || c == 0x7f) return true;
  }
  // C1 CSI as UTF-8 (U+009B).
  return text.find("\xc2\x9b") != std::string_view::npos;
}

// 4. A request path with terminal escapes (URL-decoded by the server) is
// audited; neither the stored row nor `concierge admin audit` holds a raw
// control byte, even for a row stored before escaping.
TEST(HardeningHttp, TerminalEscapesNeverReachTheAuditLogOrTheOwnersTerminal) {
  Served s;
  Raw raw(s.port());
  raw.send_all(request("GET", "/kbs/v0/resource/%1b%5b2J%1b%5d0;pwned%07%7f%c2%9b31m%ff/x/y",
                       "Connection: close\r\n", ""));
  const std::string response = raw.read_all();
  EXPECT_EQ(status_of(response), 401) << response.substr(0, 300);
  expect_no_secret(response);
  auto rows = s.h.broker().store().list_audit(10);
  ASSERT_TRUE(rows);
  ASSERT_FALSE(rows->empty());
  bool planted = false;
  for (const auto& e : *rows) {
    for (const std::string* f :
         {&e.actor, &e.action, &e.resource, &e.outcome, &e.rule, &e.detail}) {
      EXPECT_FALSE(has_control_bytes(*f, false)) << *f;
    }
    planted = planted || e.resource.find("\\x1b[2J") != std::string::npos;
  }
  EXPECT_TRUE(planted) << "the request is audited, escaped";

  // A row written raw, as an older broker would have stored it.
  const std::string db = s.h.store_url().substr(std::string("sqlite:").size());
  sqlite3* conn = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &conn), SQLITE_OK);
  sqlite3_busy_timeout(conn, 5000);
  EXPECT_EQ(sqlite3_exec(conn,
                         "INSERT INTO audit (at, actor, action, resource, outcome, rule, detail) "
                         "VALUES (0, 'old', 'refuse', char(27) || '[2J', 'denied', char(155), "
                         "char(27) || ']0;pwned' || char(7) || char(127))",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(conn);

  TempDir dir;
  write_file(dir / "admin.pem", as_bytes(s.h.admin_key_pem()));
  const std::string admin =
      "admin --url " + s.running->url() + " --key '" + (dir / "admin.pem").string() + "' ";
  for (const char* args : {"audit", "--json audit"}) {
    const CliRun run = run_cli(admin + args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("pwned"), std::string::npos) << args << ": " << run.out;
    EXPECT_FALSE(has_control_bytes(run.out, true)) << args << ": " << run.out;
    EXPECT_FALSE(has_control_bytes(run.err, true)) << args << ": " << run.err;
  }
  expect_serving(*s.running);
}

// ---- 10. Answers without end to the agent and the admin client ---------------

// A server on loopback answering every request with `size` bytes, declared
// (Content-Length) or not (chunked); counts what it managed to send.
class EndlessServer {
 public:
  EndlessServer(std::size_t size, bool chunked) : size_(size), chunked_(chunked) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 8);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~EndlessServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t most_sent() const { return most_sent_; }
  // True once `n` answers ended (the server notices a client left when a
  // send fails, a moment after the client is done).
  bool answered(int n) const {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (answered_ < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
    return answered_ >= n;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::string head;
      char byte;
      while (head.find("\r\n\r\n") == std::string::npos && ::recv(c, &byte, 1, 0) == 1) {
        head += byte;
      }
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
      answer += chunked_ ? "Transfer-Encoding: chunked\r\n\r\n"
                         : "Content-Length: " + std::to_string(size_) + "\r\n\r\n";
      std::size_t sent = 0;
      bool ok = ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL) > 0;
      const std::string block(64 * 1024, 'a');
      const std::string framed = chunked_ ? chunk(block) : block;
      while (ok && sent < size_) {
        ok = ::send(c, framed.data(), framed.size(), MSG_NOSIGNAL) ==
             static_cast<ssize_t>(framed.size());
        if (ok) sent += block.size();
      }
      if (ok && chunked_) ::send(c, "0\r\n\r\n", 5, MSG_NOSIGNAL);
      most_sent_ = std::max<std::size_t>(most_sent_, sent);
      ++answered_;
      ::close(c);
    }
  }

  std::size_t size_;
  bool chunked_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> most_sent_{0};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

// 10. The agent's client and `concierge admin` stop reading an answer past
// 1 MiB, with an error saying so.
TEST(HardeningHttp, TheAgentAndTheAdminClientBoundTheAnswersTheyRead) {
  const std::size_t size = 50 * 1000 * 1000;
  TempDir dir;
  write_file(dir / "admin.pem",
             as_bytes(PrivateKey::generate_ec(EcCurve::kP256).value().to_pem().value()));
  for (bool chunked : {false, true}) {
    EndlessServer endless(size, chunked);
    attester::KbsClientOptions co;
    co.allow_insecure_http = true;
    co.timeout_seconds = 5;
    auto client = attester::KbsClient::create(endless.url(), co);
    ASSERT_TRUE(client);
    auto attested = (*client)->attest(
        "snp", [](ByteView, const Json&) -> Result<Json> { return Json::object(); });
    ASSERT_FALSE(attested);
    EXPECT_NE(attested.error().message.find("over the limit of 1048576 bytes"), std::string::npos)
        << attested.error().to_string();

    const CliRun admin = run_cli("admin --url " + endless.url() + " --key '" +
                                 (dir / "admin.pem").string() + "' resources");
    EXPECT_EQ(admin.exit_code, 2) << admin.out.substr(0, 200);
    EXPECT_NE(admin.err.find("over the limit of 1048576 bytes"), std::string::npos) << admin.err;
    EXPECT_TRUE(endless.answered(2));
    EXPECT_LT(endless.most_sent(), size)
        << (chunked ? "chunked" : "Content-Length") << ": the whole answer was read";
  }
}

}  // namespace
}  // namespace concierge::testing
