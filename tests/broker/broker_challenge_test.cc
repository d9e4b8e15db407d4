// The broker's challenge under concurrency, and the tokens it issued across
// a restart: at most one token per nonce, whichever request wins, and a
// token this process did not sign itself (or no longer remembers) still
// verified by its signature.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "concierge/broker/broker.h"
#include "support/broker_harness.h"
#include "support/postgres.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
constexpr const char* kSecret = "a-secret-for-the-challenge-tests";
constexpr const char* kPath = "default/disk/key";

void put_secret(BrokerHarness& h) {
  const auto r = h.admin("PUT", std::string("/admin/v0/resources/") + kPath, kSecret);
  ASSERT_EQ(r.status, 200) << r.body;
}

// Several threads send the same attest request (one session, one nonce,
// evidence bound to it): one token, the others "already used", and one
// attestation record.
void one_token_per_nonce(BrokerHarness& h) {
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  const Json rt = g.runtime_data();
  const std::string body = Json{{"runtime-data", rt}, {"tee-evidence", g.snp_evidence(rt)}}.dump();

  constexpr int kThreads = 6;
  std::vector<broker::HttpResponse> responses(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      responses[i] = h.call("POST", "/kbs/v0/attest", body, g.cookie);
    });
  }
  for (auto& t : threads) t.join();

  int tokens = 0;
  for (const auto& r : responses) {
    if (r.status == 200) {
      ++tokens;
      g.token = Json::parse(r.body)["token"].get<std::string>();
      continue;
    }
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(problem_detail(r).find("already used"), std::string::npos) << r.body;
  }
  EXPECT_EQ(tokens, 1);
  const auto records = h.admin("GET", "/admin/v0/attestations");
  ASSERT_EQ(records.status, 200) << records.body;
  EXPECT_EQ(Json::parse(records.body)["attestations"].size(), 1u) << records.body;
  // The winner's session gets the secret.
  const auto secret = g.resource(h, kPath);
  ASSERT_EQ(secret.status, 200) << secret.body;
  EXPECT_EQ(g.decrypt(secret), kSecret);
}

TEST(BrokerChallenge, ConcurrentAttestsWithOneNonceGetOneTokenOnSqlite) {
  BrokerHarness h;
  one_token_per_nonce(h);
}

TEST(BrokerChallenge, ConcurrentAttestsWithOneNonceGetOneTokenOnPostgres) {
  CONCIERGE_REQUIRE_POSTGRES(pg);
  HarnessOptions o;
  o.store_url = *pg;
  BrokerHarness h(o);
  one_token_per_nonce(h);
}

TEST(BrokerChallenge, AnExpiredChallengeIsRefusedAndNothingIsRecorded) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  h.advance(std::chrono::minutes(6));  // the challenge lives 5 minutes
  const auto r = g.attest(h);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(problem_detail(r).find("expired"), std::string::npos) << r.body;
  const auto records = h.admin("GET", "/admin/v0/attestations");
  ASSERT_EQ(records.status, 200);
  EXPECT_TRUE(Json::parse(records.body)["attestations"].empty()) << records.body;
}

TEST(BrokerChallenge, ATokenIssuedBeforeARestartIsVerifiedByItsSignature) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  const std::string token = g.token;
  h.restart();  // same store and EAR key, no memory of the token
  const auto by_session = g.resource(h, kPath);
  ASSERT_EQ(by_session.status, 200) << by_session.body;
  EXPECT_EQ(g.decrypt(by_session), kSecret);
  const auto by_passport = g.resource(h, kPath, token);
  ASSERT_EQ(by_passport.status, 200) << by_passport.body;
  EXPECT_EQ(g.decrypt(by_passport), kSecret);

  // The same token with its signature changed is not the token issued.
  std::string forged = token;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  const auto refused = g.resource(h, kPath, forged);
  EXPECT_EQ(refused.status, 401) << refused.body;
}

TEST(BrokerChallenge, AnIssuedTokenPastItsLifetimeIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  ASSERT_EQ(g.resource(h, kPath, g.token).status, 200);
  h.advance(std::chrono::hours(2));
  const auto late = g.resource(h, kPath, g.token);
  EXPECT_EQ(late.status, 401) << late.body;
  const auto late_session = g.resource(h, kPath);
  EXPECT_EQ(late_session.status, 401) << late_session.body;
}

}  // namespace
}  // namespace concierge::testing
