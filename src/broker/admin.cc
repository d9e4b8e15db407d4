// The owner's admin API (broker.h): resources, policies, reference values,
// the attestation record and the audit log, behind a bearer JWT.
#include <algorithm>

#include "broker/broker_caches.h"
#include "broker/broker_internal.h"
#include "concierge/broker/broker.h"
#include "concierge/broker/release_policy.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/core/time.h"
#include "concierge/verifier/policy.h"

namespace concierge::broker {
namespace {

using Json = nlohmann::json;
using internal::error_response;
using internal::json_response;

bool audience_matches(const Json& claims) {
  const auto aud = claims.find("aud");
  if (aud == claims.end()) return false;
  if (aud->is_string()) return *aud == kAdminAudience;
  if (aud->is_array()) {
    return std::any_of(aud->begin(), aud->end(),
                       [](const Json& a) { return a.is_string() && a == kAdminAudience; });
  }
  return false;
}

std::size_t limit_of(const HttpRequest& request) {
  const auto v = internal::query_param(request.query, "limit");
  if (!v || v->empty() || v->size() > 6 ||
      !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 100;
  return std::clamp<std::size_t>(std::stoul(*v), 1, 10000);
}

// The request a token is bound to: its method, its path (with the query),
// and the SHA-256 of its body, base64url. A token seen on the wire cannot
// authorise another request than the one it was made for.
std::optional<std::string> binding_mismatch(const Json& claims, const HttpRequest& request) {
  const auto text = [&](const char* name) -> std::optional<std::string> {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto htm = text("htm");
  const auto htu = text("htu");
  const auto bsh = text("body_sha256");
  if (!htm || !htu || !bsh) {
    return "the token must be bound to its request (htm, htu and body_sha256 claims)";
  }
  const std::string target =
      request.query.empty() ? request.path : request.path + "?" + request.query;
  if (*htm != request.method || *htu != target) return "the token was made for another request";
  auto body = digest(HashAlg::kSha256, as_bytes(request.body));
  if (!body || base64url_encode(*body) != *bsh) return "the token was made for another body";
  return std::nullopt;
}

// The scope a request needs: "read" for GET, else the kind of thing it
// changes ("resources", "policies", "references").
std::string needed_scope(const std::string& method, std::string_view path) {
  if (method == "GET") return "read";
  if (path.substr(0, 10) == "resources/") return "resources";
  if (path.substr(0, 16) == "reference-values") return "references";
  return "policies";
}

bool scope_allows(const Json& claims, const std::string& needed) {
  const auto scope = claims.find("scope");
  if (scope == claims.end()) return true;  // the owner's key, unrestricted
  if (!scope->is_string()) return false;
  const std::string& s = scope->get_ref<const std::string&>();
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t end = std::min(s.find(' ', at), s.size());
    if (s.compare(at, end - at, needed) == 0 && end - at == needed.size()) return true;
    at = end + 1;
  }
  return false;
}

Json audit_json(const store::AuditEntry& e) {
  return {{"id", e.id},         {"at", format_rfc3339(e.at)}, {"actor", e.actor},
          {"action", e.action}, {"resource", e.resource},     {"outcome", e.outcome},
          {"rule", e.rule},     {"detail", e.detail}};
}

}  // namespace

HttpResponse Broker::admin(const HttpRequest& request, std::string_view path) {
  const TimePoint t = now();
  // Authentication first: nothing about the store is said to a stranger.
  const std::string token = internal::bearer_token(request.authorization);
  if (token.empty()) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated", "admin: a bearer token is required");
  }
  auto verified =
      jose::verify_jwt(token, options_.admin_keys, {jose::JwsAlg::kEs256, jose::JwsAlg::kEs384},
                       jose::JwtTimeCheck{t, std::chrono::seconds(60), true});
  if (!verified || !*verified) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated",
                            std::string("admin: the token is not accepted") +
                                (verified ? ": " + verified->verdict.reason : ""));
  }
  const Json& claims = verified->claims;
  if (!audience_matches(claims)) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated",
                            "admin: the token's audience is not " + std::string(kAdminAudience));
  }
  const auto iat = claims.find("iat");
  const auto exp = claims.find("exp");
  if (iat == claims.end() || !iat->is_number() || !exp->is_number() ||
      exp->get<double>() - iat->get<double>() >
          static_cast<double>(options_.admin_token_max_lifetime.count())) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated",
                            "admin: the token needs iat, and exp at most " +
                                std::to_string(options_.admin_token_max_lifetime.count()) +
                                " s after it");
  }

  if (auto mismatch = binding_mismatch(claims, request)) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated", "admin: " + *mismatch);
  }
  const std::string scope = needed_scope(request.method, path);
  if (!scope_allows(claims, scope)) {
    metrics_.refusal("admin-scope");
    return problem_response(403, "insufficient-scope",
                            "admin: the token's scope does not include " + scope);
  }

  // Single use: a token seen on the wire (a log, a proxy) cannot be sent
  // again. Its id is remembered until it could no longer be accepted (exp
  // plus the 60 s leeway, plus 1 s for a fractional exp), by key and jti.
  const auto jti = claims.find("jti");
  if (jti == claims.end() || !jti->is_string() || jti->get_ref<const std::string&>().size() < 16 ||
      jti->get_ref<const std::string&>().size() > 256) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated",
                            "admin: the token needs a jti (a unique id of 16 to 256 characters): "
                            "admin tokens are single-use");
  }
  const auto token_id =
      digest(HashAlg::kSha256, as_bytes(verified->kid + "\n" + jti->get_ref<const std::string&>()));
  if (!token_id) return error_response(token_id.error(), "admin");
  const double exp_seconds = exp->get<double>();  // verified to be in the future
  if (!(exp_seconds > 0 && exp_seconds < 1e11)) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated", "admin: the token's exp is out of range");
  }
  const TimePoint usable_until =
      TimePoint(std::chrono::seconds(static_cast<std::int64_t>(exp_seconds))) +
      std::chrono::seconds(61);
  auto fresh = store_->use_token_id("admin:" + hex_encode(*token_id), usable_until, t);
  if (!fresh) return error_response(fresh.error(), "admin");
  if (!*fresh) {
    metrics_.refusal("admin-unauthenticated");
    return problem_response(401, "unauthenticated",
                            "admin: this token was already used (admin tokens are single-use)");
  }

  store::AuditEntry audit;
  audit.at = t;
  audit.actor = "admin:" + verified->kid.substr(0, 16);
  audit.outcome = "done";
  const auto audited = [&](std::string action, std::string resource, std::string detail,
                           HttpResponse response) {
    audit.action = std::move(action);
    audit.resource = std::move(resource);
    audit.detail = std::move(detail);
    if (auto ok = store_->append_audit(audit); !ok) return error_response(ok.error(), "admin");
    return response;
  };
  const auto split = [](std::string_view p, std::string_view prefix) -> std::optional<std::string> {
    if (p == prefix.substr(0, prefix.size() - 1)) return std::string();
    if (p.substr(0, prefix.size()) != prefix) return std::nullopt;
    return std::string(p.substr(prefix.size()));
  };
  const std::string& m = request.method;

  if (auto rest = split(path, "resources/")) {
    if (rest->empty()) {
      if (m != "GET") return problem_response(405, "method-not-allowed", "use GET");
      auto list = store_->list_resources();
      if (!list) return error_response(list.error(), "admin");
      Json out = Json::array();
      for (const auto& r : *list) {
        out.push_back({{"resource", r.id.path()},
                       {"size", r.size},
                       {"updated", format_rfc3339(r.updated)},
                       {"kek_id", r.kek_id}});
      }
      return json_response(200, {{"resources", out}});
    }
    auto id = store::parse_resource_id(*rest);
    if (!id) return error_response(id.error(), "admin: resource path");
    if (m == "PUT" || m == "POST") {
      if (auto ok = store_->put_resource(*id, as_bytes(request.body)); !ok)
        return error_response(ok.error(), "admin: put resource");
      return audited("admin.put-resource", id->path(),
                     std::to_string(request.body.size()) + " bytes",
                     json_response(200, {{"resource", id->path()}, {"size", request.body.size()}}));
    }
    if (m == "DELETE") {
      auto removed = store_->delete_resource(*id);
      if (!removed) return error_response(removed.error(), "admin");
      if (!*removed) return problem_response(404, "not-found", "no resource " + id->path());
      return audited("admin.delete-resource", id->path(), "",
                     json_response(200, {{"deleted", id->path()}}));
    }
    return problem_response(405, "method-not-allowed", "use PUT or DELETE");
  }

  // Policies: release (per resource or default) and attestation (per TEE).
  std::optional<std::string> key;
  std::string what;
  bool release = false;
  if (auto rest = split(path, "release-policies/"); rest && !rest->empty()) {
    release = true;
    if (*rest == "default") {
      key = "release:default";
    } else {
      auto id = store::parse_resource_id(*rest);
      if (!id) return error_response(id.error(), "admin: release policy path");
      key = "resource:" + id->path();
    }
    what = "release policy " + *rest;
  } else if (auto tee = split(path, "attestation-policies/"); tee && !tee->empty()) {
    if (verifier::find_evidence_kind(*tee) == nullptr) {
      return problem_response(400, "unsupported-tee", "admin: no TEE named " + tee->substr(0, 32));
    }
    key = "attestation:" + *tee;
    what = "attestation policy " + *tee;
  }
  if (key) {
    if (m == "PUT" || m == "POST") {
      std::string normalized;
      if (release) {
        auto p = parse_release_policy(request.body);
        if (!p) return error_response(p.error(), "admin: " + what);
        normalized = p->to_json().dump(2);
      } else {
        auto p = verifier::parse_policy(request.body);
        if (!p) return error_response(p.error(), "admin: " + what);
        normalized = p->to_json().dump(2);
      }
      if (auto ok = store_->set_policy(*key, normalized); !ok)
        return error_response(ok.error(), "admin");
      return audited("admin.set-policy", *key, what, json_response(200, {{"policy", *key}}));
    }
    if (m == "GET") {
      auto doc = store_->get_policy(*key);
      if (!doc) return error_response(doc.error(), "admin");
      if (!*doc) return problem_response(404, "not-found", "no " + what);
      HttpResponse r;
      r.body = **doc;
      return r;
    }
    if (m == "DELETE") {
      auto removed = store_->delete_policy(*key);
      if (!removed) return error_response(removed.error(), "admin");
      if (!*removed) return problem_response(404, "not-found", "no " + what);
      return audited("admin.delete-policy", *key, what, json_response(200, {{"deleted", *key}}));
    }
    return problem_response(405, "method-not-allowed", "use PUT, GET or DELETE");
  }

  if (auto rest = split(path, "reference-values/")) {
    verifier::ReferenceStore& refs = store_->references();
    if (rest->empty()) {
      if (m == "POST" || m == "PUT") {
        auto n = refs.import_json(request.body, "admin " + audit.actor.substr(6));
        if (!n) return error_response(n.error(), "admin: reference values");
        return audited("admin.add-reference-values", "", std::to_string(*n) + " values",
                       json_response(200, {{"added", *n}}));
      }
      if (m == "GET") {
        auto doc = refs.export_json();
        if (!doc) return error_response(doc.error(), "admin");
        return json_response(200, *doc);
      }
      return problem_response(405, "method-not-allowed", "use POST or GET");
    }
    if (m != "DELETE") return problem_response(405, "method-not-allowed", "use DELETE");
    const auto value = internal::query_param(request.query, "value");
    auto removed = refs.remove(
        *rest, value ? std::optional<std::string_view>(*value) : std::optional<std::string_view>());
    if (!removed) return error_response(removed.error(), "admin");
    if (*removed == 0) return problem_response(404, "not-found", "no such reference value");
    return audited("admin.remove-reference-values", "",
                   *rest + ": " + std::to_string(*removed) + " values",
                   json_response(200, {{"removed", *removed}}));
  }

  if (path == "attestations") {
    if (m != "GET") return problem_response(405, "method-not-allowed", "use GET");
    auto list = store_->list_attestations(limit_of(request));
    if (!list) return error_response(list.error(), "admin");
    Json out = Json::array();
    for (const auto& a : *list) {
      auto detail = parse_json_with_offset(a.detail, "appraisal");
      out.push_back({{"id", a.id},
                     {"at", format_rfc3339(a.at)},
                     {"session", a.session.substr(0, 12)},
                     {"tee", a.tee},
                     {"status", a.status},
                     {"policy", a.policy_id},
                     {"appraisal", detail ? std::move(*detail) : Json(a.detail)}});
    }
    return json_response(200, {{"attestations", out}});
  }
  if (path == "audit") {
    if (m != "GET") return problem_response(405, "method-not-allowed", "use GET");
    std::int64_t after = 0;
    if (auto a = internal::query_param(request.query, "after");
        a && !a->empty() && a->size() < 19 &&
        std::all_of(a->begin(), a->end(), [](char c) { return c >= '0' && c <= '9'; })) {
      after = std::stoll(*a);
    }
    auto list = store_->list_audit(limit_of(request), after);
    if (!list) return error_response(list.error(), "admin");
    Json out = Json::array();
    for (const auto& e : *list) out.push_back(audit_json(e));
    return json_response(200, {{"audit", out}});
  }
  return problem_response(404, "not-found", "admin: no such endpoint");
}

}  // namespace concierge::broker
