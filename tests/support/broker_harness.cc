#include "support/broker_harness.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/jwe.h"
#include "concierge/core/time.h"
#include "concierge/store/store.h"
#include "concierge/verifier/binding.h"
#include "concierge/verifier/ear.h"
#include "support/test_cache.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;

PrivateKey fresh_p256() { return PrivateKey::generate_ec(EcCurve::kP256).value(); }

std::string random_jti() {
  Bytes b(16);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  return base64url_encode(b);
}

}  // namespace

const evidence::snp::SnpSimulator& shared_snp_simulator() {
  static const evidence::snp::SnpSimulator sim = [] {
    evidence::snp::SimulatorOptions o;
    o.product = evidence::snp::Product::kGenoa;
    return cached_snp_simulator(o);
  }();
  return sim;
}

std::array<std::uint8_t, 48> good_measurement() {
  std::array<std::uint8_t, 48> m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(0xA0 + i);
  return m;
}

BrokerHarness::BrokerHarness(HarnessOptions options) : options_(std::move(options)) {
  now = std::chrono::system_clock::now();
  if (options_.kek) {
    kek_ = *options_.kek;
  } else {
    RAND_bytes(kek_.data(), static_cast<int>(kek_.size()));
  }
  url_ =
      options_.store_url.empty() ? "sqlite:" + (dir_ / "broker.db").string() : options_.store_url;
  ear_key_pem_ =
      options_.ear_key_pem.empty() ? fresh_p256().to_pem().value() : options_.ear_key_pem;
  admin_key_pem_ =
      options_.admin_key_pem.empty() ? fresh_p256().to_pem().value() : options_.admin_key_pem;
  start();
  if (options_.register_measurement) {
    const Json doc = {{"reference_values",
                       {{{"name", "snp.measurement"}, {"value", hex_encode(good_measurement())}}}}};
    const auto r = admin("POST", "/admin/v0/reference-values", doc.dump());
    EXPECT_EQ(r.status, 200) << r.body;
  }
}

BrokerHarness::~BrokerHarness() = default;

void BrokerHarness::start() {
  auto box = store::SecretBox::from_key(kek_);
  auto store = store::open_store(url_, std::move(box).value());
  ASSERT_TRUE(store) << store.error().to_string();
  broker::BrokerOptions o;
  if (options_.also_trust != nullptr) {
    o.context.snp_roots.push_back(options_.also_trust->root_set().value());
  }
  if (options_.trust_simulator) {
    o.context.snp_roots.push_back(shared_snp_simulator().root_set().value());
  }
  o.context.intel_root = options_.intel_root;
  o.context.dcap_collateral_dir = options_.dcap_collateral_dir;
  o.context.dcap_min_evaluation_number = options_.dcap_min_evaluation_number;
  auto admin_key = PrivateKey::from_pem(admin_key_pem_).value();
  ASSERT_TRUE(o.admin_keys.add(admin_key.public_key().value()));
  o.clock = [this] { return now; };
  auto signer = verifier::EarSigner::from_pem(ear_key_pem_);
  ASSERT_TRUE(signer);
  for (const std::string& pem : options_.ear_previous_public_pems) {
    ASSERT_TRUE(signer->add_previous_key(PublicKey::from_pem(pem).value()));
  }
  if (!options_.ear_issuer.empty()) o.ear_issuer = options_.ear_issuer;
  auto b = broker::Broker::create(std::move(*store), std::move(*signer), std::move(o));
  ASSERT_TRUE(b) << b.error().to_string();
  broker_ = std::move(*b);
}

void BrokerHarness::restart() {
  broker_.reset();
  start();
}

broker::HttpResponse BrokerHarness::call(const std::string& method, const std::string& path,
                                         const std::string& body, const std::string& cookie,
                                         const std::string& authorization) {
  broker::HttpRequest r;
  r.method = method;
  const auto q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) r.query = path.substr(q + 1);
  r.body = body;
  r.cookie = cookie;
  r.authorization = authorization;
  r.peer = "127.0.0.1:1";
  return broker_->handle(r);
}

HarnessOptions BrokerHarness::replica_options() const {
  HarnessOptions o = options_;
  o.store_url = url_;
  o.kek = kek_;
  o.ear_key_pem = ear_key_pem_;
  o.admin_key_pem = admin_key_pem_;
  return o;
}

std::string BrokerHarness::admin_token(const Json& claims) {
  const auto iat = unix_seconds(now);
  // A fresh jti per token: the broker accepts each admin token once.
  Json c = {{"aud", "concierge-admin"}, {"iat", iat}, {"exp", iat + 300}, {"jti", random_jti()}};
  for (const auto& [k, v] : claims.items()) c[k] = v;
  auto key = PrivateKey::from_pem(admin_key_pem_).value();
  return jose::sign_jwt(key, jose::JwsAlg::kEs256, c).value();
}

std::string BrokerHarness::admin_token_for(const std::string& method, const std::string& path,
                                           const std::string& body, const Json& claims) {
  Json c = {{"htm", method},
            {"htu", path},
            {"body_sha256", base64url_encode(digest(HashAlg::kSha256, as_bytes(body)).value())}};
  for (const auto& [k, v] : claims.items()) c[k] = v;
  return admin_token(c);
}

broker::HttpResponse BrokerHarness::admin(const std::string& method, const std::string& path,
                                          const std::string& body) {
  return call(method, path, body, "", "Bearer " + admin_token_for(method, path, body));
}

Guest::Guest() : key(fresh_p256()) { jwk = jose::encryption_jwk(key.public_key().value()).value(); }

broker::HttpResponse Guest::auth(BrokerHarness& h, const std::string& tee) {
  const Json req = {{"version", "0.4.0"}, {"tee", tee}, {"extra-params", Json::object()}};
  auto r = h.call("POST", "/kbs/v0/auth", req.dump());
  if (r.status == 200) {
    nonce = Json::parse(r.body)["nonce"].get<std::string>();
    for (const auto& [name, value] : r.headers) {
      if (name == "Set-Cookie") cookie = value.substr(0, value.find(';'));
    }
  }
  return r;
}

Json Guest::runtime_data(std::optional<std::string> n) const {
  return {{"nonce", n ? *n : nonce}, {"tee-pubkey", jwk}};
}

Json Guest::snp_evidence(const Json& runtime,
                         std::optional<std::array<std::uint8_t, 48>> measurement) const {
  const auto& sim = shared_snp_simulator();
  evidence::snp::ReportRequest req;
  const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha384, 64).value();
  std::copy(rd.begin(), rd.end(), req.report_data.begin());
  req.measurement = measurement ? *measurement : good_measurement();
  const Bytes report = sim.issue(req).value();
  return {{"evidence", base64_encode(report)},
          {"endorsements", {{"cert_table", base64_encode(sim.cert_table().value())}}}};
}

broker::HttpResponse Guest::attest(BrokerHarness& h, std::optional<Json> runtime,
                                   std::optional<Json> evidence) {
  const Json rt = runtime ? *runtime : runtime_data();
  const Json ev = evidence ? *evidence : snp_evidence(rt);
  const Json req = {{"runtime-data", rt}, {"tee-evidence", ev}};
  auto r = h.call("POST", "/kbs/v0/attest", req.dump(), cookie);
  if (r.status == 200) token = Json::parse(r.body)["token"].get<std::string>();
  return r;
}

broker::HttpResponse Guest::resource(BrokerHarness& h, const std::string& path,
                                     const std::string& bearer) {
  return h.call("GET", "/kbs/v0/resource/" + path, "", bearer.empty() ? cookie : "",
                bearer.empty() ? "" : "Bearer " + bearer);
}

std::string Guest::decrypt(const broker::HttpResponse& r) const {
  auto d = jose::jwe_decrypt(std::string_view(r.body), key);
  if (!d || !*d) return {};
  return std::string(as_chars(d->plaintext));
}

std::string problem_detail(const broker::HttpResponse& r) {
  auto j = Json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("detail")) return {};
  return j["detail"].get<std::string>();
}

}  // namespace concierge::testing
