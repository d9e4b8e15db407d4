// Test helper: a key broker on a fresh store (SQLite in a temporary folder,
// or a given URL), trusting a simulated AMD SEV-SNP platform, with a clock
// the test moves, and a guest that speaks the KBS protocol through
// Broker::handle (no sockets).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/broker/broker.h"
#include "concierge/core/private_key.h"
#include "concierge/evidence/snp/simulator.h"
#include "support/vectors.h"

namespace concierge::testing {

// One simulated SEV-SNP platform (Genoa) for the whole test process, made
// once per build of the test binary (its RSA keys are slow to make;
// support/test_cache.h).
const evidence::snp::SnpSimulator& shared_snp_simulator();

// The measurement the harness registers as known-good.
std::array<std::uint8_t, 48> good_measurement();

struct HarnessOptions {
  std::string store_url;  // empty: SQLite in the harness's folder
  bool trust_simulator = true;
  // Another simulated SEV-SNP platform to trust as well (not owned).
  const evidence::snp::SnpSimulator* also_trust = nullptr;
  bool register_measurement = true;
  // A KEK shared by harnesses that open one database (replicas).
  std::optional<std::array<std::uint8_t, 32>> kek;
  // An EAR key shared by replicas (PEM); empty: a fresh one.
  std::string ear_key_pem;
  // Previous EAR keys (public PEM) still verified (key rotation).
  std::vector<std::string> ear_previous_public_pems;
  std::string ear_issuer;     // empty: the broker's default
  std::string admin_key_pem;  // empty: a fresh one
  // Intel DCAP: a test root and a collateral folder (simulator).
  std::optional<Certificate> intel_root;
  std::optional<std::filesystem::path> dcap_collateral_dir;
  std::uint32_t dcap_min_evaluation_number = 0;
};

class BrokerHarness {
 public:
  explicit BrokerHarness(HarnessOptions options = {});
  ~BrokerHarness();

  broker::Broker& broker() { return *broker_; }
  TimePoint now;  // the broker's clock
  void advance(std::chrono::seconds s) { now += s; }

  broker::HttpResponse call(const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& cookie = "",
                            const std::string& authorization = "");
  // An admin token signed by the configured admin key, with `claims`
  // merged over {"aud", "iat", "exp" = iat + 300}.
  std::string admin_token(const nlohmann::json& claims = nlohmann::json::object());
  // The same, bound to one request (htm, htu, body_sha256), as the admin
  // API requires.
  std::string admin_token_for(const std::string& method, const std::string& path,
                              const std::string& body,
                              const nlohmann::json& claims = nlohmann::json::object());
  broker::HttpResponse admin(const std::string& method, const std::string& path,
                             const std::string& body = "");

  // Options for a second broker on this one's database (a replica): this
  // harness's options with its store URL, KEK, EAR key and admin key.
  HarnessOptions replica_options() const;

  // Destroys the broker and makes a new one on the same store (a restart).
  void restart();

  const std::string& store_url() const { return url_; }
  const std::array<std::uint8_t, 32>& kek() const { return kek_; }
  const std::string& ear_key_pem() const { return ear_key_pem_; }
  const std::string& admin_key_pem() const { return admin_key_pem_; }

 private:
  void start();
  HarnessOptions options_;
  TempDir dir_;
  std::string url_;
  std::array<std::uint8_t, 32> kek_{};
  std::string ear_key_pem_;
  std::string admin_key_pem_;
  std::unique_ptr<broker::Broker> broker_;
};

// A guest: its ephemeral key, its session and challenge.
class Guest {
 public:
  Guest();
  // POST auth; the response (the cookie and nonce are kept on 200).
  broker::HttpResponse auth(BrokerHarness& h, const std::string& tee = "snp");
  // The runtime data {"nonce", "tee-pubkey"} for `nonce` (default: ours).
  nlohmann::json runtime_data(std::optional<std::string> nonce = std::nullopt) const;
  // SNP tee-evidence binding `runtime` (default: ours), with `measurement`.
  nlohmann::json snp_evidence(
      const nlohmann::json& runtime,
      std::optional<std::array<std::uint8_t, 48>> measurement = std::nullopt) const;
  // POST attest with `runtime` and `evidence` (defaults: ours, a good report).
  broker::HttpResponse attest(BrokerHarness& h,
                              std::optional<nlohmann::json> runtime = std::nullopt,
                              std::optional<nlohmann::json> evidence = std::nullopt);
  // GET resource with our session cookie, or a bearer token when given.
  broker::HttpResponse resource(BrokerHarness& h, const std::string& path,
                                const std::string& bearer = "");
  // Decrypts a resource response's JWE with our key (empty on failure).
  std::string decrypt(const broker::HttpResponse& r) const;

  std::string cookie;
  std::string nonce;
  std::string token;
  PrivateKey key;
  nlohmann::json jwk;
};

// The "detail" of a problem response ("" when not one).
std::string problem_detail(const broker::HttpResponse& r);

}  // namespace concierge::testing
