// The TPM 2.0 entry of the evidence table: a quote (TPMS_ATTEST) with its
// signature, AK and PCR values as endorsements, and the firmware event log.
#include <algorithm>
#include <map>
#include <string>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/pcr_bank.h"
#include "concierge/measure/reference.h"
#include "concierge/measure/replay.h"
#include "concierge/verifier/evidence_verifier.h"
#include "verifier/evidence_internal.h"

namespace concierge::verifier {
namespace {

namespace tpm = evidence::tpm;
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

Result<PcrValues> pcrs_of(const nlohmann::json& e) {
  const auto it = e.find("pcrs");
  if (it == e.end() || !it->is_object()) {
    return fail(Errc::kMalformed, "endorsements.pcrs (bank -> PCR -> hex) is required for TPM");
  }
  PcrValues out;
  for (const auto& [bank_name, bank] : it->items()) {
    const auto alg = hash_from_name(bank_name);
    if (!alg || !bank.is_object()) {
      return fail(Errc::kMalformed, "endorsements.pcrs." + bank_name + ": not a bank");
    }
    for (const auto& [index, value] : bank.items()) {
      const bool digits = !index.empty() && index.size() <= 2 &&
                          index.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoul(index) > 23 || !value.is_string()) {
        return fail(Errc::kMalformed, "endorsements.pcrs." + bank_name + "." + index);
      }
      auto bytes = hex_decode(value.get<std::string>());
      if (!bytes || bytes->size() != digest_size(*alg)) {
        return fail(Errc::kMalformed, "endorsements.pcrs." + bank_name + "." + index + ": not a " +
                                          std::string(hash_name(*alg)) + " digest");
      }
      out[*alg][static_cast<unsigned>(std::stoul(index))] = std::move(*bytes);
    }
  }
  return out;
}

Result<PublicKey> ak_of(const nlohmann::json& e) {
  CONCIERGE_ASSIGN_OR_RETURN(auto text, optional_text(e, "ak"));
  if (!text) return fail(Errc::kMalformed, "endorsements.ak is required for TPM");
  if (text->find("-----BEGIN") != std::string::npos) return PublicKey::from_pem(*text);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes der, base64_decode(*text));
  return tpm::parse_ak_public(der);
}

// "log": the event log replayed and compared with the quoted PCR values:
// every PCR of every bank the quote selects (compare_with_replay).
Result<nlohmann::json> log_claims(ByteView log_bytes, const tpm::ParsedQuote& q,
                                  const PcrValues& pcrs, const VerifierContext& ctx) {
  CONCIERGE_ASSIGN_OR_RETURN(measure::EventLog log, measure::parse_event_log(log_bytes));
  CONCIERGE_ASSIGN_OR_RETURN(measure::ReplayResult replayed, measure::replay(log));
  std::vector<RegisterReplay> registers;
  for (const tpm::PcrSelection& sel : q.selections) {
    const measure::PcrBank* bank = replayed.bank(sel.bank);
    const auto bank_values = pcrs.find(sel.bank);
    for (unsigned pcr : sel.pcrs) {
      RegisterReplay r;
      r.name = std::string(hash_name(sel.bank)) + " PCR " + std::to_string(pcr);
      if (bank_values != pcrs.end()) {
        if (const auto v = bank_values->second.find(pcr); v != bank_values->second.end()) {
          r.quoted = v->second;
        }
      }
      if (bank != nullptr) {
        const ByteView value = bank->value(pcr);
        r.replayed.assign(value.begin(), value.end());
      }
      for (const measure::Event& ev : log.events) {
        if (ev.pcr == pcr && ev.type != measure::event_type::kNoAction) ++r.events;
      }
      registers.push_back(std::move(r));
    }
  }
  nlohmann::json out = compare_with_replay(registers, "event log");
  if (ctx.known_event_digests && !q.selections.empty()) {
    // Every event of the log, in every selected bank, and also the events of
    // PCRs the quote does not cover (judged in the first selected bank):
    // the attester cannot hide an event from the allowlist by leaving its
    // PCR out of the selection.
    nlohmann::json unknown = nlohmann::json::array();
    for (const measure::Event& ev : log.events) {
      if (ev.type == measure::event_type::kNoAction) continue;
      const tpm::PcrSelection* covering = nullptr;
      for (const tpm::PcrSelection& sel : q.selections) {
        if (std::find(sel.pcrs.begin(), sel.pcrs.end(), ev.pcr) != sel.pcrs.end()) {
          covering = &sel;
          break;
        }
      }
      const HashAlg bank = covering ? covering->bank : q.selections.front().bank;
      const measure::EventDigest* dg = ev.digest_for(static_cast<std::uint16_t>(bank));
      if (dg == nullptr || ctx.known_event_digests->count(hex_encode(dg->value)) > 0) continue;
      unknown.push_back(event_json(
          "pcr" + std::to_string(ev.pcr), ev.index,
          measure::describe_event(ev) + (covering ? "" : " (in a PCR the quote does not cover)"),
          dg->value));
    }
    out["unknown_events"] = std::move(unknown);
  }
  return out;
}

}  // namespace

Result<VerifiedEvidence> verify_tpm_evidence(const DeviceEvidence& d, const VerifierContext& ctx) {
  CONCIERGE_ASSIGN_OR_RETURN(auto signature, optional_base64(d.endorsements, "signature"));
  if (!signature) return fail(Errc::kMalformed, "endorsements.signature is required for TPM");
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey ak, ak_of(d.endorsements));
  CONCIERGE_ASSIGN_OR_RETURN(PcrValues pcrs, pcrs_of(d.endorsements));
  CONCIERGE_ASSIGN_OR_RETURN(tpm::ParsedQuote parsed, tpm::parse_quote(d.evidence));
  // The nonce is checked by the binding (binding.h), not here.
  CONCIERGE_ASSIGN_OR_RETURN(tpm::QuoteCheck check, tpm::verify_quote(d.evidence, *signature, ak,
                                                                      parsed.extra_data, &pcrs));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes spki, ak.to_der());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes ak_digest, digest(HashAlg::kSha256, spki));

  // Genuine hardware, outside any policy: the AK must be an enrolled one
  // (enrolment proved that it is a restricted signing key of a TPM whose EK
  // chains to its manufacturer). A quote that verifies under a key the
  // attester merely supplied proves nothing about hardware.
  const std::string signer = "ak:" + hex_encode(ak_digest);
  Verdict verdict = check.verdict;
  if (verdict.accepted && (!ctx.enrolled_keys || ctx.enrolled_keys->count(signer) == 0)) {
    verdict = Verdict::reject("the quote is signed by " + signer +
                              ", which is not an enrolled AK (tpm.ak)");
  }
  // The PCRs the owner requires, in the bank the registers are read from.
  for (const std::string& required : ctx.required_registers) {
    if (!verdict.accepted) break;
    const bool quoted =
        !parsed.selections.empty() &&
        std::any_of(parsed.selections.front().pcrs.begin(), parsed.selections.front().pcrs.end(),
                    [&](unsigned pcr) { return std::to_string(pcr) == required; });
    if (!quoted) {
      verdict = Verdict::reject("the quote does not cover PCR " + required.substr(0, 8) +
                                " of its first bank, which the owner requires (tpm.required_pcr)");
    }
  }

  VerifiedEvidence out;
  out.verdict = verdict;
  out.report_data = parsed.extra_data;
  nlohmann::json registers = nlohmann::json::object();
  nlohmann::json native = {{"extra_data", hex_encode(parsed.extra_data)},
                           {"clock", parsed.clock},
                           {"reset_count", parsed.reset_count},
                           {"restart_count", parsed.restart_count},
                           {"safe", parsed.safe},
                           {"firmware_version", parsed.firmware_version},
                           {"pcr_digest", hex_encode(parsed.pcr_digest)}};
  // Every PCR of the quoted bank, null for those the quote does not select:
  // the attester chooses the selection, so a PCR with reference values that
  // it left out is there to be found missing (policy.h, each_in_refs).
  for (unsigned pcr = 0; pcr < measure::kPcrCount; ++pcr) {
    registers["pcr" + std::to_string(pcr)] = nullptr;
  }
  if (!parsed.selections.empty()) {
    const tpm::PcrSelection& sel = parsed.selections.front();
    native["bank"] = hash_name(sel.bank);
    const auto bank = pcrs.find(sel.bank);
    for (unsigned pcr : sel.pcrs) {
      if (bank == pcrs.end()) break;
      const auto value = bank->second.find(pcr);
      if (value != bank->second.end()) {
        registers["pcr" + std::to_string(pcr)] = hex_encode(value->second);
      }
    }
  }
  nlohmann::json n = {{"tee", "tpm"},
                      {"evidence_verified", verdict.accepted},
                      {"vendor_chain", verdict.accepted},
                      {"registers", registers},
                      {"report_data", hex_encode(parsed.extra_data)},
                      {"signer", signer},
                      {"native", native}};
  if (d.event_log && verdict.accepted) {
    CONCIERGE_ASSIGN_OR_RETURN(n["log"], log_claims(*d.event_log, parsed, pcrs, ctx));
  }
  if (!verdict.accepted) n["reason"] = verdict.reason;
  out.normalized = std::move(n);
  return out;
}

}  // namespace concierge::verifier
