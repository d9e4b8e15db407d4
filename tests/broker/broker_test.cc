// The key broker through Broker::handle: the KBS exchange, and every way a
// secret must not leave it.
#include "concierge/broker/broker.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/jwe.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/verifier/binding.h"
#include "support/broker_harness.h"
#include "support/postgres.h"
#include "support/test_cache.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
constexpr const char* kSecret = "the-root-disk-key-0123456789abcdef";
constexpr const char* kPath = "default/disk/root-key";

void put_secret(BrokerHarness& h, const std::string& path = kPath,
                const std::string& secret = kSecret) {
  const auto r = h.admin("PUT", "/admin/v0/resources/" + path, secret);
  ASSERT_EQ(r.status, 200) << r.body;
}

// Nothing of the secret in a refusal, whatever its encoding.
void expect_no_secret(const broker::HttpResponse& r) {
  EXPECT_EQ(r.body.find(kSecret), std::string::npos);
  EXPECT_EQ(r.body.find(base64_encode(as_bytes(kSecret))), std::string::npos);
  EXPECT_EQ(r.body.find(base64url_encode(as_bytes(kSecret))), std::string::npos);
  EXPECT_EQ(r.content_type, "application/problem+json");
}

TEST(BrokerTest, AttestedGuestReceivesTheSecretEncryptedToItsKey) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  EXPECT_FALSE(g.nonce.empty());
  EXPECT_NE(g.cookie.find("kbs-session-id="), std::string::npos);
  const auto a = g.attest(h);
  ASSERT_EQ(a.status, 200) << a.body;
  // The token is an EAR of this broker, affirming, carrying the guest's key.
  auto ear = verifier::verify_ear(g.token, h.broker().signer().key_set(), h.now);
  ASSERT_TRUE(ear && *ear);
  EXPECT_EQ(ear->result->submods.at("snp").status, verifier::Tier::kAffirming);
  EXPECT_TRUE(ear->result->submods.at("snp").extra.contains("ear.veraison.key-attestation"));
  const auto r = g.resource(h, kPath);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json jwe = Json::parse(r.body);
  for (const char* m : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
    EXPECT_TRUE(jwe.contains(m)) << m;
  }
  EXPECT_EQ(r.body.find(kSecret), std::string::npos);
  EXPECT_EQ(g.decrypt(r), kSecret);
  // Another key cannot open it.
  Guest other;
  EXPECT_EQ(other.decrypt(r), "");
}

TEST(BrokerTest, AnRsaTeeKeyGetsRsaOaep256) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  g.key = cached_rsa_key(3072);
  g.jwk = jose::encryption_jwk(g.key.public_key().value()).value();
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  const auto r = g.resource(h, kPath);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json header = Json::parse(
      as_chars(base64url_decode(Json::parse(r.body)["protected"].get<std::string>()).value()));
  EXPECT_EQ(header["alg"], "RSA-OAEP-256");
  EXPECT_EQ(header["enc"], "A256GCM");
  EXPECT_EQ(g.decrypt(r), kSecret);
}

TEST(BrokerTest, EvidenceUnderAnUntrustedRootIsRefused) {
  HarnessOptions o;
  o.trust_simulator = false;  // AMD's real roots only
  BrokerHarness h(o);
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  const auto a = g.attest(h);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(problem_detail(a).find("evidence rejected"), std::string::npos) << a.body;
  const auto r = g.resource(h, kPath);
  EXPECT_EQ(r.status, 401);
  expect_no_secret(r);
}

TEST(BrokerTest, AnUnknownMeasurementIsNotReleased) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  std::array<std::uint8_t, 48> other{};
  other.fill(0x66);
  // The default SNP policy rates an unknown measurement a warning: the
  // guest gets a token, and the default release policy (affirming) refuses.
  const auto a = g.attest(h, std::nullopt, g.snp_evidence(g.runtime_data(), other));
  ASSERT_EQ(a.status, 200) << a.body;
  const auto r = g.resource(h, kPath);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(problem_detail(r).find("affirming"), std::string::npos) << r.body;
  EXPECT_NE(problem_detail(r).find("measurement"), std::string::npos) << r.body;
  expect_no_secret(r);
}

TEST(BrokerTest, ForgedReportIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  Json ev = g.snp_evidence(g.runtime_data());
  Bytes report = base64_decode(ev["evidence"].get<std::string>()).value();
  report[0x90] ^= 1;  // inside MEASUREMENT, after signing
  ev["evidence"] = base64_encode(report);
  const auto a = g.attest(h, std::nullopt, ev);
  EXPECT_EQ(a.status, 401) << a.body;
  expect_no_secret(g.resource(h, kPath));
}

TEST(BrokerTest, AReplayedNonceIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  const Json rt = g.runtime_data();
  const Json ev = g.snp_evidence(rt);
  ASSERT_EQ(g.attest(h, rt, ev).status, 200);
  const auto again = g.attest(h, rt, ev);
  EXPECT_EQ(again.status, 401);
  EXPECT_NE(problem_detail(again).find("already used"), std::string::npos) << again.body;
}

TEST(BrokerTest, ANonceFromAnotherSessionIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest a, b;
  ASSERT_EQ(a.auth(h).status, 200);
  ASSERT_EQ(b.auth(h).status, 200);
  // b sends a's challenge (with evidence bound to it) in b's session.
  const Json rt = b.runtime_data(a.nonce);
  const auto r = b.attest(h, rt, b.snp_evidence(rt));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(problem_detail(r).find("not this session's challenge"), std::string::npos);
  expect_no_secret(b.resource(h, kPath));
  // a's own exchange is unaffected.
  EXPECT_EQ(a.attest(h).status, 200);
}

TEST(BrokerTest, EvidenceBoundToAnotherKeyIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest g, attacker;
  ASSERT_EQ(g.auth(h).status, 200);
  // Genuine evidence bound to the guest's key, sent with the attacker's key.
  const Json ev = g.snp_evidence(g.runtime_data());
  const Json rt = {{"nonce", g.nonce}, {"tee-pubkey", attacker.jwk}};
  const auto r = g.attest(h, rt, ev);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(problem_detail(r).find("bind"), std::string::npos) << r.body;
  expect_no_secret(g.resource(h, kPath));
}

TEST(BrokerTest, AnExpiredChallengeIsRefused) {
  BrokerHarness h;
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  h.advance(std::chrono::seconds(301));
  const auto r = g.attest(h);
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST(BrokerTest, AnExpiredTokenIsRefused) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  h.advance(std::chrono::seconds(300 + 61));  // validity + leeway
  const auto r = g.resource(h, kPath);
  EXPECT_EQ(r.status, 401) << r.body;
  expect_no_secret(r);
  const auto p = Guest().resource(h, kPath, g.token);
  EXPECT_EQ(p.status, 401) << p.body;
}

TEST(BrokerTest, UnknownResourceIs404AndUnattestedIs401) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  const auto before = g.resource(h, kPath);
  EXPECT_EQ(before.status, 401);
  expect_no_secret(before);
  EXPECT_EQ(Guest().resource(h, kPath).status, 401);
  ASSERT_EQ(g.attest(h).status, 200);
  EXPECT_EQ(g.resource(h, "default/disk/other").status, 404);
  EXPECT_EQ(g.resource(h, "default/../etc").status, 400);
}

TEST(BrokerTest, PassportModeReleasesWithoutAttestingAgain) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  // A new connection, no session: the token alone.
  const auto r = g.resource(h, kPath, g.token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(g.decrypt(r), kSecret);
  // A tampered token, or one signed by another verifier, is refused.
  std::string tampered = g.token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(g.resource(h, kPath, tampered).status, 401);
  BrokerHarness other;
  Guest o;
  ASSERT_EQ(o.auth(other).status, 200);
  ASSERT_EQ(o.attest(other).status, 200);
  const auto foreign = g.resource(h, kPath, o.token);
  EXPECT_EQ(foreign.status, 401);
  expect_no_secret(foreign);
}

TEST(BrokerTest, ReleasePolicyDecidesAndTheAuditLogSaysWhichRule) {
  BrokerHarness h;
  put_secret(h);
  put_secret(h, "default/disk/debug-only", "debug secret");
  const Json policy = {
      {"id", "release/debug-only"},
      {"rules", {{{"id", "debug-guest"}, {"when", {{"path", "claims.debug"}, {"equals", true}}}}}}};
  ASSERT_EQ(
      h.admin("PUT", "/admin/v0/release-policies/default/disk/debug-only", policy.dump()).status,
      200);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  EXPECT_EQ(g.resource(h, kPath).status, 200);
  const auto refused = g.resource(h, "default/disk/debug-only");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(problem_detail(refused).find("debug-guest"), std::string::npos) << refused.body;

  const auto audit = h.admin("GET", "/admin/v0/audit?limit=10");
  ASSERT_EQ(audit.status, 200);
  const Json entries = Json::parse(audit.body)["audit"];
  ASSERT_GE(entries.size(), 3u);
  EXPECT_EQ(entries[0]["action"], "refuse");
  EXPECT_EQ(entries[0]["resource"], "default/disk/debug-only");
  EXPECT_EQ(entries[0]["rule"], "release/debug-only#debug-guest");
  EXPECT_EQ(entries[1]["action"], "release");
  EXPECT_EQ(entries[1]["rule"], "concierge/release-affirming");
  EXPECT_EQ(entries[2]["action"], "attest");
  EXPECT_EQ(audit.body.find(kSecret), std::string::npos);

  const auto attestations = h.admin("GET", "/admin/v0/attestations");
  ASSERT_EQ(attestations.status, 200);
  EXPECT_EQ(Json::parse(attestations.body)["attestations"][0]["status"], "affirming");
}

TEST(BrokerTest, AnAdminTokenIsAcceptedOnceEvenByAReplicaOnPostgres) {
  CONCIERGE_REQUIRE_POSTGRES(url);
  HarnessOptions o;
  o.store_url = *url;
  BrokerHarness a(o);
  BrokerHarness b(a.replica_options());
  const std::string path = "/admin/v0/resources/default/disk/replayed";
  const std::string token = a.admin_token_for("PUT", path, "first");
  EXPECT_EQ(a.call("PUT", path, "first", "", "Bearer " + token).status, 200);
  // Replayed on the same broker, on the other replica, or after a restart.
  const auto again = a.call("PUT", path, "first", "", "Bearer " + token);
  EXPECT_EQ(again.status, 401);
  EXPECT_NE(problem_detail(again).find("already used"), std::string::npos) << again.body;
  EXPECT_EQ(b.call("PUT", path, "first", "", "Bearer " + token).status, 401);
  b.restart();
  EXPECT_EQ(b.call("PUT", path, "first", "", "Bearer " + token).status, 401);
  // Bound to its request: another body, method or path is refused.
  EXPECT_EQ(b.call("PUT", path, "second", "", "Bearer " + token).status, 401);
  EXPECT_EQ(b.call("DELETE", path, "", "", "Bearer " + token).status, 401);
  // The resource is the first request's.
  const auto list = b.admin("GET", "/admin/v0/resources");
  ASSERT_EQ(list.status, 200) << list.body;
  const Json resources = Json::parse(list.body)["resources"];
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(resources[0]["size"], 5);
  // A fresh token works on either.
  EXPECT_EQ(b.admin("GET", "/admin/v0/audit").status, 200);
  EXPECT_EQ(a.admin("GET", "/admin/v0/audit").status, 200);
}

TEST(BrokerTest, AdminRequestsNeedAValidToken) {
  BrokerHarness h;
  const std::string path = "/admin/v0/resources/default/disk/x";
  EXPECT_EQ(h.call("PUT", path, "s").status, 401);                         // no token
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer nonsense").status, 401);  // garbage
  // Signed by another key.
  const auto other = PrivateKey::generate_ec(EcCurve::kP256).value();
  const auto iat = unix_seconds(h.now);
  const Json claims = {
      {"aud", "concierge-admin"}, {"iat", iat}, {"exp", iat + 60}, {"jti", "0123456789abcdefgh"}};
  const auto forged = jose::sign_jwt(other, jose::JwsAlg::kEs256, claims).value();
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + forged).status, 401);
  // The right key, but the wrong audience, an expired token, a token without
  // iat, or one valid for a day.
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"aud", "other"}})).status,
            401);
  EXPECT_EQ(
      h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"exp", iat - 120}})).status,
      401);
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"iat", nullptr}})).status,
            401);
  EXPECT_EQ(
      h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"exp", iat + 86400}})).status,
      401);
  // Without a jti, or with one too short to be unique.
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"jti", nullptr}})).status,
            401);
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token(Json{{"jti", "short"}})).status,
            401);
  // A guest's EAR is not an admin token.
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + g.token).status, 401);
  // Nothing was stored by any of them.
  const auto list = h.admin("GET", "/admin/v0/resources");
  EXPECT_EQ(Json::parse(list.body)["resources"].size(), 0u);
  // Not bound to this request (no htm/htu/body_sha256): refused.
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token()).status, 401);
  EXPECT_EQ(h.call("PUT", path, "s", "", "Bearer " + h.admin_token_for("PUT", path, "s")).status,
            200);
}

TEST(BrokerTest, MalformedRequestsGet400AndTheBrokerKeepsServing) {
  BrokerHarness h;
  put_secret(h);
  EXPECT_EQ(h.call("POST", "/kbs/v0/auth", "{not json").status, 400);
  EXPECT_EQ(h.call("POST", "/kbs/v0/auth", "[]").status, 400);
  EXPECT_EQ(h.call("POST", "/kbs/v0/auth", R"({"version":"0.1.0","tee":"snp"})").status, 400);
  EXPECT_EQ(h.call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"nope"})").status, 400);
  EXPECT_EQ(h.call("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"snp","x":1})").status, 400);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  EXPECT_EQ(h.call("POST", "/kbs/v0/attest", "{", g.cookie).status, 400);
  EXPECT_EQ(h.call("POST", "/kbs/v0/attest", R"({"runtime-data":{}})", g.cookie).status, 400);
  Json bad_key = {{"runtime-data", {{"nonce", g.nonce}, {"tee-pubkey", {{"kty", "EC"}}}}},
                  {"tee-evidence", {{"evidence", "AAAA"}}}};
  EXPECT_EQ(h.call("POST", "/kbs/v0/attest", bad_key.dump(), g.cookie).status, 400);
  Json bad_evidence = {{"runtime-data", g.runtime_data()}, {"tee-evidence", {{"evidence", "!!"}}}};
  EXPECT_EQ(h.call("POST", "/kbs/v0/attest", bad_evidence.dump(), g.cookie).status, 400);
  // Cookies that are not ours never reach the store (PostgreSQL would
  // refuse invalid UTF-8): 401, not 500.
  EXPECT_EQ(h.call("POST", "/kbs/v0/attest", "{}", "kbs-session-id=\xff\xfe").status, 401);
  EXPECT_EQ(h.call("GET", std::string("/kbs/v0/resource/") + kPath, "",
                   "kbs-session-id=" + std::string(43, '\xff'))
                .status,
            401);
  EXPECT_EQ(h.call("GET", "/kbs/v0/auth").status, 405);
  EXPECT_EQ(h.call("GET", "/nowhere").status, 404);
  EXPECT_EQ(h.admin("PUT", "/admin/v0/release-policies/default", "{\"id\":1}").status, 400);
  // The malformed attempts did not spend the challenge: the exchange completes.
  ASSERT_EQ(g.attest(h).status, 200);
  EXPECT_EQ(g.decrypt(g.resource(h, kPath)), kSecret);
}

TEST(BrokerTest, ARestartBetweenAuthAndAttestDoesNotBreakTheExchange) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  h.restart();
  ASSERT_EQ(g.attest(h).status, 200);
  h.restart();
  EXPECT_EQ(g.decrypt(g.resource(h, kPath)), kSecret);
}

TEST(BrokerTest, HealthMetricsAndKeys) {
  BrokerHarness h;
  put_secret(h);
  Guest g;
  ASSERT_EQ(g.auth(h).status, 200);
  ASSERT_EQ(g.attest(h).status, 200);
  ASSERT_EQ(g.resource(h, kPath).status, 200);
  EXPECT_EQ(Guest().resource(h, kPath).status, 401);
  const auto health = h.call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Json::parse(health.body)["store"], "sqlite");
  const auto metrics = h.call("GET", "/metrics");
  EXPECT_NE(metrics.body.find("concierge_attestations_total{tee=\"snp\",verdict=\"affirming\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("concierge_releases_total 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("concierge_refusals_total{reason=\"unauthenticated\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("concierge_request_duration_seconds_count{endpoint=\"attest\"} 1"),
            std::string::npos);
  const auto jwks = h.call("GET", "/.well-known/jwks.json");
  EXPECT_EQ(Json::parse(jwks.body)["keys"].size(), 1u);
}

// Trustee's attesters send a TD quote as {"quote", "cc_eventlog"}.
TEST(BrokerTest, TrusteeShapedTdxEvidenceIsUnderstood) {
  auto sim = evidence::dcap::DcapSimulator::create();
  ASSERT_TRUE(sim);
  TempDir collateral;
  ASSERT_TRUE(sim->write_collateral(collateral.path(), evidence::dcap::TeeType::kTdx));
  HarnessOptions o;
  o.intel_root = sim->root();
  o.dcap_collateral_dir = collateral.path();
  BrokerHarness h(o);
  Guest g;
  ASSERT_EQ(g.auth(h, "tdx").status, 200);
  const Json rt = g.runtime_data();
  evidence::dcap::TdQuoteInput input;
  const Bytes rd = verifier::runtime_data_digest(rt, HashAlg::kSha384, 64).value();
  std::copy(rd.begin(), rd.end(), input.report_data.begin());
  const Json ev = {{"quote", base64_encode(sim->tdx_quote(input).value())},
                   {"cc_eventlog", nullptr}};
  const auto a = g.attest(h, rt, ev);
  EXPECT_TRUE(a.status == 200 || a.status == 401) << a.body;
  const auto records = h.admin("GET", "/admin/v0/attestations");
  const Json device = Json::parse(records.body)["attestations"][0]["appraisal"]["devices"][0];
  EXPECT_EQ(device["tee"], "tdx");
  EXPECT_EQ(device["evidence_verified"], true) << device.dump();
  EXPECT_EQ(device["binding"], true);
  // Anything else beside the quote is refused.
  Guest g2;
  ASSERT_EQ(g2.auth(h, "tdx").status, 200);
  const Json odd = {{"quote", "AAAA"}, {"extra", 1}};
  EXPECT_EQ(g2.attest(h, g2.runtime_data(), odd).status, 400);
}

TEST(BrokerTest, TwoReplicasOnOnePostgresCompleteEachOthersExchanges) {
  CONCIERGE_REQUIRE_POSTGRES(url);
  HarnessOptions o;
  o.store_url = *url;
  BrokerHarness a(o);
  HarnessOptions replica = a.replica_options();
  replica.register_measurement = false;
  BrokerHarness b(replica);
  EXPECT_EQ(Json::parse(a.call("GET", "/healthz").body)["store"], "postgresql");
  put_secret(a);
  Guest g;
  ASSERT_EQ(g.auth(a).status, 200);
  b.now = a.now;
  ASSERT_EQ(g.attest(b).status, 200);
  EXPECT_EQ(g.decrypt(g.resource(a, kPath)), kSecret);
  // The challenge is single-use across replicas.
  Guest r;
  ASSERT_EQ(r.auth(b).status, 200);
  const Json rt = r.runtime_data();
  const Json ev = r.snp_evidence(rt);
  ASSERT_EQ(r.attest(a, rt, ev).status, 200);
  EXPECT_EQ(r.attest(b, rt, ev).status, 401);
}

}  // namespace
}  // namespace concierge::testing
