// Reference values from a known-good log, and the appraisal of PCR values
// against them (see reference.h).

// GCC 12 at -O3 reports a false -Wstringop-overread inside std::vector's
// operator<=> once std::set<Bytes>::insert is inlined here (the bound it
// complains about is a size_t it cannot prove non-negative as a ptrdiff_t).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

#include "concierge/measure/reference.h"

#include <algorithm>
#include <cstdint>

#include "concierge/measure/event_decode.h"
#include "concierge/measure/event_types.h"

namespace concierge::measure {
namespace {

std::uint16_t alg_id(HashAlg bank) { return static_cast<std::uint16_t>(bank); }

bool same(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

const Bytes* find_value(const std::map<HashAlg, std::map<unsigned, Bytes>>& values, HashAlg bank,
                        unsigned pcr) {
  auto b = values.find(bank);
  if (b == values.end()) return nullptr;
  auto v = b->second.find(pcr);
  return v == b->second.end() ? nullptr : &v->second;
}

std::string pcr_label(HashAlg bank, unsigned pcr) {
  return std::string(hash_name(bank)) + " PCR " + std::to_string(pcr);
}

}  // namespace

ReferenceValues reference_from_log(const EventLog& log, const ReplayResult& replayed) {
  ReferenceValues out;
  for (const PcrBank& bank : replayed.banks) {
    if (bank.any_touched()) {
      auto& values = out.pcrs[bank.alg()];
      for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) {
        if (!bank.touched(pcr)) continue;
        ByteView v = bank.value(pcr);
        values[pcr] = Bytes(v.begin(), v.end());
      }
    }
    auto& digests = out.digests[bank.alg()];
    for (const Event& e : log.events) {
      if (e.type == event_type::kNoAction) continue;
      if (const EventDigest* d = e.digest_for(alg_id(bank.alg()))) {
        digests.emplace(d->value.begin(), d->value.end());
      }
    }
  }
  return out;
}

const Event* first_unknown_event(const EventLog& log, HashAlg bank, unsigned pcr,
                                 const ReferenceValues& ref) {
  auto known = ref.digests.find(bank);
  if (known == ref.digests.end()) return nullptr;
  Bytes scratch;
  for (const Event& e : log.events) {
    if (e.pcr != pcr || e.type == event_type::kNoAction) continue;
    const EventDigest* d = e.digest_for(alg_id(bank));
    if (d == nullptr) continue;  // not extended into this bank
    scratch.assign(d->value.begin(), d->value.end());
    if (known->second.count(scratch) == 0) return &e;
  }
  return nullptr;
}

std::string describe_event(const Event& event) {
  std::string out =
      "#" + std::to_string(event.index) + " " + std::string(event_type::name(event.type));
  std::string summary = decode_event(event).summary;
  if (!summary.empty()) out += " " + summary;
  return out;
}

std::string ReferenceCoverage::describe() const {
  return std::to_string(values) + " PCR value" + (values == 1 ? "" : "s") + ", " +
         std::to_string(digest_checked_pcrs) + " PCR" + (digest_checked_pcrs == 1 ? "'s" : "s'") +
         " events";
}

ReferenceCoverage reference_coverage(
    const std::vector<std::pair<HashAlg, std::vector<unsigned>>>& selection,
    const ReferenceValues& ref, bool with_log) {
  ReferenceCoverage c;
  for (const auto& [bank, pcrs] : selection) {
    const bool digests = with_log && ref.digests.count(bank) > 0;
    for (unsigned pcr : pcrs) {
      if (find_value(ref.pcrs, bank, pcr) != nullptr) ++c.values;
      if (digests) ++c.digest_checked_pcrs;
    }
  }
  return c;
}

Verdict appraise_pcrs(const std::vector<std::pair<HashAlg, std::vector<unsigned>>>& selection,
                      const std::map<HashAlg, std::map<unsigned, Bytes>>& actual,
                      const ReferenceValues& ref, const EventLog* log) {
  if (reference_coverage(selection, ref, log != nullptr).empty()) {
    std::string selected;
    for (const auto& [bank, pcrs] : selection) {
      selected += (selected.empty() ? "" : "; ") + std::string(hash_name(bank)) + ":";
      for (std::size_t i = 0; i < pcrs.size(); ++i) {
        selected += (i ? ", " : " ") + std::to_string(pcrs[i]);
      }
    }
    return Verdict::reject(
        "nothing was compared: the reference values hold no value or digest for the selected "
        "banks and PCRs (" +
        selected + ")");
  }
  for (const auto& [bank, pcrs] : selection) {
    const auto values = ref.pcrs.find(bank);
    if (values == ref.pcrs.end()) continue;
    for (const auto& [pcr, value] : values->second) {
      if (std::find(pcrs.begin(), pcrs.end(), pcr) == pcrs.end()) {
        return Verdict::reject(pcr_label(bank, pcr) +
                               " has a reference value but the evidence does not report it");
      }
    }
  }
  for (const auto& [bank, pcrs] : selection) {
    for (unsigned pcr : pcrs) {
      if (const Bytes* expected = find_value(ref.pcrs, bank, pcr)) {
        const Bytes* value = find_value(actual, bank, pcr);
        if (value == nullptr) {
          return Verdict::reject(pcr_label(bank, pcr) +
                                 " has no value to compare with the reference value");
        }
        if (!same(*value, *expected)) {
          std::string why = pcr_label(bank, pcr) + " differs from the reference value";
          if (const Event* e = log ? first_unknown_event(*log, bank, pcr, ref) : nullptr) {
            why += "; first event not among the reference digests: " + describe_event(*e);
          }
          return Verdict::reject(std::move(why));
        }
      }
      if (const Event* e = log ? first_unknown_event(*log, bank, pcr, ref) : nullptr) {
        return Verdict::reject(pcr_label(bank, pcr) + ": event " + describe_event(*e) +
                               " is not among the reference digests");
      }
    }
  }
  return Verdict::accept();
}

}  // namespace concierge::measure
