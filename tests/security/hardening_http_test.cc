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

}  // namespace
}  // namespace concierge::testing
