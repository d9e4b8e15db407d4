// The KBS protocol handlers: auth, attest, resource (broker.h).
#include <algorithm>
#include <set>

#include "broker/broker_caches.h"
#include "broker/broker_internal.h"
#include "concierge/broker/broker.h"
#include "concierge/broker/release_policy.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jwe.h"
#include "concierge/core/time.h"
#include "concierge/verifier/appraise.h"
#include "concierge/verifier/envelope.h"

namespace concierge::broker {
namespace {

using Json = nlohmann::json;
using internal::error_response;
using internal::json_response;

// Where the EAR carries the key the secret is encrypted to (Veraison's
// key-attestation claim: the DER SubjectPublicKeyInfo, base64url).
constexpr const char* kKeyAttestation = "ear.veraison.key-attestation";

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > 1500) s = s.substr(0, 1500) + "...";
  return s;
}

// Why an envelope appraisal is not affirming, in one line: for each device
// that is not, its rejected evidence, its unbound runtime data, or each
// failed rule with the leaves that decided it (so a substituted boot stage
// is named by the event-log rule even when a register rule failed too).
// For the guest (`for_guest`) the leaves say the guest's own values and
// the rule only; the owner's version (audit log) also says what would
// have been accepted.
std::string explanation(const verifier::EnvelopeAppraisal& a, bool for_guest) {
  std::string out;
  for (const auto& d : a.devices) {
    std::string why;
    if (!d.evidence.verdict.accepted) {
      why = "evidence rejected: " + d.evidence.verdict.reason;
    } else if (d.binding && !d.binding->accepted) {
      why = d.binding->reason;
    } else if (d.appraisal.status != verifier::Tier::kAffirming) {
      for (const auto& r : d.appraisal.rules) {
        if (!r.applied || r.passed) continue;
        std::string leaves;
        for (const auto& t : r.trace) {
          if (!t.decisive || t.message.empty()) continue;
          leaves += (leaves.empty() ? "" : ", ") + (for_guest ? t.guest_message() : t.message);
        }
        why += (why.empty() ? "" : "; ") + r.rule_id + " (" +
               std::string(verifier::trust_claim_name(r.claim)) + " " + std::to_string(r.value) +
               ")" + (leaves.empty() ? "" : ": " + leaves);
      }
      if (why.empty()) why = "status " + std::string(verifier::tier_name(d.appraisal.status));
    }
    if (why.empty()) continue;
    if (!out.empty()) out += "; ";
    out += d.submod + ": " + why;
  }
  return one_line(out);
}

}  // namespace

HttpResponse Broker::auth(const HttpRequest& request) {
  auto body = internal::parse_body(request.body, "auth request");
  if (!body.json) return body.problem;
  const Json& j = *body.json;
  for (const auto& [key, value] : j.items()) {
    if (key != "version" && key != "tee" && key != "extra-params") {
      return problem_response(400, "malformed-request", "auth request: unknown member " + key);
    }
  }
  const auto version = j.find("version");
  if (version == j.end() || !version->is_string()) {
    return problem_response(400, "malformed-request", "auth request: version (a string) missing");
  }
  if (version->get<std::string>() != kKbsProtocolVersion) {
    return problem_response(400, "protocol-version",
                            "auth request: protocol version " + version->get<std::string>() +
                                " is not supported; this broker speaks " +
                                std::string(kKbsProtocolVersion));
  }
  const auto tee = j.find("tee");
  if (tee == j.end() || !tee->is_string()) {
    return problem_response(400, "malformed-request", "auth request: tee (a string) missing");
  }
  const std::string tee_name = tee->get<std::string>();
  if (verifier::find_evidence_kind(tee_name) == nullptr) {
    return problem_response(400, "unsupported-tee",
                            "auth request: tee '" + one_line(tee_name.substr(0, 64)) +
                                "' is not supported (snp, tdx, sgx, tpm)");
  }
  if (const auto extra = j.find("extra-params");
      extra != j.end() && !extra->is_object() && !extra->is_string() && !extra->is_null()) {
    return problem_response(400, "malformed-request",
                            "auth request: extra-params is neither an object nor a string");
  }

  store::Session s;
  s.id = internal::random_token(32);
  const std::string nonce_raw = internal::random_token(32);
  if (s.id.empty() || nonce_raw.empty()) {
    return error_response(make_error(Errc::kCrypto, "the random generator failed"), "auth");
  }
  auto nonce_bytes = base64url_decode(nonce_raw);
  s.nonce = base64_encode(*nonce_bytes);
  s.tee = tee_name;
  s.created = now();
  s.expires = s.created + options_.session_ttl;
  if (auto ok = store_->create_session(s); !ok) return error_response(ok.error(), "auth");
  // Expired sessions are deleted here, at most once a minute per process.
  const std::int64_t seconds = unix_seconds(s.created);
  std::int64_t last = caches_->last_purge.load();
  if (seconds - last >= 60 && caches_->last_purge.compare_exchange_strong(last, seconds)) {
    if (auto purged = store_->purge_sessions(s.created); !purged) {
      internal::log_line("purging expired sessions: " + purged.error().to_string());
    }
  }

  HttpResponse r = json_response(200, {{"nonce", s.nonce}, {"extra-params", Json::object()}});
  std::string cookie = std::string(kSessionCookie) + "=" + s.id +
                       "; Path=/kbs; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(options_.session_ttl.count());
  if (options_.secure_cookie) cookie += "; Secure";
  r.headers.emplace_back("Set-Cookie", std::move(cookie));
  return r;
}

HttpResponse Broker::attest(const HttpRequest& request) {
  const std::string session_id = internal::session_cookie(request.cookie);
  if (session_id.empty()) {
    metrics_.refusal("unauthenticated");
    return problem_response(401, "no-session",
                            "attest: no kbs-session-id cookie: call /kbs/v0/auth first");
  }
  auto session = store_->get_session(session_id);
  if (!session) return error_response(session.error(), "attest");
  if (!*session) {
    metrics_.refusal("unauthenticated");
    return problem_response(401, "unknown-session",
                            "attest: unknown or expired session: call /kbs/v0/auth again");
  }
  store::Session s = std::move(**session);

  auto body = internal::parse_body(request.body, "attest request");
  if (!body.json) return body.problem;
  Json& j = *body.json;
  for (const auto& [key, value] : j.items()) {
    if (key != "runtime-data" && key != "tee-evidence" && key != "init-data") {
      return problem_response(400, "malformed-request", "attest request: unknown member " + key);
    }
  }
  const auto runtime = j.find("runtime-data");
  if (runtime == j.end() || !runtime->is_object()) {
    return problem_response(400, "malformed-request",
                            "attest request: runtime-data (an object) missing");
  }
  if (const auto init = j.find("init-data"); init != j.end() && !init->is_null()) {
    // The init-data digest would have to be compared with the evidence's
    // host data (SNP HOST_DATA, TDX MRCONFIGID); until that is built, refuse
    // rather than accept data that nothing checked.
    return problem_response(400, "unsupported-init-data",
                            "attest request: init-data is not supported by this broker");
  }
  const auto nonce = runtime->find("nonce");
  if (nonce == runtime->end() || !nonce->is_string()) {
    return problem_response(400, "malformed-request",
                            "attest request: runtime-data.nonce (a string) missing");
  }
  const auto pubkey_json = runtime->find("tee-pubkey");
  if (pubkey_json == runtime->end() || !pubkey_json->is_object()) {
    return problem_response(400, "malformed-request",
                            "attest request: runtime-data.tee-pubkey (a JWK) missing");
  }
  auto tee_pubkey = jose::public_key_from_encryption_jwk(*pubkey_json);
  if (!tee_pubkey) {
    return error_response(tee_pubkey.error(), "attest request: runtime-data.tee-pubkey");
  }

  // The envelope: the TEE from auth, the evidence, the runtime data.
  auto evidence = j.find("tee-evidence");
  if (evidence == j.end()) {
    return problem_response(400, "malformed-request", "attest request: tee-evidence missing");
  }
  Json envelope_json;
  if (evidence->is_string()) {
    auto parsed = internal::parse_body(evidence->get<std::string>(), "tee-evidence");
    if (!parsed.json) return parsed.problem;
    envelope_json = std::move(*parsed.json);
  } else if (evidence->is_object()) {
    envelope_json = std::move(*evidence);  // not copied: the tree is the guest's
  } else {
    return problem_response(400, "malformed-request",
                            "attest request: tee-evidence is neither an object nor a string");
  }
  // Trustee's attesters send TDX and SGX evidence as {"quote": base64,
  // "cc_eventlog": base64 (TDX, optional)}: the same bytes under other names.
  if ((s.tee == "tdx" || s.tee == "sgx") && envelope_json.contains("quote") &&
      !envelope_json.contains("evidence")) {
    Json mapped = {{"evidence", envelope_json["quote"]}};
    for (const auto& [key, value] : envelope_json.items()) {
      if (key == "quote") continue;
      if (key != "cc_eventlog" || s.tee != "tdx") {
        return problem_response(400, "malformed-request",
                                "attest request: tee-evidence: unknown member " + key);
      }
      if (!value.is_null()) mapped["event_log"] = value;
    }
    envelope_json = std::move(mapped);
  }
  if (const auto t = envelope_json.find("tee"); t != envelope_json.end() && *t != s.tee) {
    return problem_response(
        400, "malformed-request",
        "attest request: tee-evidence.tee differs from the session's TEE " + s.tee);
  }
  if (envelope_json.contains("runtime_data")) {
    return problem_response(400, "malformed-request",
                            "attest request: tee-evidence may not carry runtime_data (it is the "
                            "request's runtime-data)");
  }
  envelope_json["tee"] = s.tee;
  envelope_json["runtime_data"] = *runtime;
  auto envelope = verifier::parse_envelope(envelope_json);
  if (!envelope) return error_response(envelope.error(), "attest request: tee-evidence");

  // The challenge: this session's, unused, unexpired. These checks refuse
  // early; the decision is the conditional update that stores the outcome
  // (Store::attest_session), so of concurrent attempts with one nonce at
  // most one is answered with a token, whichever replica they reach.
  const TimePoint t = now();
  if (nonce->get<std::string>() != s.nonce) {
    metrics_.refusal("nonce");
    return problem_response(401, "nonce-mismatch",
                            "attest: runtime-data.nonce is not this session's challenge");
  }
  const auto challenge_used = [&] {
    metrics_.refusal("nonce");
    return problem_response(401, "challenge-used",
                            "attest: this session's challenge was already used or has expired: "
                            "call /kbs/v0/auth again");
  };
  if (s.state != store::SessionState::kChallenged || t >= s.expires) return challenge_used();
  const std::string challenge = s.nonce;

  // Appraisal.
  verifier::AppraiseOptions appraise_options;
  appraise_options.context = options_.context;
  // A pinned clock is the appraisal's time too (the EAR's iat and exp, the
  // certificates' validity), as the system clock is when none is pinned.
  if (options_.clock && !appraise_options.context.at) appraise_options.context.at = t;
  appraise_options.refs = &store_->references();
  appraise_options.require_binding = true;
  // The owner's attestation policy of every kind in the envelope, not only
  // the session's: an additional device is appraised by the owner's rules.
  std::set<std::string> kinds = {s.tee};
  for (const auto& [name, device] : envelope->additional_devices) kinds.insert(device.tee);
  for (const std::string& kind : kinds) {
    auto doc = store_->get_policy("attestation:" + kind);
    if (!doc) return error_response(doc.error(), "attest");
    if (*doc) {
      std::shared_ptr<const verifier::Policy> policy;
      {
        std::lock_guard lock(caches_->mu);
        auto& cache = caches_->appraisal_policies;
        if (auto it = cache.find(**doc); it != cache.end()) policy = it->second;
      }
      if (!policy) {
        auto parsed = verifier::parse_policy(**doc);
        if (!parsed) return error_response(parsed.error(), "attest: stored attestation policy");
        policy = std::make_shared<const verifier::Policy>(std::move(*parsed));
        std::lock_guard lock(caches_->mu);
        if (caches_->appraisal_policies.size() > 256) caches_->appraisal_policies.clear();
        caches_->appraisal_policies.emplace(**doc, policy);
      }
      appraise_options.policies.emplace(kind, *policy);
    }
  }
  auto appraisal = verifier::appraise_envelope(*envelope, appraise_options);
  if (!appraisal) return error_response(appraisal.error(), "attest: appraisal");
  const verifier::EnvelopeAppraisal& a = *appraisal;
  const std::string status(verifier::tier_name(a.status));
  const verifier::DeviceAppraisal& primary = a.devices.front();
  // Every device, not only the primary, must bind this session's nonce and
  // key: evidence bound to anything else is not fresh.
  const bool bound = a.all_bound();
  std::string unbound_reason;
  for (const auto& d : a.devices) {
    if (d.binding && d.binding->accepted) continue;
    unbound_reason += (unbound_reason.empty() ? ": " : "; ") + d.submod + ": " +
                      (d.binding ? one_line(d.binding->reason) : std::string("not bound"));
  }

  store::AttestationRecord record;
  record.at = t;
  record.session = s.id;
  record.tee = s.tee;
  record.status = status;
  record.policy_id = primary.appraisal.policy_id;
  record.detail = a.to_json().dump(-1, ' ', false, Json::error_handler_t::replace);

  store::AuditEntry audit;
  audit.at = t;
  audit.actor = "session:" + s.id.substr(0, 12);
  audit.action = "attest";
  audit.outcome = bound ? status : "unbound";
  audit.rule = primary.appraisal.policy_id;

  s.tee_pubkey = pubkey_json->dump();
  s.status = status;
  const bool token_allowed =
      bound && std::find(options_.token_statuses.begin(), options_.token_statuses.end(),
                         a.status) != options_.token_statuses.end();
  if (!token_allowed) {
    s.explanation =
        bound ? explanation(a, /*for_guest=*/true)
              : "the evidence does not bind this request's nonce and tee-pubkey" + unbound_reason;
    audit.detail = bound ? explanation(a, /*for_guest=*/false) : s.explanation;
    auto stored = store_->attest_session(s, challenge, t, record, audit);
    if (!stored) return error_response(stored.error(), "attest");
    if (!*stored) return challenge_used();
    metrics_.attestation(s.tee, bound ? status : "unbound");
    metrics_.refusal(bound ? "appraisal" : "binding");
    return problem_response(401, bound ? "attestation-failed" : "evidence-not-bound",
                            "attestation " + (bound ? status : "refused") + ": " + s.explanation);
  }

  // The attestation result, carrying the key the secrets go to.
  verifier::AttestationResult ear =
      a.attestation_result(options_.token_validity, options_.verifier_build);
  ear.issuer = options_.ear_issuer;
  ear.audience = std::string(kEarAudience);
  auto spki = tee_pubkey->to_der();
  if (!spki) return error_response(spki.error(), "attest");
  if (auto it = ear.submods.find(primary.submod); it != ear.submods.end()) {
    it->second.extra[kKeyAttestation] = {{"akpub", base64url_encode(*spki)}};
  }
  auto token = signer_.sign(ear);
  if (!token) return error_response(token.error(), "attest: signing the attestation result");
  s.token = *token;
  s.expires = t + options_.token_validity;
  s.explanation = status == "affirming" ? "" : explanation(a, /*for_guest=*/true);
  audit.detail = status == "affirming" ? "token issued"
                                       : "token issued; " + explanation(a, /*for_guest=*/false);
  auto stored = store_->attest_session(s, challenge, t, record, audit);
  if (!stored) return error_response(stored.error(), "attest");
  if (!*stored) return challenge_used();
  metrics_.attestation(s.tee, bound ? status : "unbound");
  // What a verifier reads back from the token, for `resource`.
  if (auto claims = verifier::parse_ear_claims(verifier::ear_claims(ear))) {
    caches_->remember_issued(*token, std::make_shared<const Caches::Issued>(
                                         Caches::Issued{std::move(*claims), tee_pubkey->clone()}));
  }
  return json_response(200, {{"token", *token}});
}

HttpResponse Broker::resource(const HttpRequest& request, std::string_view path) {
  const TimePoint t = now();
  store::AuditEntry audit;
  audit.at = t;
  audit.resource = std::string(path.substr(0, 400));
  // `detail` goes to the guest; `owner_detail`, when given, to the audit
  // log instead (it may name what would have been accepted).
  const auto refuse = [&](int code, std::string_view slug, std::string_view reason,
                          const std::string& detail, const std::string& owner_detail = "") {
    metrics_.refusal(std::string(reason));
    audit.action = "refuse";
    audit.outcome = "denied";
    audit.detail = one_line(owner_detail.empty() ? detail : owner_detail);
    if (audit.actor.empty()) audit.actor = "anonymous:" + request.peer;
    if (auto ok = store_->append_audit(audit); !ok) {
      internal::log_line("audit: " + ok.error().to_string());
    }
    return problem_response(code, slug, detail);
  };

  // Who is asking: a passport (bearer EAR) or an attested session.
  std::string token = internal::bearer_token(request.authorization);
  std::string attestation_explanation;
  if (!token.empty()) {
    auto d = digest(HashAlg::kSha256, as_bytes(token));
    audit.actor = "passport:" + (d ? hex_encode(*d).substr(0, 12) : std::string("?"));
  } else {
    const std::string session_id = internal::session_cookie(request.cookie);
    if (session_id.empty()) {
      return refuse(401, "unauthenticated", "unauthenticated",
                    "resource: neither a kbs-session-id cookie nor a bearer token: attest first");
    }
    audit.actor = "session:" + session_id.substr(0, 12);
    auto session = store_->get_session(session_id);
    if (!session) return error_response(session.error(), "resource");
    if (!*session || (*session)->state != store::SessionState::kAttested) {
      return refuse(401, "not-attested", "unauthenticated",
                    "resource: this session has not attested: call /kbs/v0/attest");
    }
    if ((*session)->token.empty()) {
      return refuse(401, "attestation-failed", "appraisal",
                    "resource: this session's attestation was refused: " + (*session)->explanation);
    }
    token = (*session)->token;
    attestation_explanation = (*session)->explanation;
  }
  // A token this process signed, inside its lifetime, is known; any other
  // (another replica's, or one at the edges of its lifetime, where
  // verify_ear's leeway decides) is verified.
  std::shared_ptr<const Caches::Issued> known = caches_->find_issued(token);
  if (known && !(known->ear.iat <= unix_seconds(t) && unix_seconds(t) < known->ear.exp)) {
    known.reset();
  }
  std::optional<verifier::EarVerification> verified;
  if (!known) {
    auto checked = verifier::verify_ear(token, signer_.key_set(), t);
    if (!checked) {
      return refuse(401, "invalid-token", "token", "resource: the token is not a valid EAR");
    }
    if (!*checked) {
      return refuse(401, "invalid-token", "token",
                    "resource: the token is not accepted: " + checked->verdict.reason);
    }
    // Signed with a key of ours, but issued by us, for us?
    const verifier::AttestationResult& r = *checked->result;
    if (r.issuer != options_.ear_issuer || r.audience != std::string(kEarAudience)) {
      return refuse(401, "invalid-token", "token",
                    "resource: the token was not issued by this broker for its resources");
    }
    verified = std::move(*checked);
  }
  const verifier::AttestationResult& ear = known ? known->ear : *verified->result;

  auto id = store::parse_resource_id(path);
  if (!id) return refuse(400, "malformed-request", "malformed", id.error().to_string());
  audit.resource = id->path();
  auto secret = store_->get_resource(*id);
  if (!secret) return error_response(secret.error(), "resource");
  if (!*secret) return refuse(404, "not-found", "unknown-resource", "no resource " + id->path());
  Bytes value = std::move(**secret);
  struct Wiper {
    Bytes& b;
    ~Wiper() { wipe(b); }
  } wiper{value};

  // The resource's release policy, else the default one, else the built-in.
  std::shared_ptr<const ReleasePolicy> policy;
  for (const std::string& key : {"resource:" + id->path(), std::string("release:default")}) {
    auto doc = store_->get_policy(key);
    if (!doc) return error_response(doc.error(), "resource");
    if (!*doc) continue;
    {
      std::lock_guard lock(caches_->mu);
      if (auto it = caches_->release_policies.find(**doc); it != caches_->release_policies.end())
        policy = it->second;
    }
    if (!policy) {
      auto parsed = parse_release_policy(**doc);
      if (!parsed) return error_response(parsed.error(), "resource: stored release policy");
      policy = std::make_shared<const ReleasePolicy>(std::move(*parsed));
      std::lock_guard lock(caches_->mu);
      if (caches_->release_policies.size() > 256) caches_->release_policies.clear();
      caches_->release_policies.emplace(**doc, policy);
    }
    break;
  }
  const ReleasePolicy& release_policy = policy ? *policy : default_release_policy();
  const ReleaseDecision decision =
      decide_release(release_policy, release_input(ear), store_->references(), t);
  audit.rule = decision.allowed ? release_policy.id : release_policy.id + "#" + decision.rule;
  if (!decision.allowed) {
    const std::string attestation_note =
        attestation_explanation.empty() ? "" : " (attestation: " + attestation_explanation + ")";
    return refuse(403, "policy-denied", "policy",
                  "resource " + id->path() + ": " + decision.public_reason + attestation_note,
                  "resource " + id->path() + ": " + decision.reason + attestation_note);
  }

  // The key the evidence was bound to, from the token.
  std::optional<PublicKey> recipient;
  if (known) recipient = known->recipient.clone();
  for (const auto& [name, submod] : ear.submods) {
    if (recipient) break;
    const auto it = submod.extra.find(kKeyAttestation);
    if (it == submod.extra.end() || !it->is_object() || !it->contains("akpub") ||
        !(*it)["akpub"].is_string())
      continue;
    auto der = base64url_decode((*it)["akpub"].get<std::string>());
    if (!der) continue;
    auto key = PublicKey::from_der(*der);
    if (key) recipient = std::move(*key);
    break;
  }
  if (!recipient) {
    return refuse(401, "invalid-token", "token",
                  "resource: the token carries no key to encrypt the resource to");
  }
  auto jwe = jose::jwe_encrypt(value, *recipient);
  if (!jwe) return error_response(jwe.error(), "resource: encryption");
  metrics_.release();
  audit.action = "release";
  audit.outcome = "allowed";
  audit.detail = decision.reason;
  if (auto ok = store_->append_audit(audit); !ok) return error_response(ok.error(), "resource");
  return json_response(200, *jwe);
}

}  // namespace concierge::broker
