// Where two event logs part: the first event that differs (PCR, type,
// digests or data) — for two boots of one chain, the substituted stage — and
// which replayed PCRs differ in the end. Pure function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "concierge/measure/event_log.h"

namespace concierge::measure {

struct LogDiff {
  bool identical = true;
  std::size_t index = 0;     // first differing event
  const Event* a = nullptr;  // that event in each log; nullptr past its end
  const Event* b = nullptr;
  std::string reason;                       // "sha256 digest differs", "log B ends", ...
  std::vector<std::string> differing_pcrs;  // "sha256:4", ... after replay
};

// The returned pointers view into `a` and `b`, which must outlive the result.
LogDiff diff_event_logs(const EventLog& a, const EventLog& b);

}  // namespace concierge::measure
