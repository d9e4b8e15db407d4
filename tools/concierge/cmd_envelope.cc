// concierge envelope make: an evidence envelope (verifier/envelope.h) from
// raw evidence files, for `appraise` and the key broker.
#include <cstdio>
#include <memory>
#include <string>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/verifier/binding.h"
#include "concierge/verifier/envelope.h"
#include "concierge/verifier/evidence_verifier.h"

namespace concierge::cli {
namespace {

namespace v = verifier;

struct MakeOptions {
  std::string tee;
  std::string evidence;
  std::string event_log;
  // snp
  std::string vcek, cert_table, certs;
  // tdx, sgx
  std::string pck, tcb_info, qe_identity, tcb_signing_chain;
  // tpm
  std::string signature, ak, pcrs;
  // runtime data
  std::string nonce, tee_pubkey;
  bool print_report_data = false;
  std::string out;
};

Result<void> add_base64(nlohmann::json& e, const char* key, const std::string& path) {
  if (path.empty()) return {};
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  e[key] = base64_encode(data);
  return {};
}

Result<void> add_text(nlohmann::json& e, const char* key, const std::string& path) {
  if (path.empty()) return {};
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  e[key] = std::string(as_chars(data));
  return {};
}

Result<v::Envelope> make(const MakeOptions& o) {
  if (v::find_evidence_kind(o.tee) == nullptr) {
    return fail(Errc::kInvalidArgument, "--tee " + o.tee + ": not one of snp, tdx, sgx, tpm");
  }
  v::Envelope env;
  v::DeviceEvidence& d = env.primary;
  d.tee = o.tee;
  CONCIERGE_ASSIGN_OR_RETURN(d.evidence, read_file(o.evidence));
  if (!o.event_log.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(d.event_log, read_file(o.event_log));
  }
  nlohmann::json& e = d.endorsements;
  CONCIERGE_RETURN_IF_ERROR(add_base64(e, "vcek", o.vcek));
  CONCIERGE_RETURN_IF_ERROR(add_base64(e, "cert_table", o.cert_table));
  CONCIERGE_RETURN_IF_ERROR(add_text(e, "certs", o.certs));
  CONCIERGE_RETURN_IF_ERROR(add_text(e, "pck", o.pck));
  const int collateral =
      !o.tcb_info.empty() + !o.qe_identity.empty() + !o.tcb_signing_chain.empty();
  if (collateral != 0 && collateral != 3) {
    return fail(Errc::kInvalidArgument,
                "--tcb-info, --qe-identity and --tcb-signing-chain go together");
  }
  if (collateral == 3) {
    nlohmann::json c = nlohmann::json::object();
    CONCIERGE_RETURN_IF_ERROR(add_text(c, "tcb_info", o.tcb_info));
    CONCIERGE_RETURN_IF_ERROR(add_text(c, "qe_identity", o.qe_identity));
    CONCIERGE_RETURN_IF_ERROR(add_text(c, "tcb_signing_chain", o.tcb_signing_chain));
    e["collateral"] = std::move(c);
  }
  CONCIERGE_RETURN_IF_ERROR(add_base64(e, "signature", o.signature));
  if (!o.ak.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes ak, read_file(o.ak));
    e["ak"] = looks_like_pem(ak) ? std::string(as_chars(ak)) : base64_encode(ak);
  }
  if (!o.pcrs.empty()) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes text, read_file(o.pcrs));
    auto parsed = parse_json_with_offset(as_chars(text), o.pcrs);
    if (!parsed || !parsed->is_object()) return fail(Errc::kMalformed, o.pcrs + ": not JSON");
    const nlohmann::json& j = *parsed;
    e["pcrs"] = j.contains("pcrs") ? j["pcrs"] : j;  // `tpm quote`'s pcrs.json, or the bare map
  }
  if (!o.nonce.empty() || !o.tee_pubkey.empty()) {
    if (o.nonce.empty() || o.tee_pubkey.empty()) {
      return fail(Errc::kInvalidArgument, "--nonce and --tee-pubkey go together");
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes jwk_text, read_file(o.tee_pubkey));
    auto jwk = parse_json_with_offset(as_chars(jwk_text), o.tee_pubkey);
    if (!jwk || !jwk->is_object()) {
      return fail(Errc::kMalformed, o.tee_pubkey + ": not a JWK (JSON object)");
    }
    d.runtime_data = {{"nonce", o.nonce}, {"tee-pubkey", std::move(*jwk)}};
  }
  return env;
}

int run_make(const MakeOptions& o) {
  auto env = make(o);
  if (!env) return report("envelope make", env.error());
  const std::string text = v::envelope_json(*env).dump(2) + "\n";
  if (o.out.empty() || o.out == "-") {
    std::fputs(text.c_str(), stdout);
  } else if (auto w = write_text(o.out, text); !w) {
    return report("envelope make", w.error());
  }
  return kExitOk;
}

struct ReportDataOptions {
  std::string tee;
  std::string nonce;
  std::string tee_pubkey;
};

// The report data an attester must put in its evidence for this runtime data.
int run_report_data(const ReportDataOptions& o) {
  const v::EvidenceKind* kind = v::find_evidence_kind(o.tee);
  if (kind == nullptr) {
    return report("envelope report-data",
                  make_error(Errc::kInvalidArgument, "--tee " + o.tee + ": unknown"));
  }
  auto jwk_text = read_file(o.tee_pubkey);
  if (!jwk_text) return report("envelope report-data", jwk_text.error());
  auto jwk = parse_json_with_offset(as_chars(*jwk_text), "--tee-pubkey");
  if (!jwk) {
    return report("envelope report-data", make_error(Errc::kMalformed, "--tee-pubkey: not JSON"));
  }
  auto digest = v::runtime_data_digest({{"nonce", o.nonce}, {"tee-pubkey", *jwk}},
                                       kind->binding_hash, kind->report_data_size);
  if (!digest) return report("envelope report-data", digest.error());
  std::printf("%s\n", hex_encode(*digest).c_str());
  return kExitOk;
}

}  // namespace

void register_envelope(CLI::App& app, Context& ctx) {
  auto* env = app.add_subcommand("envelope", "Evidence envelopes for `appraise`");
  env->require_subcommand(1);
  auto o = std::make_shared<MakeOptions>();
  auto* m = env->add_subcommand("make", "Build an envelope from raw evidence files");
  m->add_option("--tee", o->tee, "snp, tdx, sgx or tpm")->required();
  m->add_option("--evidence", o->evidence,
                "The evidence: SNP report, DCAP quote, TPM quote (TPMS_ATTEST)")
      ->required();
  m->add_option("--event-log", o->event_log, "TCG event log (TPM) or CCEL log (TDX)");
  m->add_option("--vcek", o->vcek, "SNP: VCEK/VLEK (DER)");
  m->add_option("--cert-table", o->cert_table, "SNP: the extended report's certificate table");
  m->add_option("--certs", o->certs, "SNP: a PEM bundle (ASK, ARK, VCEK)");
  m->add_option("--pck", o->pck, "TDX/SGX: PCK certificate and its CA (PEM)");
  m->add_option("--tcb-info", o->tcb_info, "TDX/SGX: TCB info response");
  m->add_option("--qe-identity", o->qe_identity, "TDX/SGX: QE identity response");
  m->add_option("--tcb-signing-chain", o->tcb_signing_chain, "TDX/SGX: TCB Signing chain (PEM)");
  m->add_option("--signature", o->signature, "TPM: the quote's TPMT_SIGNATURE");
  m->add_option("--ak", o->ak, "TPM: the AK (TPM2B_PUBLIC, or a PEM public key)");
  m->add_option("--pcrs", o->pcrs, "TPM: the quoted PCR values (pcrs.json)");
  m->add_option("--nonce", o->nonce, "Runtime data: the verifier's challenge");
  m->add_option("--tee-pubkey", o->tee_pubkey, "Runtime data: the guest's public key (JWK file)");
  m->add_option("-o,--out", o->out, "Envelope file (default: standard output)");
  m->callback([o, &ctx] { ctx.exit_code = run_make(*o); });

  auto r = std::make_shared<ReportDataOptions>();
  auto* rd = env->add_subcommand(
      "report-data", "The report data that binds a nonce and a public key (hex), for the attester");
  rd->add_option("--tee", r->tee, "snp, tdx, sgx or tpm")->required();
  rd->add_option("--nonce", r->nonce, "The verifier's challenge")->required();
  rd->add_option("--tee-pubkey", r->tee_pubkey, "The guest's public key (JWK file)")->required();
  rd->callback([r, &ctx] { ctx.exit_code = run_report_data(*r); });
}

}  // namespace concierge::cli
