// Replay of a TDX CCEL event log into RTMR0-3, its comparison with a quote,
// and its appraisal against reference values; see ccel.h.
#include "concierge/evidence/dcap/ccel.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::evidence::dcap {
namespace {

namespace et = measure::event_type;

constexpr auto kSha384 = HashAlg::kSha384;
constexpr std::uint16_t kSha384Id = static_cast<std::uint16_t>(HashAlg::kSha384);
constexpr std::uint32_t kLastRtmrIndex = kCcMrIndexRtmr0 + kRtmrCount - 1;  // 4
// TCG_PCClientPCREvent header before the Spec ID data: pcrIndex, eventType,
// digest[20], eventDataSize.
constexpr std::size_t kSpecIdDataOffset = 32;

std::string rtmr_name(std::size_t i) { return "RTMR" + std::to_string(i); }

bool is_rtmr_index(std::uint32_t mr) { return mr >= kCcMrIndexRtmr0 && mr <= kLastRtmrIndex; }

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

// The log with RTMR numbers in the pcr field (CC MR index - 1), and only the
// events of MR indices 1-4, for the reference-value functions. Event::index
// and the views are unchanged: describe_event still names the CCEL event.
measure::EventLog rtmr_numbered(const measure::EventLog& log) {
  measure::EventLog out = log;  // shares the storage the events view into
  out.events.clear();
  for (const measure::Event& e : log.events) {
    if (!is_rtmr_index(e.pcr)) continue;
    measure::Event copy = e;
    copy.pcr -= kCcMrIndexRtmr0;
    out.events.push_back(copy);
  }
  return out;
}

// appraise_pcrs names "sha384 PCR i"; here i is an RTMR (reference.h documents
// the reason formats: "<bank> PCR <n> ..." and "<bank> PCR <n>: ...").
std::string rtmr_reason(std::string reason) {
  const std::string prefix = std::string(hash_name(kSha384)) + " PCR ";
  if (reason.compare(0, prefix.size(), prefix) == 0) reason.replace(0, prefix.size(), "RTMR");
  return reason;
}

}  // namespace

Result<RtmrReplay> replay_ccel(ByteView log_bytes) {
  RtmrReplay out;
  CONCIERGE_ASSIGN_OR_RETURN(out.log, measure::parse_event_log(log_bytes));
  const measure::EventLog& log = out.log;
  if (log.format != measure::LogFormat::kCryptoAgile || !log.spec_id) {
    return fail_at(Errc::kMalformed, "SpecIdEvent", 0,
                   "a CCEL log is a crypto-agile log; this one has no Spec ID Event03 header");
  }
  const auto& algs = log.spec_id->algorithms;
  if (std::none_of(algs.begin(), algs.end(),
                   [](const measure::AlgorithmSize& a) { return a.alg_id == kSha384Id; })) {
    return fail_at(Errc::kUnsupported, "SpecIdEvent.digestSizes",
                   log.events.front().offset + kSpecIdDataOffset,
                   "the log carries no SHA-384 digests, which RTMRs are extended with");
  }
  out.events = log.events.size();
  for (const measure::Event& e : log.events) {
    if (e.type == et::kNoAction) {
      ++out.no_action_events;
      continue;
    }
    if (e.pcr == kCcMrIndexMrtd) {
      ++out.mrtd_events;
      continue;
    }
    const std::string label =
        "event #" + std::to_string(e.index) + " " + std::string(et::name(e.type));
    if (!is_rtmr_index(e.pcr)) {
      return fail_at(
          Errc::kMalformed, "MrIndex", e.offset,
          label + ": CC MR index " + std::to_string(e.pcr) + " is not 0-4 (MRTD, RTMR0-RTMR3)");
    }
    const std::size_t rtmr = e.pcr - kCcMrIndexRtmr0;
    if (e.digest_for(kSha384Id) == nullptr) {
      return fail_at(Errc::kMalformed, "digests", e.offset,
                     label + " is for " + rtmr_name(rtmr) + " but carries no SHA-384 digest");
    }
    ++out.rtmr_events[rtmr];
  }

  // The bank is numbered by CC MR index: RTMR i is its register i + 1, which
  // starts at zero (pcr_bank.h: registers 0-16 reset to zero).
  CONCIERGE_ASSIGN_OR_RETURN(measure::ReplayResult replayed, measure::replay(log));
  const measure::PcrBank* bank = replayed.bank(kSha384);
  if (bank == nullptr) {
    return fail(Errc::kInternal, "replay produced no SHA-384 bank for a log that lists SHA-384");
  }
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    ByteView v = bank->value(static_cast<unsigned>(i + kCcMrIndexRtmr0));
    std::copy(v.begin(), v.end(), out.rtmr[i].begin());
  }
  out.warnings = std::move(replayed.warnings);
  return out;
}

Verdict check_rtmrs(const RtmrReplay& replay, const TdReportBody& body) {
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    if (replay.rtmr[i] == body.rtmr[i]) continue;
    return Verdict::reject(rtmr_name(i) + " differs: the quote has " + hex_of(body.rtmr[i]) +
                           ", the CCEL log replays to " + hex_of(replay.rtmr[i]) + " (" +
                           std::to_string(replay.rtmr_events[i]) + " events)");
  }
  return Verdict::accept();
}

nlohmann::json rtmr_replay_json(const RtmrReplay& replay) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    j["rtmr" + std::to_string(i)] = hex_of(replay.rtmr[i]);
  }
  j["events"] = replay.events;
  j["rtmr_events"] = replay.rtmr_events;
  j["mrtd_events"] = replay.mrtd_events;
  j["no_action_events"] = replay.no_action_events;
  j["padding"] = replay.log.padding;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& w : replay.warnings) warnings.push_back(w.to_string());
  j["warnings"] = std::move(warnings);
  return j;
}

Verdict appraise_rtmrs(const RtmrReplay& replay, const measure::ReferenceValues& ref) {
  std::map<HashAlg, std::map<unsigned, Bytes>> actual;
  std::vector<unsigned> rtmrs;
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    actual[kSha384][static_cast<unsigned>(i)] = Bytes(replay.rtmr[i].begin(), replay.rtmr[i].end());
    rtmrs.push_back(static_cast<unsigned>(i));
  }
  const measure::EventLog log = rtmr_numbered(replay.log);
  Verdict v = measure::appraise_pcrs({{kSha384, rtmrs}}, actual, ref, &log);
  if (!v.accepted) v.reason = rtmr_reason(std::move(v.reason));
  return v;
}

measure::ReferenceValues rtmr_reference_values(const RtmrReplay& replay) {
  // reference_from_log collects the digests of every event of the RTMR-numbered
  // log (MRTD events left out) for the banks it is given; an untouched bank
  // contributes no values, which come from the replay instead.
  measure::ReplayResult sha384_only;
  sha384_only.banks.emplace_back(kSha384);
  measure::ReferenceValues out =
      measure::reference_from_log(rtmr_numbered(replay.log), sha384_only);
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    if (replay.rtmr_events[i] == 0) continue;
    out.pcrs[kSha384][static_cast<unsigned>(i)] =
        Bytes(replay.rtmr[i].begin(), replay.rtmr[i].end());
  }
  return out;
}

}  // namespace concierge::evidence::dcap
