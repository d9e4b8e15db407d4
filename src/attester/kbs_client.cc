#include "concierge/attester/kbs_client.h"

#include <httplib.h>

#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/server/http_client.h"
#include "concierge/verifier/binding.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::attester {
namespace {

using Json = nlohmann::json;

using Answer = server::HttpAnswer;

std::string problem_detail(const Answer& res) {
  auto j = parse_json_with_offset(res.body, "problem");
  if (j && j->is_object() && j->contains("detail") && (*j)["detail"].is_string()) {
    return (*j)["detail"].get<std::string>();
  }
  return "HTTP " + std::to_string(res.status);
}

// One request, its answer bounded (server/http_client.h); errors name `step`.
Result<Answer> call(httplib::Client& client, std::string_view step, const std::string& method,
                    const std::string& path, const httplib::Headers& headers = {},
                    const std::string& body = {}) {
  auto res = server::bounded_request(client, method, path, headers, body,
                                     body.empty() ? "" : "application/json");
  if (!res) return fail(res.error().code, std::string(step) + ": " + res.error().message);
  return res;
}

Result<KbsResult> refused_or_error(const Answer& res, std::string_view step) {
  KbsResult r;
  r.status = res.status;
  r.reason = problem_detail(res);
  if (res.status == 401 || res.status == 403 || res.status == 404) {
    r.refused = true;
    return r;
  }
  return fail(
      res.status == 400 || res.status == 413 ? Errc::kInvalidArgument : Errc::kIo,
      std::string(step) + ": the broker answered " + std::to_string(res.status) + ": " + r.reason);
}

Result<Json> response_json(const Answer& res, std::string_view step) {
  auto j = parse_json_with_offset(res.body, step);
  if (!j) return Unexpected(j.error());
  if (!j->is_object()) return fail(Errc::kMalformed, std::string(step) + ": not a JSON object");
  return std::move(*j);
}

}  // namespace

struct KbsClient::Http {
  httplib::Client client;
  explicit Http(const std::string& url) : client(url) {}
};

Result<std::pair<std::string, std::string>> split_resource_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "resource URL: no scheme (http:// or https://)");
  }
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "resource URL: no resource path (repo/type/tag)");
  }
  std::string base(url.substr(0, slash));
  std::string_view path = url.substr(slash + 1);
  constexpr std::string_view kPrefix = "kbs/v0/resource/";
  if (path.substr(0, kPrefix.size()) == kPrefix) path.remove_prefix(kPrefix.size());
  if (std::count(path.begin(), path.end(), '/') != 2) {
    return fail(Errc::kInvalidArgument, "resource URL: the path is not repo/type/tag");
  }
  return std::pair{std::move(base), std::string(path)};
}

Result<std::unique_ptr<KbsClient>> KbsClient::create(std::string_view base_url,
                                                     const KbsClientOptions& options) {
  if (base_url.substr(0, 7) != "http://" && base_url.substr(0, 8) != "https://") {
    return fail(Errc::kInvalidArgument,
                "broker URL " + std::string(base_url) + ": not http:// or https://");
  }
  const bool https = base_url.substr(0, 8) == "https://";
  if (!https && !options.allow_insecure_http) {
    return fail(Errc::kInvalidArgument,
                "broker URL " + std::string(base_url) +
                    ": plain http lets the host answer in the broker's place; use https "
                    "(or --insecure, knowingly)");
  }
  auto http = std::make_unique<Http>(std::string(base_url));
  if (!http->client.is_valid()) {
    return fail(Errc::kInvalidArgument, "broker URL " + std::string(base_url) + ": not usable");
  }
  http->client.set_connection_timeout(options.timeout_seconds, 0);
  http->client.set_read_timeout(options.timeout_seconds, 0);
  http->client.set_write_timeout(options.timeout_seconds, 0);
  http->client.set_keep_alive(true);
  // Without it, each POST's body waits for the delayed ACK of its headers.
  http->client.set_tcp_nodelay(true);
  if (base_url.substr(0, 8) == "https://") {
    http->client.enable_server_certificate_verification(true);
    if (options.ca_certificate) {
      http->client.set_ca_cert_path(options.ca_certificate->c_str());
    }
  }
  auto key = options.key_alg == jose::JweAlg::kRsaOaep256 ? PrivateKey::generate_rsa(3072)
                                                          : PrivateKey::generate_ec(EcCurve::kP256);
  if (!key) return Unexpected(key.error());
  auto pub = key->public_key();
  if (!pub) return Unexpected(pub.error());
  auto jwk = jose::encryption_jwk(*pub);
  if (!jwk) return Unexpected(jwk.error());
  if (!options.broker_jwks.is_null()) {
    auto pinned = jose::Jwks::from_json(options.broker_jwks);
    if (!pinned) return Unexpected(pinned.error());
    if (pinned->empty()) {
      return fail(Errc::kInvalidArgument, "the broker's pinned key set has no usable key");
    }
  }
  return std::unique_ptr<KbsClient>(
      new KbsClient(std::move(http), std::move(*key), std::move(*jwk), options, https));
}

KbsClient::KbsClient(std::unique_ptr<Http> http, PrivateKey key, Json tee_pubkey,
                     KbsClientOptions options, bool https)
    : http_(std::move(http)),
      key_(std::move(key)),
      tee_pubkey_(std::move(tee_pubkey)),
      options_(std::move(options)),
      https_(https) {}

Result<bool> KbsClient::verify_token(const std::string& token, const std::string& nonce) {
  Json keys = options_.broker_jwks;
  if (keys.is_null()) {
    if (!https_) return false;  // nothing to verify with: the caller says so
    CONCIERGE_ASSIGN_OR_RETURN(Answer res,
                               call(http_->client, "key set", "GET", "/.well-known/jwks.json"));
    if (res.status != 200) {
      return fail(Errc::kIo, "the broker's key set (/.well-known/jwks.json) cannot be read");
    }
    CONCIERGE_ASSIGN_OR_RETURN(keys, response_json(res, "key set"));
  }
  CONCIERGE_ASSIGN_OR_RETURN(verifier::EarVerification v,
                             verifier::verify_ear(token, keys, std::chrono::system_clock::now()));
  if (!v) {
    return fail(Errc::kCrypto,
                "the attestation result is not the broker's (" + v.verdict.reason + ")");
  }
  const verifier::AttestationResult& ear = *v.result;
  if (!ear.nonce || *ear.nonce != nonce) {
    return fail(Errc::kCrypto, "the attestation result is for another challenge");
  }
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey ours, key_.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes spki, ours.to_der());
  const std::string want = base64url_encode(spki);
  const std::string primary =
      ear.primary ? *ear.primary : (ear.submods.size() == 1 ? ear.submods.begin()->first : "");
  const auto it = ear.submods.find(primary);
  const Json* attested = nullptr;
  if (it != ear.submods.end()) {
    const auto ka = it->second.extra.find("ear.veraison.key-attestation");
    if (ka != it->second.extra.end() && ka->is_object() && ka->contains("akpub")) {
      attested = &(*ka)["akpub"];
    }
  }
  if (attested == nullptr || !attested->is_string() || attested->get<std::string>() != want) {
    return fail(Errc::kCrypto, "the attestation result attests another key than this agent's");
  }
  return true;
}

KbsClient::~KbsClient() = default;

Result<KbsResult> KbsClient::attest(std::string_view tee, const EvidenceCollector& collect) {
  const auto* kind = verifier::find_evidence_kind(tee);
  if (kind == nullptr) {
    return fail(Errc::kInvalidArgument, "tee " + std::string(tee) + ": not snp, tdx, sgx or tpm");
  }
  const Json auth = {{"version", "0.4.0"}, {"tee", tee}, {"extra-params", Json::object()}};
  CONCIERGE_ASSIGN_OR_RETURN(Answer res,
                             call(http_->client, "auth", "POST", "/kbs/v0/auth", {}, auth.dump()));
  if (res.status != 200) return refused_or_error(res, "auth");
  CONCIERGE_ASSIGN_OR_RETURN(Json challenge, response_json(res, "auth response"));
  if (!challenge.contains("nonce") || !challenge["nonce"].is_string()) {
    return fail(Errc::kMalformed, "auth response: no nonce");
  }
  cookie_.clear();
  const std::string set_cookie = res.header("Set-Cookie");
  const auto semi = set_cookie.find(';');
  cookie_ = set_cookie.substr(0, semi);
  if (cookie_.rfind("kbs-session-id=", 0) != 0) {
    return fail(Errc::kMalformed, "auth response: no kbs-session-id cookie");
  }

  const Json runtime = {{"nonce", challenge["nonce"]}, {"tee-pubkey", tee_pubkey_}};
  CONCIERGE_ASSIGN_OR_RETURN(
      Bytes report_data,
      verifier::runtime_data_digest(runtime, kind->binding_hash, kind->report_data_size));
  CONCIERGE_ASSIGN_OR_RETURN(Json evidence, collect(report_data, runtime));
  const Json attest = {{"runtime-data", runtime}, {"tee-evidence", std::move(evidence)}};
  httplib::Headers headers = {{"Cookie", cookie_}};
  CONCIERGE_ASSIGN_OR_RETURN(
      res, call(http_->client, "attest", "POST", "/kbs/v0/attest", headers, attest.dump()));
  if (res.status != 200) return refused_or_error(res, "attest");
  CONCIERGE_ASSIGN_OR_RETURN(Json answer, response_json(res, "attest response"));
  if (!answer.contains("token") || !answer["token"].is_string()) {
    return fail(Errc::kMalformed, "attest response: no token");
  }
  KbsResult r;
  r.status = 200;
  r.token = answer["token"].get<std::string>();
  CONCIERGE_ASSIGN_OR_RETURN(ear_verified_,
                             verify_token(r.token, challenge["nonce"].get<std::string>()));
  return r;
}

Result<KbsResult> KbsClient::get_resource(std::string_view path, std::string_view passport) {
  httplib::Headers headers;
  if (!passport.empty()) {
    headers.emplace("Authorization", "Bearer " + std::string(passport));
  } else if (!cookie_.empty()) {
    headers.emplace("Cookie", cookie_);
  }
  CONCIERGE_ASSIGN_OR_RETURN(Answer res, call(http_->client, "resource", "GET",
                                              "/kbs/v0/resource/" + std::string(path), headers));
  if (res.status != 200) return refused_or_error(res, "resource");
  if (passport.empty() && !ear_verified_ && (https_ || !options_.broker_jwks.is_null())) {
    // A key set was available, so an unverified session is not ours to use.
    return fail(Errc::kCrypto, "resource: this session's attestation result was not verified");
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto decrypted, jose::jwe_decrypt(std::string_view(res.body), key_));
  if (!decrypted) {
    return fail(Errc::kCrypto, "resource: the JWE does not decrypt with this agent's key: " +
                                   decrypted.verdict.reason);
  }
  KbsResult r;
  r.status = 200;
  r.secret = std::move(decrypted.plaintext);
  return r;
}

}  // namespace concierge::attester
