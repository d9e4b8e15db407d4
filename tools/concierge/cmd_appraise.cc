// concierge appraise ENVELOPE: the Verifier. Evidence + reference values +
// policy -> an explained appraisal and, with --token, a signed EAR.
// Exit codes: 0 affirming, 1 warning or contraindicated (or none), 2
// malformed input or usage.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "concierge/core/time.h"
#include "concierge/verifier/appraise.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/policy.h"
#include "concierge/verifier/reference_store.h"

namespace concierge::cli {
namespace {

namespace v = verifier;

struct AppraiseCliOptions {
  std::string envelope;
  std::vector<std::string> policies;
  std::string refs;
  std::vector<std::string> snp_roots;
  std::string intel_root;
  std::vector<std::string> crls;
  std::string collateral;
  std::string at;
  bool json = false;
  bool token = false;
  std::string key;
  std::string jwks_out;
  int validity = 300;
};

// The reference values: --refs, else $CONCIERGE_REFS, else ./concierge-refs.json
// (a missing default file is an empty store; a missing named one an error).
Result<v::MemoryReferenceStore> load_refs(const std::string& given) {
  if (!given.empty()) return v::load_reference_file(given);
  const char* env = std::getenv("CONCIERGE_REFS");
  if (env != nullptr && *env != '\0') return v::load_reference_file(env);
  return v::load_reference_file("concierge-refs.json", /*missing_ok=*/true);
}

// --policy FILE applies to the primary device's TEE; --policy TEE=FILE to
// that TEE's devices.
Result<void> add_policies(const AppraiseCliOptions& o, const std::string& primary_tee,
                          v::AppraiseOptions& a) {
  for (const std::string& spec : o.policies) {
    std::string tee = primary_tee;
    std::string path = spec;
    if (const auto eq = spec.find('='); eq != std::string::npos && eq > 0 && eq < 8) {
      tee = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes text, read_file(path));
    CONCIERGE_ASSIGN_OR_RETURN(v::Policy policy, v::parse_policy(as_chars(text)));
    a.policies[tee] = std::move(policy);
  }
  return {};
}

Result<v::AppraiseOptions> build_options(const AppraiseCliOptions& o,
                                         const v::ReferenceStore& refs) {
  v::AppraiseOptions a;
  a.refs = &refs;
  for (const std::string& path : o.snp_roots) {
    CONCIERGE_ASSIGN_OR_RETURN(auto set, load_snp_root_set(path));
    a.context.snp_roots.push_back(std::move(set));
  }
  if (!o.intel_root.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(a.context.intel_root, load_certificate(o.intel_root));
  }
  for (const std::string& path : o.crls) {
    CONCIERGE_ASSIGN_OR_RETURN(Crl crl, load_crl(path));
    a.context.crls.push_back(std::move(crl));
  }
  if (!o.collateral.empty()) a.context.dcap_collateral_dir = o.collateral;
  if (!o.at.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(a.context.at, parse_rfc3339(o.at, /*allow_date_only=*/true));
  }
  return a;
}

int run_appraise(const AppraiseCliOptions& o) {
  auto refs = load_refs(o.refs);
  if (!refs) return report("appraise", refs.error());
  auto options = build_options(o, *refs);
  if (!options) return report("appraise", options.error());
  auto text = read_file(o.envelope);
  if (!text) return report("appraise", text.error());
  auto envelope = v::parse_envelope(as_chars(*text));
  if (!envelope) return report("appraise: " + o.envelope, envelope.error());
  if (auto p = add_policies(o, envelope->primary.tee, *options); !p) {
    return report("appraise", p.error());
  }
  auto result = v::appraise_envelope(*envelope, *options);
  if (!result) return report("appraise: " + o.envelope, result.error());

  std::string token;
  if (o.token) {
    if (o.key.empty()) {
      return report("appraise",
                    make_error(Errc::kInvalidArgument,
                               "--token needs --key FILE (the verifier's signing key)"));
    }
    auto signer = v::EarSigner::load_or_create(o.key);
    if (!signer) return report("appraise", signer.error());
    auto signed_token = signer->sign(
        result->attestation_result(std::chrono::seconds(o.validity), "concierge 0.1.0"));
    if (!signed_token) return report("appraise", signed_token.error());
    token = *signed_token;
    if (!o.jwks_out.empty()) {
      if (auto w = write_text(o.jwks_out, signer->jwks().dump(2) + "\n"); !w) {
        return report("appraise", w.error());
      }
    }
  }
  if (o.json) {
    nlohmann::json out = result->to_json();
    if (!token.empty()) out["token"] = token;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s", result->explain_text().c_str());
    if (!token.empty()) std::printf("%s\n", token.c_str());
  }
  if (result->status == v::Tier::kAffirming) return kExitOk;
  std::fprintf(stderr, "concierge: appraisal: %s\n",
               std::string(v::tier_name(result->status)).c_str());
  return kExitRejected;
}

}  // namespace

void register_appraise(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<AppraiseCliOptions>();
  auto* c = app.add_subcommand(
      "appraise", "Appraise an evidence envelope: verification, reference values, policy, EAR");
  c->add_option("envelope", o->envelope, "Evidence envelope (JSON; see `envelope make`)")
      ->required();
  c->add_option("--policy", o->policies,
                "Appraisal policy (JSON) replacing the built-in default for the primary "
                "device's TEE, or TEE=FILE for another; repeatable");
  c->add_option("--refs", o->refs,
                "Reference values file (default: $CONCIERGE_REFS, then "
                "./concierge-refs.json)");
  c->add_option("--snp-root", o->snp_roots,
                "Trust this ARK/ASK PEM bundle instead of AMD's built-in roots; repeatable");
  c->add_option("--intel-root", o->intel_root,
                "Trust this root instead of the built-in Intel SGX Root CA");
  c->add_option("--crl", o->crls, "A CRL to check (DER or PEM); repeatable");
  c->add_option("--collateral", o->collateral, "Intel collateral folder (saved PCS responses)");
  c->add_option("--at", o->at, "Appraise as of this time (RFC 3339, or YYYY-MM-DD)");
  c->add_flag("--json", o->json, "Print the appraisal as JSON");
  c->add_flag("--token", o->token, "Also print the attestation result as a signed EAR (JWT)");
  c->add_option("--key", o->key,
                "The verifier's EAR signing key (PEM; created, mode 0600, when missing)");
  c->add_option("--jwks-out", o->jwks_out, "Write the verifier's public keys (JWKS) here");
  c->add_option("--validity", o->validity, "EAR lifetime in seconds (default 300)");
  c->callback([o, &ctx] { ctx.exit_code = run_appraise(*o); });
}

}  // namespace concierge::cli
