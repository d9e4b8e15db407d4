// concierge agent: the key broker's client inside a guest.
//
//   agent get-resource URL [--tee auto|snp|tdx|tpm|sim-snp|sim-tdx|sim-tpm]
//                          [--out FILE] [--passport FILE]
//     auth, attest with evidence bound to the nonce and to an ephemeral key
//     generated in memory (attester/kbs_client.h), then the resource,
//     decrypted with that key. The key never touches the disk.
//   agent attest URL --token-out FILE      only the attestation: an EAR to
//     present later as a passport (get-resource --passport).
//   agent reference --out FILE             the reference values of this
//     (known-good) machine, for the owner to register (admin add-refs).
//
// Exit codes: 0 released (or done), 1 the broker refused (with its reason
// on stderr), 2 usage, malformed input or an unreachable broker.
#include <cstdio>
#include <filesystem>

#include "agent_collect.h"
#include "cli.h"
#include "concierge/attester/kbs_client.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/public_key.h"
#include "concierge/core/state_files.h"
#include "concierge/evidence/tpm/tpm_public.h"
#include "concierge/verifier/appraise.h"
#include "concierge/verifier/binding.h"
#include "concierge/verifier/envelope.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::cli {
namespace {

using Json = nlohmann::json;

struct AgentOptions {
  AgentSource source;
  std::string url;
  std::string out;
  std::string passport;
  std::string token_out;
  std::string ca;
  std::string broker_jwks;
  bool insecure = false;
  bool rsa = false;
  bool quiet = false;
};

// The broker's pinned EAR key set: a JWK Set file, or a PEM public key.
Result<Json> pinned_jwks(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  const std::string text(as_chars(data));
  if (text.find("-----BEGIN") != std::string::npos) {
    CONCIERGE_ASSIGN_OR_RETURN(PublicKey key, PublicKey::from_pem(text));
    jose::Jwks set;
    CONCIERGE_RETURN_IF_ERROR(set.add(key));
    return set.to_json();
  }
  CONCIERGE_ASSIGN_OR_RETURN(jose::Jwks set, jose::Jwks::from_json_text(text));
  return set.to_json();
}

void add_broker_options(CLI::App* c, AgentOptions& o) {
  c->add_option("--ca", o.ca, "For https: the CA certificate to trust");
  c->add_option("--broker-jwks", o.broker_jwks,
                "The broker's EAR key (JWK Set or PEM public key) to verify the attestation "
                "result with (default over https: the broker's /.well-known/jwks.json)");
  c->add_flag("--insecure", o.insecure,
              "Allow plain http: nothing then proves the answers come from the broker");
}

void add_source_options(CLI::App* c, AgentSource& s) {
  c->add_option("--tee", s.tee, "auto, snp, tdx, tpm, sim-snp, sim-tdx or sim-tpm")
      ->capture_default_str();
  c->add_option("--tcti", s.tcti, "tpm: the TPM (default device:/dev/tpmrm0)");
  c->add_option("--ak", s.ak_dir, "tpm: the AK folder (`tpm ak create --out`)");
  c->add_option("--event-log", s.event_log, "tpm: the TCG event log to send")
      ->capture_default_str();
  c->add_option("--pcrs", s.pcrs, "tpm: the PCRs to quote")->capture_default_str();
  c->add_option("--sim-state", s.sim_state, "sim-*: the simulator's folder");
  c->add_option("--measurement", s.measurement, "sim-snp: the launch MEASUREMENT (hex)");
  c->add_option("--mrtd", s.mrtd, "sim-tdx: MRTD (hex)");
  c->add_option("--boot-manifest", s.boot_manifest, "sim-tpm: the measured boot chain");
  c->add_option("--replace", s.replace, "sim-tpm: boot a substituted stage (STAGE=FILE)");
}

Result<std::unique_ptr<attester::KbsClient>> client_for(const AgentOptions& o,
                                                        const std::string& base) {
  attester::KbsClientOptions co;
  if (!o.ca.empty()) co.ca_certificate = o.ca;
  if (o.rsa) co.key_alg = jose::JweAlg::kRsaOaep256;
  if (!o.broker_jwks.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(co.broker_jwks, pinned_jwks(o.broker_jwks));
  }
  co.allow_insecure_http = o.insecure;
  if (o.insecure && base.rfind("http://", 0) == 0) {
    std::fprintf(stderr,
                 "concierge: WARNING: --insecure: plain http, so the host can read and answer "
                 "this exchange in the broker's place%s\n",
                 o.broker_jwks.empty()
                     ? "; and with no --broker-jwks nothing verifies the attestation result"
                     : "; the attestation result is verified with --broker-jwks, the secret's "
                       "origin is not");
  }
  return attester::KbsClient::create(base, co);
}

// Attests; returns the exit code (kExitOk with the client holding the session).
int attest_with(attester::KbsClient& client, AgentOptions& o, std::string* token) {
  auto tee = resolve_tee(o.source);
  if (!tee) return report("--tee", tee.error());
  const AgentSource& source = o.source;
  auto result = client.attest(*tee, [&source](ByteView report_data, const Json&) {
    return collect_evidence(source, report_data);
  });
  if (!result) return report("attest", result.error());
  if (result->refused) return report_rejected(result->reason);
  if (!client.ear_verified()) {
    std::fprintf(stderr, "concierge: WARNING: the attestation result was not verified\n");
  }
  if (token) *token = result->token;
  if (!o.quiet) std::fprintf(stderr, "concierge: attested (%s): token issued\n", tee->c_str());
  return kExitOk;
}

int get_resource(AgentOptions& o) {
  auto split = attester::split_resource_url(o.url);
  if (!split) return report(o.url, split.error());
  auto client = client_for(o, split->first);
  if (!client) return report(o.url, client.error());
  std::string passport;
  if (!o.passport.empty()) {
    auto text = read_file(o.passport);
    if (!text) return report(o.passport, text.error());
    passport = std::string(as_chars(*text));
    while (!passport.empty() && (passport.back() == '\n' || passport.back() == ' ')) {
      passport.pop_back();
    }
  } else if (int code = attest_with(**client, o, nullptr); code != kExitOk) {
    return code;
  }
  auto result = (*client)->get_resource(split->second, passport);
  if (!result) return report("resource", result.error());
  if (result->refused) return report_rejected(result->reason);
  Bytes secret = std::move(result->secret);
  int code = kExitOk;
  if (o.out.empty() || o.out == "-") {
    std::fwrite(secret.data(), 1, secret.size(), stdout);
    std::fflush(stdout);
  } else if (auto w = state_files::create_file(o.out, as_chars(secret), 0600,
                                               state_files::IfExists::kReplace);
             !w) {
    code = report(o.out, w.error());
  } else if (!o.quiet) {
    std::fprintf(stderr, "concierge: released %s: %zu bytes written to %s\n", split->second.c_str(),
                 secret.size(), o.out.c_str());
  }
  wipe(secret);
  return code;
}

int attest_only(AgentOptions& o) {
  auto client = client_for(o, o.url);
  if (!client) return report(o.url, client.error());
  std::string token;
  if (int code = attest_with(**client, o, &token); code != kExitOk) return code;
  if (o.token_out.empty()) {
    std::printf("%s\n", token.c_str());
  } else if (auto w = state_files::create_file(o.token_out, token + "\n", 0600,
                                               state_files::IfExists::kRefuse);
             !w) {
    return report(o.token_out, w.error());
  }
  return kExitOk;
}

// The "ak:<SHA-256 of its SPKI>" of the AK in a TPM device's evidence, once
// its public area shows the attributes of a restricted signing key bound to
// its TPM; kInvalidArgument otherwise (a bare PEM key cannot show them).
Result<std::string> enrolable_ak(const verifier::DeviceEvidence& d) {
  const auto it = d.endorsements.find("ak");
  if (it == d.endorsements.end() || !it->is_string()) {
    return fail(Errc::kInvalidArgument, "the evidence carries no AK");
  }
  const std::string text = it->get<std::string>();
  if (text.find("-----BEGIN") != std::string::npos) {
    return fail(Errc::kInvalidArgument,
                "the AK is a bare public key: its TPM attributes cannot be checked, so it "
                "cannot be enrolled (send its TPM2B_PUBLIC)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes area, base64_decode(text));
  CONCIERGE_ASSIGN_OR_RETURN(evidence::tpm::TpmPublic ak, evidence::tpm::parse_tpm_public(area));
  if (Verdict v = evidence::tpm::check_ak_attributes(ak); !v) {
    return fail(Errc::kInvalidArgument, "the AK cannot be enrolled: " + v.reason);
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes spki, ak.key.to_der());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes d256, digest(HashAlg::kSha256, spki));
  return "ak:" + hex_encode(d256);
}

// Reference values of a known-good machine: its evidence, verified with the
// simulator's or vendor's roots as configured, reduced to the sets the
// default policies read.
int reference(AgentOptions& o) {
  auto tee = resolve_tee(o.source);
  if (!tee) return report("--tee", tee.error());
  const auto* kind = verifier::find_evidence_kind(*tee);
  const Json runtime = {{"nonce", "reference"}, {"tee-pubkey", Json::object()}};
  auto report_data =
      verifier::runtime_data_digest(runtime, kind->binding_hash, kind->report_data_size);
  if (!report_data) return report("reference", report_data.error());
  auto evidence = collect_evidence(o.source, *report_data);
  if (!evidence) return report("evidence", evidence.error());
  Json envelope_json = *evidence;
  envelope_json["tee"] = *tee;
  auto envelope = verifier::parse_envelope(envelope_json);
  if (!envelope) return report("evidence", envelope.error());
  verifier::VerifierContext ctx;
  ctx.known_event_digests.emplace();
  if (*tee == "tpm") {
    // This command enrols the AK: only a restricted signing key that cannot
    // leave its TPM (fixedTPM, fixedParent, sensitiveDataOrigin) may be.
    auto ak = enrolable_ak(envelope->primary);
    if (!ak) return report("--ak", ak.error());
    ctx.enrolled_keys = std::set<std::string>{*ak};
  }
  auto verified = kind->verify(envelope->primary, ctx);
  if (!verified) return report("evidence", verified.error());
  const Json& n = verified->normalized;
  std::vector<verifier::ReferenceValue> values;
  const std::string provenance = "concierge agent reference (" + o.source.tee + ")";
  const auto add = [&](std::string name, const Json& v) {
    if (v.is_string() && !v.get<std::string>().empty()) {
      values.push_back(
          {std::move(name), v.get<std::string>(), std::nullopt, provenance, std::nullopt, ""});
    }
  };
  const Json registers = n.value("registers", Json::object());
  if (*tee == "tpm") {
    add("tpm.ak", n.value("signer", Json()));
    for (const auto& [reg, v] : registers.items()) {
      if (v.is_null()) continue;  // not quoted
      add("tpm." + reg, v);
      // The quote of a guest must cover what this known-good one did.
      add("tpm.required_pcr", Json(reg.substr(3)));
    }
    if (n.contains("log") && n["log"].contains("unknown_events")) {
      for (const auto& e : n["log"]["unknown_events"])
        add("tpm.event_digest", e.value("digest", Json()));
    }
  } else if (*tee == "snp") {
    add("snp.measurement", n.value("measurement", Json()));
  } else if (*tee == "tdx") {
    add("tdx.mrtd", n.value("measurement", Json()));
    for (const auto& [reg, v] : registers.items()) add("tdx." + reg, v);
  }
  const std::string text = verifier::reference_document_json(values).dump(2) + "\n";
  if (o.out.empty() || o.out == "-") {
    std::printf("%s", text.c_str());
  } else if (auto w = state_files::create_file(o.out, text, 0600, state_files::IfExists::kRefuse);
             !w) {
    return report(o.out, w.error());
  } else {
    std::printf("%zu reference values written to %s\n", values.size(), o.out.c_str());
  }
  return kExitOk;
}

}  // namespace

void register_agent(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<AgentOptions>();
  auto* agent = app.add_subcommand("agent", "The key broker's client inside a guest");
  agent->require_subcommand(1);

  auto* g = agent->add_subcommand("get-resource", "Attest, then fetch and decrypt a secret");
  g->add_option("url", o->url, "http(s)://broker:port/kbs/v0/resource/REPO/TYPE/TAG")->required();
  add_source_options(g, o->source);
  g->add_option("--out", o->out,
                "Where the secret goes (mode 0600; a regular file there is replaced, never "
                "followed through a link; default: standard output)");
  g->add_option("--passport", o->passport, "Present this EAR (from `agent attest`) instead");
  add_broker_options(g, *o);
  g->add_flag("--rsa", o->rsa, "An RSA-3072 ephemeral key (RSA-OAEP-256) instead of P-256");
  g->add_flag("--quiet", o->quiet, "No progress on standard error");
  g->callback([o, &ctx] { ctx.exit_code = get_resource(*o); });

  auto* a = agent->add_subcommand("attest", "Attest and print the EAR (a passport)");
  a->add_option("url", o->url, "http(s)://broker:port")->required();
  add_source_options(a, o->source);
  a->add_option("--token-out", o->token_out,
                "Write the token here, a new file of mode 0600 (default: standard output)");
  add_broker_options(a, *o);
  a->add_flag("--quiet", o->quiet, "No progress on standard error");
  a->callback([o, &ctx] { ctx.exit_code = attest_only(*o); });

  auto* r = agent->add_subcommand(
      "reference", "The reference values of this known-good machine (for `admin add-refs`)");
  add_source_options(r, o->source);
  r->add_option("--out", o->out,
                "The reference document, a new file of mode 0600 (default: standard output)");
  r->callback([o, &ctx] { ctx.exit_code = reference(*o); });
}

}  // namespace concierge::cli
