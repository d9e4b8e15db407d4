// The attacker's suite, part II: the owner's admin API cannot be replayed.
// A token seen on the wire (a log, a proxy) authorises only the one request
// it was made for, once, on every replica, even one whose clock is behind;
// a scoped token does only what its scope says. Through HTTP against
// running brokers, on SQLite and on PostgreSQL.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "support/broker_harness.h"
#include "support/postgres.h"
#include "support/running_server.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kPath = "/admin/v0/resources/default/disk/key";

class AdminApi : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    HarnessOptions o;
    if (GetParam() == "postgres") {
      std::string why;
      const auto url = test_postgres_database(&why);
      if (!url) {
        if (postgres_required()) FAIL() << "PostgreSQL is required: " << why;
        GTEST_SKIP() << "PostgreSQL unavailable: " << why;
      }
      o.store_url = *url;
    }
    a_ = std::make_unique<BrokerHarness>(o);
    b_ = std::make_unique<BrokerHarness>(a_->replica_options());
    server_a_ = std::make_unique<RunningServer>(*a_);
    server_b_ = std::make_unique<RunningServer>(*b_);
  }
  // `method` on `path` of replica `server` with `token`; the status.
  static int send(const RunningServer& server, const std::string& method, const std::string& path,
                  const std::string& body, const std::string& token) {
    httplib::Client c(server.url());
    const httplib::Headers h = {{"Authorization", "Bearer " + token}};
    const auto r = method == "GET"      ? c.Get(path, h)
                   : method == "DELETE" ? c.Delete(path, h)
                                        : c.Put(path, h, body, "application/octet-stream");
    EXPECT_TRUE(r);
    if (!r) return 0;
    EXPECT_EQ(r->body.find("s3cret"), std::string::npos) << r->body;
    return r->status;
  }
  bool exists(BrokerHarness& h) {
    const auto list = h.admin("GET", "/admin/v0/resources");
    return Json::parse(list.body)["resources"].size() == 1;
  }
  std::unique_ptr<BrokerHarness> a_, b_;
  std::unique_ptr<RunningServer> server_a_, server_b_;
};

INSTANTIATE_TEST_SUITE_P(Stores, AdminApi, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST_P(AdminApi, AUsedTokenIsRefusedByAReplicaWhoseClockIsBehind) {
  ASSERT_EQ(a_->admin("PUT", kPath, "s3cret v1").status, 200);
  const std::string del = a_->admin_token_for("DELETE", kPath, "");
  ASSERT_EQ(send(*server_a_, "DELETE", kPath, "", del), 200);
  // The owner puts the secret back.
  ASSERT_EQ(a_->admin("PUT", kPath, "s3cret v2").status, 200);
  // Replica A's clock moves past the token's expiry and its leeway (and A
  // purges what it no longer needs); replica B's clock is 30 s behind, so B
  // would still accept the token's times.
  a_->advance(std::chrono::seconds(300 + 62));
  ASSERT_EQ(a_->admin("GET", "/admin/v0/audit").status, 200);  // a purge on A
  b_->now = a_->now - std::chrono::seconds(30);
  EXPECT_EQ(send(*server_b_, "DELETE", kPath, "", del), 401);
  EXPECT_TRUE(exists(*a_));
  // Both still answer.
  EXPECT_EQ(send(*server_a_, "GET", "/admin/v0/resources", "",
                 a_->admin_token_for("GET", "/admin/v0/resources", "")),
            200);
}

TEST_P(AdminApi, ATokenAuthorisesOnlyTheRequestItWasMadeFor) {
  ASSERT_EQ(a_->admin("PUT", kPath, "s3cret").status, 200);
  // A token captured from a harmless listing.
  const std::string list = a_->admin_token_for("GET", "/admin/v0/resources", "");
  EXPECT_EQ(send(*server_b_, "DELETE", kPath, "", list), 401);
  EXPECT_EQ(send(*server_b_, "GET", "/admin/v0/audit", "", list), 401);
  // A token for one body, sent with another.
  const std::string put = a_->admin_token_for("PUT", kPath, "the owner's value");
  EXPECT_EQ(send(*server_b_, "PUT", kPath, "the attacker's value", put), 401);
  EXPECT_EQ(send(*server_b_, "PUT", kPath, "the owner's value", put), 200);
  EXPECT_TRUE(exists(*a_));
}

TEST_P(AdminApi, AScopedTokenDoesOnlyWhatItsScopeSays) {
  const Json read_only = {{"scope", "read"}};
  EXPECT_EQ(send(*server_a_, "PUT", kPath, "s3cret",
                 a_->admin_token_for("PUT", kPath, "s3cret", read_only)),
            403);
  EXPECT_EQ(send(*server_a_, "GET", "/admin/v0/resources", "",
                 a_->admin_token_for("GET", "/admin/v0/resources", "", read_only)),
            200);
  const Json policies = {{"scope", "read policies"}};
  EXPECT_EQ(send(*server_a_, "PUT", kPath, "s3cret",
                 a_->admin_token_for("PUT", kPath, "s3cret", policies)),
            403);
  const Json resources = {{"scope", "resources"}};
  EXPECT_EQ(send(*server_a_, "PUT", kPath, "s3cret",
                 a_->admin_token_for("PUT", kPath, "s3cret", resources)),
            200);
}

}  // namespace
}  // namespace concierge::testing

namespace concierge::testing {
namespace {

// EAR keys rotate with an overlap, and a passport is accepted only from
// this broker (its issuer, its audience).
TEST(EarIssuance, KeysRotateWithAnOverlapAndOnlyThisBrokersPassportsAreAccepted) {
  HarnessOptions o;
  BrokerHarness old_key(o);  // signs with its own EAR key
  ASSERT_EQ(old_key.admin("PUT", "/admin/v0/resources/default/disk/key", "s3cret").status, 200);
  Guest g;
  ASSERT_EQ(g.auth(old_key).status, 200);
  ASSERT_EQ(g.attest(old_key).status, 200);
  const Json claims = Json::parse(
      as_chars(base64url_decode(g.token.substr(g.token.find('.') + 1,
                                               g.token.rfind('.') - g.token.find('.') - 1))
                   .value()));
  EXPECT_EQ(claims["iss"], "concierge");
  EXPECT_EQ(claims["aud"], "concierge-kbs-resource");
  const std::string old_public =
      PrivateKey::from_pem(old_key.ear_key_pem()).value().public_key().value().to_pem().value();

  // The broker restarted with a new EAR key and the old one's public half.
  HarnessOptions rotated = old_key.replica_options();
  rotated.ear_key_pem = PrivateKey::generate_ec(EcCurve::kP256).value().to_pem().value();
  rotated.ear_previous_public_pems = {old_public};
  rotated.register_measurement = false;
  BrokerHarness b(rotated);
  b.now = old_key.now;
  EXPECT_EQ(g.decrypt(g.resource(b, "default/disk/key", g.token)), "s3cret");
  // Its JWKS publishes both keys.
  EXPECT_EQ(Json::parse(b.call("GET", "/.well-known/jwks.json").body)["keys"].size(), 2u);

  // Without the old key: the old passport is refused.
  HarnessOptions dropped = rotated;
  dropped.ear_previous_public_pems.clear();
  BrokerHarness c(dropped);
  c.now = old_key.now;
  EXPECT_EQ(g.resource(c, "default/disk/key", g.token).status, 401);

  // Another issuer sharing the key (a test broker, say): refused.
  HarnessOptions other = old_key.replica_options();
  other.ear_issuer = "another-broker";
  other.register_measurement = false;
  BrokerHarness d(other);
  d.now = old_key.now;
  const auto refused = g.resource(d, "default/disk/key", g.token);
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(problem_detail(refused).find("not issued by this broker"), std::string::npos)
      << refused.body;
}

}  // namespace
}  // namespace concierge::testing
