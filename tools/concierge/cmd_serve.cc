// concierge serve --config FILE: the key broker (broker/broker.h) over HTTP
// or HTTPS (server/http_server.h). The configuration is JSON; relative paths
// are relative to its folder:
//
//   {"listen": "127.0.0.1:8080",
//    "tls": {"certificate": "tls.crt", "private_key": "tls.key"},     optional
//    "store": "sqlite:broker.db" | "postgresql://...",
//    "kek": {"file": "kek"} | {"env": "CONCIERGE_KEK"},   never in the store
//    "ear_key": "ear-signing.pem",         created (P-256, 0600) when absent
//    "ear_previous_keys": ["old-ear.pub.pem"],   optional: still verify (rotation)
//    "ear_issuer": "concierge",            optional: the EAR's "iss"
//    "admin_keys": ["admin.pub.pem"],      at least one: no anonymous admin
//    "session_ttl_seconds": 300, "token_validity_seconds": 300,
//    "max_body_bytes": 1048576, "threads": 16,
//    "read_timeout_seconds": 10, "header_timeout_seconds": 10,
//    "request_timeout_seconds": 60,        server/http_server.h's limits
//    "allow_plain_http_on_network": false,  without tls, listen must be loopback
//    "trust": {"snp_roots": ["ark-ask.pem"], "intel_root": "root.pem",
//              "crls": ["..."], "dcap_collateral": "folder",
//              "dcap_min_tcb_evaluation_data_number": 17,
//              "snp_min_tcb": {"Milan": {"bootloader": 4, "tee": 0,
//                                        "snp": 22, "microcode": 213}}}}   optional
//
// DCAP collateral: the folder (the operator's) always wins; collateral a
// guest sends is used only without one, and never older than the minimum
// evaluation number or the newest this process has seen. SEV-SNP: the
// minimum REPORTED_TCB per product (docs/policy.md has the defaults).
//
// Test roots are trusted only when listed under "trust": simulated evidence
// is refused otherwise. SIGINT/SIGTERM stop the server cleanly.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli.h"
#include "concierge/broker/broker.h"
#include "concierge/core/json.h"
#include "concierge/server/http_server.h"
#include "concierge/store/store.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct ServeOptions {
  std::string config;
  int port = -1;  // overrides "listen"'s port; 0 = any (printed)
};

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal = sig; }

std::string resolve(const fs::path& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (base / p).string();
}

Result<std::string> string_member(const Json& j, const char* name, bool required) {
  const auto it = j.find(name);
  if (it == j.end()) {
    if (required) return fail(Errc::kMalformed, std::string("config: ") + name + " missing");
    return std::string();
  }
  if (!it->is_string())
    return fail(Errc::kMalformed, std::string("config: ") + name + ": not a string");
  return it->get<std::string>();
}

Result<std::int64_t> int_member(const Json& j, const char* name, std::int64_t dflt, std::int64_t lo,
                                std::int64_t hi) {
  const auto it = j.find(name);
  if (it == j.end()) return dflt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi) {
    return fail(Errc::kMalformed, std::string("config: ") + name + ": not an integer in " +
                                      std::to_string(lo) + ".." + std::to_string(hi));
  }
  return it->get<std::int64_t>();
}

struct Loaded {
  std::unique_ptr<store::Store> store;
  std::optional<verifier::EarSigner> signer;
  broker::BrokerOptions broker;
  server::ServerOptions server;
};

Result<Loaded> load_config(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes text, read_file(path));
  CONCIERGE_ASSIGN_OR_RETURN(Json j, parse_json_with_offset(as_chars(text), "config"));
  if (!j.is_object()) return fail(Errc::kMalformed, "config: not a JSON object");
  static const char* const kKnown[] = {"listen",
                                       "tls",
                                       "store",
                                       "kek",
                                       "ear_key",
                                       "admin_keys",
                                       "session_ttl_seconds",
                                       "token_validity_seconds",
                                       "max_body_bytes",
                                       "threads",
                                       "read_timeout_seconds",
                                       "header_timeout_seconds",
                                       "request_timeout_seconds",
                                       "allow_plain_http_on_network",
                                       "ear_issuer",
                                       "ear_previous_keys",
                                       "trust"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return fail(Errc::kMalformed, "config: unknown member " + key);
    }
  }
  const fs::path base = fs::path(path).parent_path();
  Loaded out;

  CONCIERGE_ASSIGN_OR_RETURN(std::string listen, string_member(j, "listen", false));
  if (!listen.empty()) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return fail(Errc::kMalformed, "config: listen is host:port");
    out.server.host = listen.substr(0, colon);
    try {
      out.server.port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
      return fail(Errc::kMalformed, "config: listen: the port is not a number");
    }
  }
  if (const auto tls = j.find("tls"); tls != j.end()) {
    if (!tls->is_object()) return fail(Errc::kMalformed, "config: tls: not an object");
    CONCIERGE_ASSIGN_OR_RETURN(std::string cert, string_member(*tls, "certificate", true));
    CONCIERGE_ASSIGN_OR_RETURN(std::string key, string_member(*tls, "private_key", true));
    out.server.tls_certificate = resolve(base, cert);
    out.server.tls_private_key = resolve(base, key);
    out.broker.secure_cookie = true;
  }
  // The admin API and the KBS share the listener: on an address other
  // hosts can reach, plain http would carry admin tokens and sessions in
  // the clear. Refused unless the owner says, in the configuration, that a
  // TLS-terminating proxy or a private network makes it acceptable.
  if (!out.server.tls_certificate) {
    const std::string& host = out.server.host;
    const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
    bool allowed = false;
    if (const auto a = j.find("allow_plain_http_on_network"); a != j.end()) {
      if (!a->is_boolean()) {
        return fail(Errc::kMalformed, "config: allow_plain_http_on_network: not a boolean");
      }
      allowed = a->get<bool>();
    }
    if (!loopback && !allowed) {
      return fail(Errc::kInvalidArgument,
                  "config: listen " + host +
                      " is not a loopback address and there is no \"tls\": the admin API would "
                      "be plain http on the network (configure tls, or set "
                      "\"allow_plain_http_on_network\": true behind a TLS proxy)");
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t max_body,
                             int_member(j, "max_body_bytes", 1 << 20, 1024, 64 << 20));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t threads, int_member(j, "threads", 16, 1, 1024));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t read_timeout,
                             int_member(j, "read_timeout_seconds", 10, 1, 300));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t header_timeout,
                             int_member(j, "header_timeout_seconds", 10, 1, 300));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t request_timeout,
                             int_member(j, "request_timeout_seconds", 60, 1, 3600));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t ttl, int_member(j, "session_ttl_seconds", 300, 1, 86400));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t validity,
                             int_member(j, "token_validity_seconds", 300, 1, 86400));
  out.server.max_body_bytes = static_cast<std::size_t>(max_body);
  out.server.threads = static_cast<std::size_t>(threads);
  out.server.read_timeout_seconds = static_cast<int>(read_timeout);
  out.server.header_timeout_seconds = static_cast<int>(header_timeout);
  out.server.request_timeout_seconds = static_cast<int>(request_timeout);
  out.broker.session_ttl = std::chrono::seconds(ttl);
  out.broker.token_validity = std::chrono::seconds(validity);

  // The key-encryption key: a file or an environment variable, never the store.
  const auto kek = j.find("kek");
  if (kek == j.end() || !kek->is_object() || kek->size() != 1) {
    return fail(Errc::kMalformed, "config: kek is {\"file\": PATH} or {\"env\": NAME}");
  }
  Result<store::SecretBox> box = fail(Errc::kInternal, "");
  if (kek->contains("file")) {
    CONCIERGE_ASSIGN_OR_RETURN(std::string file, string_member(*kek, "file", true));
    box = store::SecretBox::from_file(resolve(base, file));
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(std::string env, string_member(*kek, "env", true));
    box = store::SecretBox::from_env(env.c_str());
    // The environment a process started with stays readable in
    // /proc/PID/environ (to its user and root) for as long as it runs.
    std::fprintf(stderr,
                 "concierge: WARNING: the key-encryption key is taken from the environment "
                 "variable %s: it stays readable in /proc/%d/environ while the broker runs; "
                 "prefer \"kek\": {\"file\": PATH}, a file only the broker may read\n",
                 env.c_str(), static_cast<int>(::getpid()));
  }
  if (!box) return Unexpected(box.error());

  CONCIERGE_ASSIGN_OR_RETURN(std::string url, string_member(j, "store", true));
  if (url.rfind("sqlite:", 0) == 0) url = "sqlite:" + resolve(base, url.substr(7));
  // A PostgreSQL server reached over the network must prove who it is: the
  // store's rows are integrity-tagged, but a server in the middle still sees
  // every session and could withhold writes.
  const bool unix_socket = url.find("host=/") != std::string::npos ||
                           url.find("host=%2F") != std::string::npos ||
                           url.rfind("postgresql:///", 0) == 0;
  if (url.rfind("postgres", 0) == 0 && !unix_socket &&
      url.find("sslmode=verify-full") == std::string::npos) {
    std::fprintf(stderr,
                 "concierge: WARNING: the PostgreSQL connection is not authenticated: add "
                 "sslmode=verify-full (and sslrootcert) to the store URL\n");
  }
  CONCIERGE_ASSIGN_OR_RETURN(out.store, store::open_store(url, std::move(*box)));

  CONCIERGE_ASSIGN_OR_RETURN(std::string ear_key, string_member(j, "ear_key", true));
  CONCIERGE_ASSIGN_OR_RETURN(auto signer,
                             verifier::EarSigner::load_or_create(resolve(base, ear_key)));
  // Rotation: the previous keys' public halves verify the tokens they
  // signed until those expire; remove them after token_validity_seconds.
  if (const auto previous = j.find("ear_previous_keys"); previous != j.end()) {
    if (!previous->is_array()) {
      return fail(Errc::kMalformed, "config: ear_previous_keys: not a list of paths");
    }
    for (const auto& p : *previous) {
      if (!p.is_string()) return fail(Errc::kMalformed, "config: ear_previous_keys: not paths");
      CONCIERGE_ASSIGN_OR_RETURN(Bytes pem, read_file(resolve(base, p.get<std::string>())));
      CONCIERGE_ASSIGN_OR_RETURN(PublicKey key, PublicKey::from_pem(as_chars(pem)));
      CONCIERGE_RETURN_IF_ERROR(signer.add_previous_key(key));
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::string issuer, string_member(j, "ear_issuer", false));
  if (!issuer.empty()) out.broker.ear_issuer = issuer;
  out.signer.emplace(std::move(signer));

  const auto admins = j.find("admin_keys");
  if (admins == j.end() || !admins->is_array() || admins->empty()) {
    return fail(Errc::kMalformed,
                "config: admin_keys (PEM public keys) is required: there is no anonymous admin");
  }
  for (const auto& a : *admins) {
    if (!a.is_string()) return fail(Errc::kMalformed, "config: admin_keys: not a list of paths");
    CONCIERGE_ASSIGN_OR_RETURN(Bytes pem, read_file(resolve(base, a.get<std::string>())));
    CONCIERGE_ASSIGN_OR_RETURN(PublicKey key, PublicKey::from_pem(as_chars(pem)));
    CONCIERGE_RETURN_IF_ERROR(out.broker.admin_keys.add(key));
  }

  if (const auto trust = j.find("trust"); trust != j.end()) {
    if (!trust->is_object()) return fail(Errc::kMalformed, "config: trust: not an object");
    for (const auto& [key, value] : trust->items()) {
      if (key == "snp_roots" || key == "crls") {
        if (!value.is_array())
          return fail(Errc::kMalformed, "config: trust." + key + ": not a list");
        for (const auto& p : value) {
          if (!p.is_string()) return fail(Errc::kMalformed, "config: trust." + key + ": not paths");
          const std::string file = resolve(base, p.get<std::string>());
          if (key == "snp_roots") {
            CONCIERGE_ASSIGN_OR_RETURN(auto roots, load_snp_root_set(file));
            out.broker.context.snp_roots.push_back(std::move(roots));
          } else {
            CONCIERGE_ASSIGN_OR_RETURN(auto crl, load_crl(file));
            out.broker.context.crls.push_back(std::move(crl));
          }
        }
      } else if (key == "intel_root") {
        if (!value.is_string())
          return fail(Errc::kMalformed, "config: trust.intel_root: not a path");
        CONCIERGE_ASSIGN_OR_RETURN(out.broker.context.intel_root,
                                   load_certificate(resolve(base, value.get<std::string>())));
      } else if (key == "dcap_collateral") {
        if (!value.is_string())
          return fail(Errc::kMalformed, "config: trust.dcap_collateral: not a path");
        out.broker.context.dcap_collateral_dir = resolve(base, value.get<std::string>());
      } else if (key == "dcap_min_tcb_evaluation_data_number") {
        if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 0xFFFFFFFFu) {
          return fail(Errc::kMalformed,
                      "config: trust.dcap_min_tcb_evaluation_data_number: not an integer >= 0");
        }
        out.broker.context.dcap_min_evaluation_number = value.get<std::uint32_t>();
      } else if (key == "snp_min_tcb") {
        // Products listed replace the default minimum; the others keep it.
        CONCIERGE_ASSIGN_OR_RETURN(auto table, verifier::parse_snp_min_tcb(value));
        for (auto& [product, minimum] : table) {
          out.broker.context.snp_min_tcb[product] = minimum;
        }
      } else {
        return fail(Errc::kMalformed, "config: trust: unknown member " + key);
      }
    }
  }
  return out;
}

int serve(const ServeOptions& o) {
  auto loaded = load_config(o.config);
  if (!loaded) return report(o.config, loaded.error());
  if (o.port >= 0) loaded->server.port = o.port;
  const std::string backend(loaded->store->backend());
  auto b = broker::Broker::create(std::move(loaded->store), std::move(*loaded->signer),
                                  std::move(loaded->broker));
  if (!b) return report("broker", b.error());
  auto s = server::HttpServer::create(**b, loaded->server);
  if (!s) return report("server", s.error());
  auto port = (*s)->bind();
  if (!port) return report("server", port.error());
  std::printf("concierge: serving KBS %s on %s://%s:%d (store: %s)\n",
              std::string(broker::kKbsProtocolVersion).c_str(), (*s)->tls() ? "https" : "http",
              loaded->server.host.c_str(), *port, backend.c_str());
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  server::HttpServer* server = s->get();
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done && g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server->stop();
  });
  auto ran = server->run();
  done = true;
  watcher.join();
  if (!ran && g_signal == 0) return report("server", ran.error());
  return kExitOk;
}

}  // namespace

void register_serve(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ServeOptions>();
  auto* c = app.add_subcommand("serve", "Run the key broker (KBS protocol 0.4.0 + admin API)");
  c->add_option("--config", o->config, "Configuration file (JSON)")->required();
  c->add_option("--port", o->port, "Listen on this port instead (0: any free port, printed)");
  c->callback([o, &ctx] { ctx.exit_code = serve(*o); });
}

}  // namespace concierge::cli
