// Byte-string vocabulary shared by every module.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace concierge {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline std::string_view as_chars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Constant-time equality for secrets and MACs (OpenSSL CRYPTO_memcmp).
bool equal_constant_time(ByteView a, ByteView b);

// Overwrites the buffer with zeros in a way the compiler may not elide
// (OpenSSL OPENSSL_cleanse). Use on secrets before their storage is freed.
void wipe(std::span<std::uint8_t> secret);

}  // namespace concierge
