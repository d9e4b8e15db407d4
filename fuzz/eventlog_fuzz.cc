// libFuzzer target: TCG event log parsing, replay, decoding and diff.
#include <cstddef>
#include <cstdint>

#include "concierge/measure/event_decode.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_diff.h"
#include "concierge/measure/replay.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::measure;
  auto log = parse_event_log(concierge::ByteView(data, size));
  if (!log) {
    // Every error must say where.
    if (!log.error().offset) __builtin_trap();
    return 0;
  }
  auto result = replay(*log);
  (void)result;
  for (const auto& e : log->events) {
    if (e.offset + e.data.size() > size) __builtin_trap();
    (void)decode_event(e);
  }
  (void)diff_event_logs(*log, *log);
  return 0;
}
