// concierge admin: the owner's client for the key broker's admin API
// (broker/broker.h). Every request carries a short-lived JWT (5 minutes,
// audience "concierge-admin") signed with the owner's private key, whose
// public key the broker was configured with.
//
// Exit codes: 0 done, 1 the broker refused (401/403/404), 2 usage,
// malformed input or an unreachable broker.
#include <httplib.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/json.h"
#include "concierge/core/printable.h"
#include "concierge/core/private_key.h"
#include "concierge/core/state_files.h"
#include "concierge/server/http_client.h"

namespace concierge::cli {
namespace {

using Json = nlohmann::json;

struct AdminOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string key;
  std::string ca;
  std::string scope;  // empty: unrestricted
  bool json = false;
  // Arguments of the subcommands.
  std::string path, file, tee, name, value, out, pub;
  std::size_t limit = 50;
  std::int64_t after = 0;
};

// A single-use token for exactly this request: its method, path (with the
// query) and the SHA-256 of its body (broker.h, the admin API).
Result<std::string> admin_token(const std::string& key_path, const std::string& method,
                                const std::string& target, const std::string& body,
                                const std::string& scope) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes pem, read_file(key_path));
  auto key = PrivateKey::from_pem(as_chars(pem));
  wipe(pem);
  if (!key) return Unexpected(key.error());
  const auto curve = key->curve();
  if (!curve) return fail(Errc::kInvalidArgument, key_path + ": not an EC P-256/P-384 key");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  // A fresh jti: the broker accepts each admin token once.
  Bytes jti(16);
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1) {
    return fail(Errc::kCrypto, "the random generator failed");
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes body_digest, digest(HashAlg::kSha256, as_bytes(body)));
  Json claims = {{"aud", "concierge-admin"},
                 {"iat", now},
                 {"exp", now + 300},
                 {"jti", base64url_encode(jti)},
                 {"sub", "concierge admin"},
                 {"htm", method},
                 {"htu", target},
                 {"body_sha256", base64url_encode(body_digest)}};
  if (!scope.empty()) claims["scope"] = scope;
  return jose::sign_jwt(*key, jose::jws_alg_for_curve(*curve), claims);
}

// One admin request; prints the answer. Returns the exit code.
int request(const AdminOptions& o, const std::string& method, const std::string& path,
            const std::string& body, const std::string& content_type,
            const std::function<void(const Json&)>& print = nullptr) {
  if (o.key.empty())
    return report("admin", make_error(Errc::kInvalidArgument, "--key is required"));
  auto token = admin_token(o.key, method, path, body, o.scope);
  if (!token) return report(o.key, token.error());
  httplib::Client client(o.url);
  if (!client.is_valid()) {
    return report("--url", make_error(Errc::kInvalidArgument, o.url + ": not a usable URL"));
  }
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(30, 0);
  if (o.url.rfind("https://", 0) == 0) {
    client.enable_server_certificate_verification(true);
    if (!o.ca.empty()) client.set_ca_cert_path(o.ca.c_str());
  }
  httplib::Headers headers = {{"Authorization", "Bearer " + *token}};
  // The answer is read under a limit (server/http_client.h).
  auto res = server::bounded_request(client, method, path, headers, body, content_type);
  if (!res) return report(o.url, res.error());
  auto parsed = parse_json_with_offset(res->body, "answer");
  const Json answer = parsed ? std::move(*parsed) : Json();
  if (res->status != 200) {
    const std::string detail =
        answer.is_object() && answer.contains("detail") && answer["detail"].is_string()
            ? answer["detail"].get<std::string>()
            : "HTTP " + std::to_string(res->status);
    if (res->status == 401 || res->status == 403 || res->status == 404) {
      return report_rejected(detail);
    }
    return report(path, make_error(Errc::kInvalidArgument, detail));
  }
  // Nothing the broker sends reaches the terminal unescaped: JSON as ASCII
  // (control characters and DEL as \u00XX), anything else made printable.
  if (!parsed) {
    std::printf("%s\n", printable_text(res->body, server::kMaxResponseBytes).c_str());
  } else if (o.json || !print) {
    std::printf("%s\n", answer.dump(2, ' ', true, Json::error_handler_t::replace).c_str());
  } else {
    print(answer);
  }
  return kExitOk;
}

// Sends the JSON document in `file` (a policy, reference values).
int send_document(const AdminOptions& o, const std::string& method, const std::string& path,
                  const std::string& file, const std::function<void(const Json&)>& print) {
  auto data = read_file(file);
  if (!data) return report(file, data.error());
  return request(o, method, path, std::string(as_chars(*data)), "application/json", print);
}

int keygen(const AdminOptions& o) {
  auto key = PrivateKey::generate_ec(EcCurve::kP256);
  if (!key) return report("keygen", key.error());
  auto pub = key->public_key().value().to_pem();
  if (!pub) return report("keygen", pub.error());
  // Neither file is replaced: an admin key is not lost to a repeated command.
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(o.pub, ec))) {
    return report(o.pub,
                  make_error(Errc::kInvalidArgument, o.pub + " exists; refusing to replace it"));
  }
  if (auto ok = state_files::save_private_key(o.out, *key, state_files::IfExists::kRefuse); !ok) {
    return report(o.out, ok.error());
  }
  if (auto w = state_files::create_file(o.pub, *pub, 0644, state_files::IfExists::kRefuse); !w) {
    return report(o.pub, w.error());
  }
  std::printf("admin key written to %s (public key: %s; give the broker the public key)\n",
              o.out.c_str(), o.pub.c_str());
  return kExitOk;
}

// A member of a broker's answer as a line on the owner's terminal: made
// printable whatever the store holds (an entry written before the store
// escaped its text, or another broker's answer).
std::string text_of(const Json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) return {};
  return printable_text(it->is_string() ? it->get<std::string>()
                                        : it->dump(-1, ' ', true, Json::error_handler_t::replace));
}

long long id_of(const Json& j) {
  const auto it = j.find("id");
  return it != j.end() && it->is_number_integer() ? it->get<long long>() : -1;
}

void print_audit(const Json& j) {
  const auto list = j.find("audit");
  if (list == j.end() || !list->is_array()) return;
  for (const auto& e : *list) {
    if (!e.is_object()) continue;
    const std::string rule = text_of(e, "rule");
    const std::string detail = text_of(e, "detail");
    std::string why = rule;
    if (!detail.empty()) why += (why.empty() ? "" : ": ") + detail;
    std::printf("%4lld %s %-8s %-21s %-22s %-10s %s\n", id_of(e), text_of(e, "at").c_str(),
                text_of(e, "action").c_str(), text_of(e, "actor").c_str(),
                text_of(e, "resource").c_str(), text_of(e, "outcome").c_str(), why.c_str());
  }
}

void print_attestations(const Json& j) {
  const auto list = j.find("attestations");
  if (list == j.end() || !list->is_array()) return;
  for (const auto& a : *list) {
    if (!a.is_object()) continue;
    std::printf("%5lld %s %-4s %-16s %s\n", id_of(a), text_of(a, "at").c_str(),
                text_of(a, "tee").c_str(), text_of(a, "status").c_str(),
                text_of(a, "policy").c_str());
  }
}

}  // namespace

void register_admin(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<AdminOptions>();
  auto* admin = app.add_subcommand("admin", "The owner's client for the key broker's admin API");
  admin->require_subcommand(1);
  admin->add_option("--url", o->url, "The broker (http://host:port or https://...)")
      ->capture_default_str();
  admin->add_option("--key", o->key, "The owner's private key (PEM, EC P-256/P-384)");
  admin->add_option("--ca", o->ca, "For https: the CA certificate to trust");
  admin->add_option("--scope", o->scope,
                    "Restrict the token: read, resources, policies, references (space-separated; "
                    "default: unrestricted)");
  admin->add_flag("--json", o->json, "Print the broker's JSON answers as they are");

  auto* kg = admin->add_subcommand("keygen", "Make an admin key pair (P-256)");
  kg->add_option("--out", o->out, "Private key (PEM, a new file of mode 0600)")->required();
  kg->add_option("--public", o->pub, "Public key (PEM), for the broker's admin_keys")->required();
  kg->callback([o, &ctx] { ctx.exit_code = keygen(*o); });

  auto* put = admin->add_subcommand("put-resource", "Store a secret (sealed at rest)");
  put->add_option("path", o->path, "repo/type/tag")->required();
  put->add_option("file", o->file, "The secret's file")->required();
  put->callback([o, &ctx] {
    auto data = read_file(o->file);
    if (!data) {
      ctx.exit_code = report(o->file, data.error());
      return;
    }
    std::string body(as_chars(*data));
    wipe(*data);
    ctx.exit_code = request(*o, "PUT", "/admin/v0/resources/" + o->path, body,
                            "application/octet-stream", [](const Json& j) {
                              std::printf("stored %s (%s bytes)\n", text_of(j, "resource").c_str(),
                                          text_of(j, "size").c_str());
                            });
    wipe(std::span(reinterpret_cast<std::uint8_t*>(body.data()), body.size()));
  });

  auto* del = admin->add_subcommand("delete-resource", "Delete a secret");
  del->add_option("path", o->path, "repo/type/tag")->required();
  del->callback([o, &ctx] {
    ctx.exit_code = request(*o, "DELETE", "/admin/v0/resources/" + o->path, "", "");
  });

  admin->add_subcommand("resources", "List the secrets (names and sizes, never values)")
      ->callback([o, &ctx] { ctx.exit_code = request(*o, "GET", "/admin/v0/resources", "", ""); });

  auto* rp = admin->add_subcommand("set-release-policy", "Set a resource's release policy");
  rp->add_option("path", o->path, "repo/type/tag, or 'default'")->required();
  rp->add_option("file", o->file, "The policy (JSON, broker/release_policy.h)")->required();
  rp->callback([o, &ctx] {
    ctx.exit_code = send_document(
        *o, "PUT", "/admin/v0/release-policies/" + o->path, o->file,
        [o](const Json&) { std::printf("release policy of %s set\n", o->path.c_str()); });
  });

  auto* ap = admin->add_subcommand("set-attestation-policy", "Set a TEE's appraisal policy");
  ap->add_option("tee", o->tee, "snp, tdx, sgx or tpm")->required();
  ap->add_option("file", o->file, "The policy (JSON, verifier/policy.h)")->required();
  ap->callback([o, &ctx] {
    ctx.exit_code = send_document(
        *o, "PUT", "/admin/v0/attestation-policies/" + o->tee, o->file,
        [o](const Json&) { std::printf("attestation policy for %s set\n", o->tee.c_str()); });
  });

  auto* ar = admin->add_subcommand("add-refs", "Add reference values (a reference document)");
  ar->add_option("file", o->file, "The document (JSON, verifier/reference_store.h)")->required();
  ar->callback([o, &ctx] {
    ctx.exit_code =
        send_document(*o, "POST", "/admin/v0/reference-values", o->file, [](const Json& j) {
          std::printf("%s reference values added\n", text_of(j, "added").c_str());
        });
  });

  admin->add_subcommand("refs", "Export the reference values")->callback([o, &ctx] {
    ctx.exit_code = request(*o, "GET", "/admin/v0/reference-values", "", "");
  });

  auto* at = admin->add_subcommand("attestations", "The newest appraisals");
  at->add_option("--limit", o->limit, "How many")->capture_default_str();
  at->callback([o, &ctx] {
    ctx.exit_code = request(*o, "GET", "/admin/v0/attestations?limit=" + std::to_string(o->limit),
                            "", "", print_attestations);
  });

  auto* au = admin->add_subcommand("audit", "The audit log, newest first");
  au->add_option("--limit", o->limit, "How many")->capture_default_str();
  au->add_option("--after", o->after, "Only entries after this id");
  au->callback([o, &ctx] {
    ctx.exit_code = request(
        *o, "GET",
        "/admin/v0/audit?limit=" + std::to_string(o->limit) + "&after=" + std::to_string(o->after),
        "", "", print_audit);
  });
}

}  // namespace concierge::cli
