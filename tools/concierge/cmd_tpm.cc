// concierge tpm verify-quote: a TPM 2.0 quote checked against its AK, the
// verifier's nonce, and the PCR values (given, or replayed from the event
// log). File formats as tpm2-tools writes them (tpm2_quote -m / -s).
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/replay.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

struct VerifyOptions {
  std::string ak;
  std::string msg;
  std::string sig;
  std::string nonce;
  std::string pcrs;
  std::string eventlog;
  bool json = false;
};

// {"pcrs": {"sha256": {"0": "<hex>", ...}, ...}}, as `eventlog replay --json`.
Result<PcrValues> parse_pcrs_json(ByteView text) {
  auto j = nlohmann::json::parse(as_chars(text), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("pcrs") || !j["pcrs"].is_object()) {
    return fail(Errc::kMalformed, "expected {\"pcrs\": {\"<bank>\": {\"<index>\": \"<hex>\"}}}");
  }
  PcrValues out;
  for (const auto& [bank, pcrs] : j["pcrs"].items()) {
    auto alg = hash_from_name(bank);
    if (!alg) return fail(Errc::kMalformed, "unknown bank \"" + bank + "\"");
    if (!pcrs.is_object()) return fail(Errc::kMalformed, "bank " + bank + " is not an object");
    for (const auto& [index, value] : pcrs.items()) {
      unsigned pcr = 0;
      for (char c : index) {
        if (c < '0' || c > '9' || pcr > 23) return fail(Errc::kMalformed, "bad PCR index " + index);
        pcr = pcr * 10 + static_cast<unsigned>(c - '0');
      }
      if (index.empty() || pcr >= measure::kPcrCount || !value.is_string()) {
        return fail(Errc::kMalformed, "bad PCR entry " + bank + ":" + index);
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes v, hex_decode(value.get<std::string>()));
      if (v.size() != digest_size(*alg)) {
        return fail(Errc::kMalformed, bank + ":" + index + " has the wrong size");
      }
      out[*alg][pcr] = std::move(v);
    }
  }
  return out;
}

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

int emit(const VerifyOptions& o, const Verdict& v, const evidence::tpm::ParsedQuote* q) {
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
  } else if (v.accepted) {
    std::printf("quote verified\n");
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
  std::optional<measure::ReplayResult> replayed;
  if (!o.eventlog.empty()) {
    auto data = read_file(o.eventlog);
    if (!data) return report(o.eventlog, data.error());
    auto log = measure::parse_event_log(std::move(*data));
    if (!log) return report(o.eventlog, log.error());
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

  auto check = evidence::tpm::verify_quote(*msg, *sig, *ak, *nonce, given ? &*given : nullptr);
  if (!check) return report("quote", check.error());
  if (check->verdict.accepted && replayed && !o.pcrs.empty()) {
    std::string mismatch = compare_with_replay(check->quote, *given, *replayed);
    if (!mismatch.empty()) check->verdict = Verdict::reject(mismatch);
  }
  return emit(o, check->verdict, &check->quote);
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
  v->add_flag("--json", opts->json, "Print the verdict and the quote's claims as JSON");
  v->callback([&ctx, opts] { ctx.exit_code = verify(*opts); });
}

}  // namespace concierge::cli
