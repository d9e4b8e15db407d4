// libFuzzer target: parse_reference_values (reference values JSON). Parsing
// must never crash; an error is kMalformed and says where (a path or an
// offset); whatever parses must survive reference_values_json and parse back
// to the same values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "concierge/measure/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = measure::parse_reference_values(text);
  if (!ref) {
    const Error& e = ref.error();
    if (e.code != Errc::kMalformed) __builtin_trap();
    if (e.offset && *e.offset > size) __builtin_trap();
    if (e.to_string().find('\n') != std::string::npos) __builtin_trap();  // one line
    return 0;
  }
  if (ref->pcrs.empty() && ref->digests.empty()) __builtin_trap();
  // Keys and values of a parsed reference are hex and bank names: plain ASCII,
  // so dump() cannot throw.
  std::string again = measure::reference_values_json(*ref).dump();
  auto reparsed = measure::parse_reference_values(again);
  if (!reparsed || reparsed->pcrs != ref->pcrs || reparsed->digests != ref->digests) {
    __builtin_trap();
  }
  return 0;
}
