// The guest's side of the Key Broker Service protocol 0.4.0 (broker.h):
// auth, attest with evidence bound to the challenge and to an ephemeral key
// generated here, then resources delivered as JWEs to that key.
//
// The ephemeral private key lives only in this object's memory (never on
// disk) and dies with it. The runtime data is {"nonce": <challenge>,
// "tee-pubkey": <JWK>}; the collector is given its binding digest
// (verifier/binding.h) to put in the evidence's report data.
//
// Who the broker is: over https the broker's certificate is verified (the
// system's CAs, or `ca_certificate`). Plain http is refused unless
// `allow_insecure_http`: without TLS the host can answer in the broker's
// place. The attestation result (EAR) is verified before any secret is
// used: its signature under the broker's pinned key set (`broker_jwks`), or
// when none is pinned, under the key set fetched over the verified https
// connection (/.well-known/jwks.json); its eat_nonce must be this session's
// challenge and its key attestation this client's key. Over insecure http
// with no pinned key set, nothing can be verified: `ear_verified()` stays
// false and the caller must say so.
//
// Every answer is read under a limit (server/http_client.h, 1 MiB): a
// larger one is an Error, and is not buffered.
//
// Outcomes: an Error when the exchange could not happen (the broker is
// unreachable, answered something that is not the protocol, or said our
// request was malformed: 400/413); a refusal (KbsResult::refused with the
// broker's reason) when the broker said no (401/403/404).
//
// Not thread-safe: one exchange at a time per client.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/jwe.h"
#include "concierge/core/private_key.h"
#include "concierge/core/result.h"

namespace concierge::attester {

// Makes the "tee-evidence" member for one attest: evidence whose report data
// is `report_data` (the runtime data's binding digest, sized for the TEE).
using EvidenceCollector =
    std::function<Result<nlohmann::json>(ByteView report_data, const nlohmann::json& runtime_data)>;

struct KbsClientOptions {
  // https: the CA to trust (default: the system's).
  std::optional<std::filesystem::path> ca_certificate;
  jose::JweAlg key_alg = jose::JweAlg::kEcdhEsA256kw;  // the ephemeral key: P-256 or RSA-3072
  int timeout_seconds = 30;
  // Permit http:// (no broker authentication at all).
  bool allow_insecure_http = false;
  // The broker's EAR verification keys ({"keys": [...]}); null: fetched
  // over https (never over plain http).
  nlohmann::json broker_jwks;
};

struct KbsResult {
  int status = 0;        // the broker's last HTTP status
  bool refused = false;  // 401/403/404: `reason` is the broker's detail
  std::string reason;
  std::string token;  // attest: the EAR
  Bytes secret;       // get_resource: the plaintext (the caller wipes it)
};

class KbsClient {
 public:
  // `base_url`: "http://host:port" or "https://host:port". kInvalidArgument
  // for anything else; kCrypto when the key cannot be generated.
  static Result<std::unique_ptr<KbsClient>> create(std::string_view base_url,
                                                   const KbsClientOptions& options = {});
  ~KbsClient();

  // POST auth for `tee`, then POST attest with the collector's evidence.
  Result<KbsResult> attest(std::string_view tee, const EvidenceCollector& collect);
  // GET /kbs/v0/resource/<path> with this client's session, or with
  // `passport` as a bearer token; decrypts the JWE with the ephemeral key.
  Result<KbsResult> get_resource(std::string_view path, std::string_view passport = {});

  const nlohmann::json& tee_pubkey() const { return tee_pubkey_; }
  const PrivateKey& key() const { return key_; }
  // Whether the last attest's EAR was verified (see above).
  bool ear_verified() const { return ear_verified_; }

 private:
  struct Http;
  KbsClient(std::unique_ptr<Http> http, PrivateKey key, nlohmann::json tee_pubkey,
            KbsClientOptions options, bool https);
  // The EAR check above; an Error (kCrypto) when the token is not the
  // broker's answer to this session.
  Result<bool> verify_token(const std::string& token, const std::string& nonce);
  std::unique_ptr<Http> http_;
  PrivateKey key_;
  nlohmann::json tee_pubkey_;
  KbsClientOptions options_;
  bool https_ = false;
  std::string cookie_;
  bool ear_verified_ = false;
};

// Splits a resource URL "scheme://host:port/kbs/v0/resource/repo/type/tag"
// (or ".../repo/type/tag") into the base URL and the resource path.
// kInvalidArgument when it has no scheme or no three-part path.
Result<std::pair<std::string, std::string>> split_resource_url(std::string_view url);

}  // namespace concierge::attester
