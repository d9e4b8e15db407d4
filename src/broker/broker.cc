#include "concierge/broker/broker.h"

#include <map>
#include <mutex>

#include "broker/broker_caches.h"
#include "broker/broker_internal.h"

namespace concierge::broker {

using internal::json_response;

Result<std::unique_ptr<Broker>> Broker::create(std::unique_ptr<store::Store> store,
                                               verifier::EarSigner signer, BrokerOptions options) {
  if (!store) return fail(Errc::kInvalidArgument, "the broker needs a store");
  if (options.admin_keys.empty()) {
    return fail(Errc::kInvalidArgument,
                "the broker needs at least one admin key (there is no anonymous admin)");
  }
  if (options.session_ttl.count() <= 0 || options.token_validity.count() <= 0) {
    return fail(Errc::kInvalidArgument, "session and token lifetimes must be positive");
  }
  return std::unique_ptr<Broker>(
      new Broker(std::move(store), std::move(signer), std::move(options)));
}

Broker::Broker(std::unique_ptr<store::Store> store, verifier::EarSigner signer,
               BrokerOptions options)
    : store_(std::move(store)),
      signer_(std::move(signer)),
      options_(std::move(options)),
      caches_(std::make_unique<Caches>()) {
  options_.context.snp_cache = &caches_->snp;
  options_.context.dcap_cache = &caches_->dcap;
}

Broker::~Broker() = default;

TimePoint Broker::now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

HttpResponse Broker::handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string endpoint = "other";
  HttpResponse response;
  try {
    response = route(request, endpoint);
  } catch (const std::exception& e) {
    // Nothing below should throw; if something does, the client gets a 500
    // and the server keeps serving.
    internal::log_line(std::string("unexpected exception: ") + e.what());
    response = problem_response(500, "internal-error", "internal error (see the server log)");
  }
  metrics_.request(endpoint, response.status, std::chrono::steady_clock::now() - start);
  return response;
}

HttpResponse Broker::route(const HttpRequest& request, std::string& endpoint) {
  const std::string_view path = request.path;
  const auto method_is = [&](std::string_view m) { return request.method == m; };
  if (path == "/kbs/v0/auth") {
    endpoint = "auth";
    if (!method_is("POST")) return problem_response(405, "method-not-allowed", "use POST");
    return auth(request);
  }
  if (path == "/kbs/v0/attest") {
    endpoint = "attest";
    if (!method_is("POST")) return problem_response(405, "method-not-allowed", "use POST");
    return attest(request);
  }
  constexpr std::string_view kResource = "/kbs/v0/resource/";
  if (path.substr(0, kResource.size()) == kResource) {
    endpoint = "resource";
    if (!method_is("GET")) return problem_response(405, "method-not-allowed", "use GET");
    return resource(request, path.substr(kResource.size()));
  }
  constexpr std::string_view kAdmin = "/admin/v0/";
  if (path.substr(0, kAdmin.size()) == kAdmin) {
    endpoint = "admin";
    return admin(request, path.substr(kAdmin.size()));
  }
  if (path == "/healthz") {
    endpoint = "healthz";
    auto version = store_->schema_version();
    if (!version) {
      internal::log_line("healthz: store: " + version.error().to_string());
      return json_response(503, {{"status", "unavailable"}, {"store", store_->backend()}});
    }
    return json_response(200, {{"status", "ok"},
                               {"store", store_->backend()},
                               {"schema_version", *version},
                               {"protocol", kKbsProtocolVersion}});
  }
  if (path == "/metrics") {
    endpoint = "metrics";
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.prometheus_text();
    return r;
  }
  if (path == "/.well-known/jwks.json") {
    endpoint = "jwks";
    return json_response(200, signer_.jwks());
  }
  return problem_response(404, "not-found", "no such endpoint: " + std::string(path));
}

}  // namespace concierge::broker
