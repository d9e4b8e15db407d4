// libFuzzer target: parse_envelope (the attester's evidence envelope, JSON
// text). Parsing must never crash and fails only with kMalformed; whatever
// parses must survive envelope_json and parse back to an envelope that writes
// the same JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "concierge/verifier/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto envelope = verifier::parse_envelope(text);
  if (!envelope) {
    const Error& e = envelope.error();
    if (e.code != Errc::kMalformed) __builtin_trap();
    if (e.offset && *e.offset > size) __builtin_trap();
    return 0;
  }
  if (envelope->primary.tee.empty() || envelope->primary.evidence.empty()) __builtin_trap();
  const nlohmann::json written = verifier::envelope_json(*envelope);
  // Every string in the envelope came out of nlohmann's parser (which accepts
  // only well-formed UTF-8) or out of base64_encode: dump() cannot throw.
  const std::string again = written.dump();
  auto reparsed = verifier::parse_envelope(std::string_view(again));
  if (!reparsed) __builtin_trap();
  if (verifier::envelope_json(*reparsed) != written) __builtin_trap();
  if (reparsed->additional_devices.size() != envelope->additional_devices.size()) __builtin_trap();
  return 0;
}
