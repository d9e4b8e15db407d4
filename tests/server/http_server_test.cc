// The broker on a real socket: the agent's client end to end (HTTP and
// HTTPS), the body limit, malformed requests, and JWE interoperability with
// python3-jwcrypto.
#include "concierge/server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "concierge/attester/kbs_client.h"
#include "concierge/core/encoding.h"
#include "concierge/verifier/binding.h"
#include "support/broker_harness.h"
#include "support/running_server.h"
#include "support/test_cache.h"
#include "support/test_pki.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
constexpr const char* kSecret = "a secret that crosses the host encrypted";

using Running = RunningServer;

attester::EvidenceCollector snp_collector(std::optional<std::array<std::uint8_t, 48>> m = {}) {
  return [m](ByteView report_data, const Json&) -> Result<Json> {
    evidence::snp::ReportRequest req;
    std::copy(report_data.begin(), report_data.end(), req.report_data.begin());
    req.measurement = m ? *m : good_measurement();
    const auto& sim = shared_snp_simulator();
    CONCIERGE_ASSIGN_OR_RETURN(Bytes report, sim.issue(req));
    CONCIERGE_ASSIGN_OR_RETURN(Bytes table, sim.cert_table());
    return Json{{"evidence", base64_encode(report)},
                {"endorsements", {{"cert_table", base64_encode(table)}}}};
  };
}

// The broker's EAR key set, as a guest would pin it.
Json pinned_jwks(BrokerHarness& h) {
  return Json::parse(h.call("GET", "/.well-known/jwks.json").body);
}

// Plain http, knowingly, with the broker's key set pinned.
attester::KbsClientOptions pinned_http(BrokerHarness& h) {
  attester::KbsClientOptions co;
  co.allow_insecure_http = true;
  co.broker_jwks = pinned_jwks(h);
  return co;
}

TEST(HttpServerTest, TheAgentClientCompletesAnExchange) {
  BrokerHarness h;
  h.now = std::chrono::system_clock::now();
  ASSERT_EQ(h.admin("PUT", "/admin/v0/resources/default/app/token", kSecret).status, 200);
  Running server(h, {});
  for (auto alg : {jose::JweAlg::kEcdhEsA256kw, jose::JweAlg::kRsaOaep256}) {
    attester::KbsClientOptions co = pinned_http(h);
    co.key_alg = alg;
    auto client = attester::KbsClient::create(server.url(), co);
    ASSERT_TRUE(client);
    auto attested = (*client)->attest("snp", snp_collector());
    ASSERT_TRUE(attested) << attested.error().to_string();
    ASSERT_FALSE(attested->refused) << attested->reason;
    EXPECT_TRUE((*client)->ear_verified());
    auto got = (*client)->get_resource("default/app/token");
    ASSERT_TRUE(got) << got.error().to_string();
    ASSERT_FALSE(got->refused) << got->reason;
    EXPECT_EQ(std::string(as_chars(got->secret)), kSecret);
    // Passport: the token alone (the client sends no session cookie with it).
    auto passport = (*client)->get_resource("default/app/token", attested->token);
    ASSERT_TRUE(passport);
    EXPECT_FALSE(passport->refused) << passport->reason;
    EXPECT_EQ(std::string(as_chars(passport->secret)), kSecret);
  }
  // A guest with other firmware gets a token (the measurement is a warning)
  // but not the secret: 403, with a reason.
  auto client = attester::KbsClient::create(server.url(), pinned_http(h));
  std::array<std::uint8_t, 48> other{};
  auto attested = (*client)->attest("snp", snp_collector(other));
  ASSERT_TRUE(attested);
  ASSERT_FALSE(attested->refused) << attested->reason;
  auto got = (*client)->get_resource("default/app/token");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->refused);
  EXPECT_EQ(got->status, 403);
  EXPECT_NE(got->reason.find("measurement"), std::string::npos) << got->reason;
  EXPECT_TRUE(got->secret.empty());
}

TEST(HttpServerTest, TheAgentRefusesPlainHttpUnlessToldAndABrokerItDoesNotKnow) {
  BrokerHarness h;
  h.now = std::chrono::system_clock::now();
  ASSERT_EQ(h.admin("PUT", "/admin/v0/resources/default/app/token", kSecret).status, 200);
  // The host runs a broker of its own (another EAR key) and answers the
  // guest in the real broker's place: the guest pinned the real one's key.
  BrokerHarness impostor;
  impostor.now = std::chrono::system_clock::now();
  ASSERT_EQ(
      impostor.admin("PUT", "/admin/v0/resources/default/app/token", "host-chosen key").status,
      200);
  Running host(impostor, {});
  auto plain = attester::KbsClient::create(host.url());
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("plain http"), std::string::npos);
  auto client = attester::KbsClient::create(host.url(), pinned_http(h));
  ASSERT_TRUE(client) << client.error().to_string();
  auto attested = (*client)->attest("snp", snp_collector());
  ASSERT_FALSE(attested);
  EXPECT_EQ(attested.error().code, Errc::kCrypto);
  EXPECT_NE(attested.error().message.find("not the broker's"), std::string::npos)
      << attested.error().to_string();
  auto got = (*client)->get_resource("default/app/token");
  ASSERT_FALSE(got);  // nothing verified: no secret is used
}

TEST(HttpServerTest, BodiesOverTheLimitGet413AndTheServerKeepsServing) {
  BrokerHarness h;
  server::ServerOptions o;
  o.max_body_bytes = 4096;
  Running server(h, o);
  httplib::Client c(server.url());
  const std::string big(8192, 'x');
  auto r = c.Post("/kbs/v0/auth", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("payload-too-large"), std::string::npos) << r->body;
  r = c.Post("/kbs/v0/auth", "{\"version\":", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
  r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Post("/kbs/v0/auth", R"({"version":"0.4.0","tee":"snp","extra-params":{}})",
             "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);
}

TEST(HttpServerTest, HttpsWithTheBrokersCertificate) {
  BrokerHarness h;
  ASSERT_EQ(h.admin("PUT", "/admin/v0/resources/default/app/token", kSecret).status, 200);
  TempDir dir;
  CertOptions ca_options;
  ca_options.common_name = "Concierge test CA";
  const Issued ca = make_root(ca_options);
  CertOptions leaf_options;
  leaf_options.common_name = "127.0.0.1";
  // subjectAltName: iPAddress 127.0.0.1
  leaf_options.extensions.push_back({"2.5.29.17", {0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1}, false});
  const Issued leaf = make_leaf(ca, leaf_options);
  write_file(dir / "ca.pem", as_bytes(to_pem(ca.cert)));
  write_file(dir / "tls.pem", as_bytes(to_pem(leaf.cert)));
  const std::string key_pem = leaf.key.to_pem().value();
  write_file(dir / "tls.key", as_bytes(key_pem));
  server::ServerOptions o;
  o.tls_certificate = dir / "tls.pem";
  o.tls_private_key = dir / "tls.key";
  // A private key others may read is refused.
  std::filesystem::permissions(dir / "tls.key", std::filesystem::perms::owner_read |
                                                    std::filesystem::perms::owner_write |
                                                    std::filesystem::perms::others_read);
  auto readable = server::HttpServer::create(h.broker(), o);
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().message.find("chmod 600"), std::string::npos);
  std::filesystem::permissions(
      dir / "tls.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Running server(h, o);
  // TLS 1.2 with forward-secret AEAD suites only: a client offering only
  // CBC suites gets no handshake, one offering GCM does.
  const auto handshake = [&](const char* ciphers) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx, ciphers);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = ok && SSL_connect(ssl) == 1;
    SSL_free(ssl);
    ::close(fd);
    SSL_CTX_free(ctx);
    return ok;
  };
  EXPECT_FALSE(handshake("ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA"));
  EXPECT_TRUE(handshake("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"));
  attester::KbsClientOptions co;
  co.ca_certificate = dir / "ca.pem";
  auto client = attester::KbsClient::create(server.url("https"), co);
  ASSERT_TRUE(client);
  auto attested = (*client)->attest("snp", snp_collector());
  ASSERT_TRUE(attested) << attested.error().to_string();
  ASSERT_FALSE(attested->refused) << attested->reason;
  auto got = (*client)->get_resource("default/app/token");
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(as_chars(got->secret)), kSecret);
  // A client that does not trust that CA does not talk to it.
  auto stranger = attester::KbsClient::create(server.url("https"));
  auto refused = (*stranger)->attest("snp", snp_collector());
  EXPECT_FALSE(refused);
}

// The broker's JWE, decrypted by python3-jwcrypto with the guest's key.
TEST(HttpServerTest, ResourceJweDecryptsInJwcrypto) {
  const char* python = std::getenv("CONCIERGE_JWCRYPTO_PYTHON");
  const std::string py = python ? python : "/usr/bin/python3";
  if (std::system((py + " -c 'import jwcrypto' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << py << " has no jwcrypto module (Debian: python3-jwcrypto)";
  }
  BrokerHarness h;
  ASSERT_EQ(h.admin("PUT", "/admin/v0/resources/default/app/token", kSecret).status, 200);
  TempDir dir;
  for (bool rsa : {false, true}) {
    Guest g;
    if (rsa) {
      g.key = cached_rsa_key(2048);
      g.jwk = jose::encryption_jwk(g.key.public_key().value()).value();
    }
    ASSERT_EQ(g.auth(h).status, 200);
    ASSERT_EQ(g.attest(h).status, 200);
    const auto r = g.resource(h, "default/app/token");
    ASSERT_EQ(r.status, 200);
    write_file(dir / "jwe.json", as_bytes(r.body));
    write_file(dir / "key.pem", as_bytes(g.key.to_pem().value()));
    const std::string script =
        "import sys\nfrom jwcrypto import jwk, jwe\n"
        "k = jwk.JWK.from_pem(open(sys.argv[1], 'rb').read())\n"
        "t = jwe.JWE()\nt.deserialize(open(sys.argv[2]).read(), key=k)\n"
        "sys.stdout.write(t.payload.decode())\n";
    write_file(dir / "decrypt.py", as_bytes(script));
    const auto run = run_shell(py + " " + (dir / "decrypt.py").string() + " " +
                               (dir / "key.pem").string() + " " + (dir / "jwe.json").string());
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, kSecret) << (rsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW");
  }
}

}  // namespace
}  // namespace concierge::testing
