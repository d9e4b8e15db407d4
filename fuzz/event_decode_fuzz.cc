// libFuzzer target for decode_event: the first 4 bytes (little-endian) are
// the event type, the rest the event data. Decoding must never crash, and the
// JSON details must always serialise (every string valid UTF-8).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "concierge/measure/event_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  concierge::measure::Event event;
  event.type = static_cast<std::uint32_t>(data[0]) | (static_cast<std::uint32_t>(data[1]) << 8) |
               (static_cast<std::uint32_t>(data[2]) << 16) |
               (static_cast<std::uint32_t>(data[3]) << 24);
  // Steer most inputs to the types that have decoders (0x00..0x1F and
  // 0x80000000..0x800000FF) while still trying arbitrary ones.
  if ((event.type & 0x7FFFFF00u) != 0 && (event.type & 0x3u) != 0) {
    event.type = (event.type & 0x80000000u) | (event.type & 0xFFu);
  }
  event.data = concierge::ByteView(data + 4, size - 4);
  concierge::measure::DecodedEvent decoded = concierge::measure::decode_event(event);
  if (!decoded.details.is_object()) std::abort();
  (void)decoded.details.dump();  // throws (and so aborts) on invalid UTF-8
  std::vector<std::uint8_t> path(data + 4, data + size);
  (void)concierge::measure::describe_device_path(path);
  (void)concierge::measure::format_guid(event.data.first(std::min<std::size_t>(16, size - 4)));
  return 0;
}
