#include "concierge/measure/event_log_diff.h"

#include <algorithm>

#include "concierge/core/digest.h"
#include "concierge/measure/replay.h"

namespace concierge::measure {
namespace {

bool same_bytes(ByteView x, ByteView y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

// Empty when the events are the same; otherwise what differs first.
std::string event_difference(const Event& a, const Event& b) {
  if (a.pcr != b.pcr) return "PCR index differs";
  if (a.type != b.type) return "event type differs";
  for (const auto& da : a.digests) {
    const EventDigest* db = b.digest_for(da.alg_id);
    if (db == nullptr) continue;
    if (!same_bytes(da.value, db->value)) {
      auto alg = hash_from_tcg_id(da.alg_id);
      return std::string(alg ? hash_name(*alg) : "unknown-algorithm") +
             " digest differs (the measured content changed)";
    }
  }
  if (!same_bytes(a.data, b.data)) return "event data differs";
  return {};
}

}  // namespace

LogDiff diff_event_logs(const EventLog& a, const EventLog& b) {
  LogDiff out;
  std::size_t n = std::max(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < n; ++i) {
    const Event* ea = i < a.events.size() ? &a.events[i] : nullptr;
    const Event* eb = i < b.events.size() ? &b.events[i] : nullptr;
    std::string why;
    if (ea == nullptr) {
      why = "log A ends; log B has more events";
    } else if (eb == nullptr) {
      why = "log B ends; log A has more events";
    } else {
      why = event_difference(*ea, *eb);
    }
    if (!why.empty()) {
      out.identical = false;
      out.index = i;
      out.a = ea;
      out.b = eb;
      out.reason = std::move(why);
      break;
    }
  }
  auto ra = replay(a, ReplayOptions{false});
  auto rb = replay(b, ReplayOptions{false});
  if (ra && rb) {
    for (const auto& bank : ra->banks) {
      const PcrBank* other = rb->bank(bank.alg());
      if (other == nullptr) continue;
      for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) {
        if (!same_bytes(bank.value(pcr), other->value(pcr))) {
          out.differing_pcrs.push_back(std::string(hash_name(bank.alg())) + ":" +
                                       std::to_string(pcr));
        }
      }
    }
  }
  return out;
}

}  // namespace concierge::measure
