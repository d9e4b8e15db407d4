// libFuzzer target: the strict hex, base64 and base64url decoders. Whatever
// decodes must re-encode to the canonical form of the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "concierge/core/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto hex = hex_decode(text)) {
    std::string again = hex_encode(*hex);
    if (again.size() != text.size()) __builtin_trap();
  }
  if (auto b64 = base64_decode(text)) {
    if (base64_encode(*b64) != text) __builtin_trap();
  }
  if (auto b64u = base64url_decode(text)) {
    auto again = base64url_decode(base64url_encode(*b64u));
    if (!again || *again != *b64u) __builtin_trap();
  }
  return 0;
}
