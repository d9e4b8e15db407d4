// concierge tpm verify-quote: a TPM 2.0 quote checked against its AK, the
// verifier's nonce, and the PCR values (given, or replayed from the event
// log). File formats as tpm2-tools writes them (tpm2_quote -m / -s).
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/reference.h"
#include "concierge/measure/replay.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

struct VerifyOptions {
  std::string ak;
  std::string msg;
  std::string sig;
  std::string nonce;
  std::string pcrs;
  std::string eventlog;
  std::string reference;
  bool json = false;
};

Result<PublicKey> load_ak(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  if (as_chars(data).find("-----BEGIN") != std::string_view::npos) {
    return PublicKey::from_pem(as_chars(data));
  }
  return evidence::tpm::parse_ak_public(data);  // TPM2B_PUBLIC / TPMT_PUBLIC
}

// The first quoted PCR whose replayed value differs from the given one.
std::string compare_with_replay(const evidence::tpm::ParsedQuote& quote, const PcrValues& given,
                                const measure::ReplayResult& replayed) {
  for (const auto& sel : quote.selections) {
    const measure::PcrBank* bank = replayed.bank(sel.bank);
    for (unsigned pcr : sel.pcrs) {
      auto b = given.find(sel.bank);
      if (b == given.end() || !b->second.count(pcr)) continue;
      ByteView want = b->second.at(pcr);
      if (bank == nullptr || !equal_constant_time(bank->value(pcr), want)) {
        return std::string(hash_name(sel.bank)) + " PCR " + std::to_string(pcr) +
               " differs from the event log's replay";
      }
    }
  }
  return {};
}

int emit(const VerifyOptions& o, const Verdict& v, const evidence::tpm::ParsedQuote* q,
         const std::optional<measure::ReferenceCoverage>& coverage) {
  if (o.json) {
    nlohmann::json out{{"verified", v.accepted}};
    if (!v.accepted) out["reason"] = v.reason;
    if (q != nullptr) {
      nlohmann::json sel = nlohmann::json::object();
      for (const auto& s : q->selections) sel[std::string(hash_name(s.bank))] = s.pcrs;
      out["claims"] = {{"clock", q->clock},
                       {"reset_count", q->reset_count},
                       {"restart_count", q->restart_count},
                       {"safe", q->safe},
                       {"firmware_version", q->firmware_version},
                       {"nonce", hex_encode(q->extra_data)},
                       {"pcr_digest", hex_encode(q->pcr_digest)},
                       {"pcr_selection", sel}};
    }
    print_json(out);
  } else if (v.accepted && q != nullptr) {
    std::size_t count = 0;
    for (const auto& sel : q->selections) count += sel.pcrs.size();
    std::string what = "AK signature, nonce";
    if (!o.pcrs.empty() || !o.eventlog.empty()) {
      what += ", " + std::to_string(count) + " quoted PCRs";
    }
    if (!o.eventlog.empty()) what += ", event log replay";
    if (coverage) what += ", reference values (" + coverage->describe() + ")";
    std::printf("quote verified (%s)\n", what.c_str());
  }
  return v.accepted ? kExitOk : report_rejected(v.reason);
}

int verify(const VerifyOptions& o) {
  auto ak = load_ak(o.ak);
  if (!ak) return report(o.ak, ak.error());
  auto msg = read_file(o.msg);
  if (!msg) return report(o.msg, msg.error());
  auto sig = read_file(o.sig);
  if (!sig) return report(o.sig, sig.error());
  auto nonce = hex_decode(o.nonce);
  if (!nonce) return report("--nonce", nonce.error());

  std::optional<PcrValues> given;
  if (!o.pcrs.empty()) {
    auto text = read_file(o.pcrs);
    if (!text) return report(o.pcrs, text.error());
    auto values = parse_pcrs_json(*text);
    if (!values) return report(o.pcrs, values.error());
    given = std::move(*values);
  }
  std::optional<measure::ReferenceValues> reference;
  if (!o.reference.empty()) {
    auto text = read_file(o.reference);
    if (!text) return report(o.reference, text.error());
    auto ref = measure::parse_reference_values(as_chars(*text));
    if (!ref) return report(o.reference, ref.error());
    reference = std::move(*ref);
  }
  std::optional<measure::EventLog> log;
  std::optional<measure::ReplayResult> replayed;
  if (!o.eventlog.empty()) {
    auto data = read_file(o.eventlog);
    if (!data) return report(o.eventlog, data.error());
    auto parsed = measure::parse_event_log(std::move(*data));
    if (!parsed) return report(o.eventlog, parsed.error());
    log = std::move(*parsed);
    auto r = measure::replay(*log);
    if (!r) return report(o.eventlog, r.error());
    replayed = std::move(*r);
    if (!given) {  // no values given: the quote must match the replay
      given.emplace();
      for (const auto& bank : replayed->banks) {
        for (unsigned pcr = 0; pcr < measure::kPcrCount; ++pcr) {
          ByteView v = bank.value(pcr);
          (*given)[bank.alg()][pcr] = Bytes(v.begin(), v.end());
        }
      }
    }
  }

  std::optional<measure::ReferenceCoverage> coverage;
  auto check = evidence::tpm::verify_quote(*msg, *sig, *ak, *nonce, given ? &*given : nullptr);
  if (!check) return report("quote", check.error());
  if (check->verdict.accepted && replayed && !o.pcrs.empty()) {
    std::string mismatch = compare_with_replay(check->quote, *given, *replayed);
    if (!mismatch.empty()) check->verdict = Verdict::reject(mismatch);
  }
  if (check->verdict.accepted && reference) {
    // The quote is authentic and its log honest; now: is what it measured
    // what we expect? A mismatch names the PCR and the first unknown event.
    if (!given) {
      return report("--reference",
                    make_error(Errc::kInvalidArgument, "needs --pcrs or --eventlog"));
    }
    std::vector<std::pair<HashAlg, std::vector<unsigned>>> selection;
    for (const auto& s : check->quote.selections) selection.emplace_back(s.bank, s.pcrs);
    coverage = measure::reference_coverage(selection, *reference, log.has_value());
    if (coverage->empty()) {
      // A check that compares nothing is not a check: an error, not "verified".
      return report("--reference",
                    make_error(Errc::kInvalidArgument,
                               "nothing to compare: the reference values hold no value or digest "
                               "for the quoted banks and PCRs (another bank, or digests without "
                               "--eventlog?)"));
    }
    check->verdict = measure::appraise_pcrs(selection, *given, *reference, log ? &*log : nullptr);
  }
  return emit(o, check->verdict, &check->quote, coverage);
}

}  // namespace

void register_tpm(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("tpm", "TPM 2.0 evidence");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<VerifyOptions>();
  auto* v = cmd->add_subcommand(
      "verify-quote", "Verify a quote: AK signature, nonce, PCR digest (exit 0 ok, 1 rejected)");
  v->add_option("--ak", opts->ak, "AK public key: PEM, or TPM2B_PUBLIC / TPMT_PUBLIC")->required();
  v->add_option("--msg", opts->msg, "Marshalled TPMS_ATTEST (tpm2_quote -m)")->required();
  v->add_option("--sig", opts->sig, "Marshalled TPMT_SIGNATURE (tpm2_quote -s)")->required();
  v->add_option("--nonce", opts->nonce, "The nonce the verifier chose, hex")->required();
  v->add_option("--pcrs", opts->pcrs, "PCR values, {\"pcrs\": {\"sha256\": {\"0\": hex}}}");
  v->add_option("--eventlog", opts->eventlog,
                "TCG event log: the quoted PCRs must equal its replay");
  v->add_option("--reference", opts->reference,
                "Reference values {\"pcrs\": ..., \"digests\": ...} (eventlog reference): "
                "quoted PCRs must match; a mismatch names the first unknown event");
  v->add_flag("--json", opts->json, "Print the verdict and the quote's claims as JSON");
  v->callback([&ctx, opts] { ctx.exit_code = verify(*opts); });
  register_tpm_attester(*cmd, ctx);
  register_tpm_verifier(*cmd, ctx);
}

}  // namespace concierge::cli
