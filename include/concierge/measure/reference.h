// Reference values for measured boot: the PCR values a known-good platform
// reaches and/or the set of known-good event digests, per bank, and the
// appraisal of quoted (or replayed) PCRs against them.
//
// JSON form (parse_reference_values / reference_values_json):
//   {"pcrs":    {"sha256": {"0": "<hex>", "7": "<hex>", ...}, ...},
//    "digests": {"sha256": ["<hex>", ...], ...}}
// Both keys are optional, but at least one PCR value or one digest bank must
// be given. Parsing is strict: an unknown key or bank, a PCR index that is
// not 0-23 in canonical decimal, a value that is not hex of the bank's digest
// size, and JSON that is not an object of that shape are kMalformed, with
// Error::field naming the path ("pcrs.sha256.9", "digests.sha256[3]") and,
// for JSON syntax errors, Error::offset the byte offset where parsing failed.
// Digest lists are sets: order and duplicates do not matter.
//
// Appraisal contract: appraise_pcrs trusts `actual` (the PCR values the
// signature covers) and uses the event log only to *explain* a mismatch and
// to check event digests. The caller must first have established that the
// log replays to `actual` (e.g. the quote's PCR digest over the log's replay);
// a log that does not is not evidence of anything. A selected (bank, PCR)
// for which `ref` holds neither a value nor a digest set for its bank is not
// constrained. But the reference values decide what must be covered, not
// the evidence: a PCR with a reference value in a selected bank that the
// selection leaves out is rejected, and an appraisal that compares nothing
// at all (no reference value or digest bank for anything selected) is
// rejected too, never a silent success.
//
// Ownership: ReferenceValues is a plain value type. Events returned by
// first_unknown_event point into the EventLog passed in, which must outlive
// the pointer. Thread safety: every function is a pure function of its
// arguments; concurrent calls are safe.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/replay.h"

namespace concierge::measure {

struct ReferenceValues {
  std::map<HashAlg, std::map<unsigned, Bytes>> pcrs;  // bank -> PCR -> expected value
  std::map<HashAlg, std::set<Bytes>> digests;         // bank -> known-good event digests
};

// Parses the JSON form above (UTF-8 text).
Result<ReferenceValues> parse_reference_values(std::string_view json_text);

// The JSON form above. "pcrs" is left out when `ref.pcrs` is empty and
// "digests" when `ref.digests` is empty; digests are listed in ascending byte
// order, so the output is canonical.
nlohmann::json reference_values_json(const ReferenceValues& ref);

// From a known-good log and its replay: the replayed value of every PCR the
// log extended (per bank of `replayed`), and, for every bank of `replayed`,
// the digest of every event the log extends (EV_NO_ACTION excluded; a bank
// no event carries a digest for gets an empty set).
ReferenceValues reference_from_log(const EventLog& log, const ReplayResult& replayed);

// The first event (in log order) extended into `pcr` of `bank` — not
// EV_NO_ACTION, and carrying a `bank` digest — whose digest is not among
// ref.digests[bank]. nullptr when every such event is known, or when
// ref.digests has no entry for `bank`.
const Event* first_unknown_event(const EventLog& log, HashAlg bank, unsigned pcr,
                                 const ReferenceValues& ref);

// "#12 EV_IPL /boot/vmlinuz": index, type name and decoded summary.
std::string describe_event(const Event& event);

// What appraise_pcrs compares for `selection`: reference PCR values of
// selected PCRs, and selected PCRs whose events are checked against a digest
// bank (only with a log).
struct ReferenceCoverage {
  std::size_t values = 0;
  std::size_t digest_checked_pcrs = 0;
  bool empty() const { return values == 0 && digest_checked_pcrs == 0; }
  // "3 PCR values, 2 PCRs' events" (what a "verified" line says it compared).
  std::string describe() const;
};
ReferenceCoverage reference_coverage(
    const std::vector<std::pair<HashAlg, std::vector<unsigned>>>& selection,
    const ReferenceValues& ref, bool with_log);

// Appraises PCR values against `ref`. First, when the coverage is empty:
//       "nothing was compared: the reference values hold no value or digest
//        for the selected banks and PCRs (sha1: 0, 7)";
// then a reference value of a selected bank's PCR that is not selected:
//       "sha256 PCR 4 has a reference value but the evidence does not report it".
// Then for each (bank, PCR) of `selection`, in order, the first failure rejects:
//  1. ref.pcrs has a value for it and `actual` (bank -> PCR -> value) has no
//     value or a different one:
//       "sha256 PCR 9 differs from the reference value"
//     followed, when `log` is given and first_unknown_event finds an event, by
//       "; first event not among the reference digests: #12 EV_IPL /boot/vmlinuz"
//     (a missing actual value is "sha256 PCR 9 has no value to compare with
//     the reference value");
//  2. otherwise, ref.digests has the bank, `log` is given, and an event
//     extended into that PCR has an unknown digest:
//       "sha256 PCR 9: event #12 EV_IPL /boot/vmlinuz is not among the
//        reference digests".
// Accepts otherwise. `log` may be null (no digest check, no explanation).
Verdict appraise_pcrs(const std::vector<std::pair<HashAlg, std::vector<unsigned>>>& selection,
                      const std::map<HashAlg, std::map<unsigned, Bytes>>& actual,
                      const ReferenceValues& ref, const EventLog* log);

}  // namespace concierge::measure
