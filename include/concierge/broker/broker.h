// The key broker (the Relying Party of RFC 9334, with the Verifier inside):
// the Confidential Containers Key Broker Service protocol, version 0.4.0,
// plus an owner's admin API, independent of the HTTP transport
// (server/http_server.h puts it on a socket; tests call handle() directly).
//
// Guest endpoints (docs/kbs-openapi.yaml has the schemas):
//   POST /kbs/v0/auth      {version, tee, extra-params} -> {nonce, extra-params},
//                          and the kbs-session-id cookie
//   POST /kbs/v0/attest    {runtime-data: {nonce, tee-pubkey}, tee-evidence,
//                          init-data?} -> {token} (an EAR JWT, verifier/ear.h)
//   GET  /kbs/v0/resource/<repo>/<type>/<tag>  -> the secret as a flattened
//                          JWE to the tee-pubkey (core/jwe.h)
// Passport mode: GET resource with "Authorization: Bearer <EAR>" issued by
// this broker (any replica sharing its EAR key) and not expired.
// Owner endpoints, "Authorization: Bearer <JWT>" signed by a configured
// admin key (ES256/ES384, "aud" "concierge-admin", "exp" required and at
// most admin_token_max_lifetime after "iat"):
//   PUT|DELETE /admin/v0/resources/<repo>/<type>/<tag>   (PUT body: the secret)
//   GET        /admin/v0/resources
//   PUT|GET|DELETE /admin/v0/release-policies/<repo>/<type>/<tag> | default
//   PUT|GET|DELETE /admin/v0/attestation-policies/<tee>
//   POST|GET   /admin/v0/reference-values    (reference_store.h document)
//   DELETE     /admin/v0/reference-values/<name>[?value=<value>]
//   GET        /admin/v0/attestations[?limit=N]
//   GET        /admin/v0/audit[?limit=N&after=ID]
// Operations: GET /healthz, GET /metrics (Prometheus), GET
// /.well-known/jwks.json (the EAR verification keys).
//
// Security properties (each has a test):
//  - A secret leaves only as a JWE to the key in the runtime data, whose
//    digest the hardware-signed evidence carries (verifier/binding.h), after
//    the evidence was appraised and the resource's release policy
//    (release_policy.h) held on the attestation result.
//  - A challenge is bound to its session, single-use (Store::
//    consume_challenge) and expires after session_ttl; state lives in the
//    store, so any replica on the same database continues an exchange.
//  - Errors are RFC 7807 problem documents; a refusal says which rule
//    decided, never a secret. Every attestation, release and refusal, and
//    every admin change, goes to the audit log.
//
// Thread safety: handle() may be called concurrently from many threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "concierge/broker/metrics.h"
#include "concierge/core/jose.h"
#include "concierge/core/result.h"
#include "concierge/store/store.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::broker {

inline constexpr std::string_view kKbsProtocolVersion = "0.4.0";
inline constexpr std::string_view kSessionCookie = "kbs-session-id";
inline constexpr std::string_view kAdminAudience = "concierge-admin";
// The audience of the attestation results this broker issues: its own
// resource endpoint (a passport for another service is not one for it).
inline constexpr std::string_view kEarAudience = "concierge-kbs-resource";

struct BrokerOptions {
  std::chrono::seconds session_ttl{300};
  std::chrono::seconds token_validity{300};
  std::chrono::seconds admin_token_max_lifetime{900};
  // attest issues a token only for these statuses; others get 401 with the
  // appraisal's explanation.
  std::vector<verifier::Tier> token_statuses = {verifier::Tier::kAffirming,
                                                verifier::Tier::kWarning};
  // Roots (test roots only when configured), CRLs, collateral. The broker
  // sets its own caches.
  verifier::VerifierContext context;
  // The owner's keys; at least one (create refuses an empty set).
  jose::Jwks admin_keys;
  std::string verifier_build = "0.1.0";
  // The EAR's "iss": who issued it. Replicas share it (and the EAR key); a
  // token of another issuer is refused by resource.
  std::string ear_issuer = "concierge";
  // Set Secure on the session cookie (the server does when serving TLS).
  bool secure_cookie = false;
  // The time; tests pin it. Default: the system clock.
  std::function<TimePoint()> clock;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::string body;
  std::string cookie;         // the Cookie header
  std::string authorization;  // the Authorization header
  std::string peer;           // "address:port", for the audit log
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Set-Cookie
};

// A problem document (RFC 7807): {"type", "title", "status", "detail"}.
HttpResponse problem_response(int status, std::string_view slug, std::string_view detail);

class Broker {
 public:
  // kInvalidArgument without an admin key.
  static Result<std::unique_ptr<Broker>> create(std::unique_ptr<store::Store> store,
                                                verifier::EarSigner signer, BrokerOptions options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  HttpResponse handle(const HttpRequest& request);

  Metrics& metrics() { return metrics_; }
  store::Store& store() { return *store_; }
  const verifier::EarSigner& signer() const { return signer_; }

 private:
  struct Caches;
  Broker(std::unique_ptr<store::Store> store, verifier::EarSigner signer, BrokerOptions options);
  TimePoint now() const;

  HttpResponse route(const HttpRequest& request, std::string& endpoint);
  HttpResponse auth(const HttpRequest& request);
  HttpResponse attest(const HttpRequest& request);
  HttpResponse resource(const HttpRequest& request, std::string_view path);
  HttpResponse admin(const HttpRequest& request, std::string_view path);

  std::unique_ptr<store::Store> store_;
  verifier::EarSigner signer_;
  BrokerOptions options_;
  std::unique_ptr<Caches> caches_;
  Metrics metrics_;
};

}  // namespace concierge::broker
