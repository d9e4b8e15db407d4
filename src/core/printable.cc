#include "concierge/core/printable.h"

#include <algorithm>
#include <cstdint>

namespace concierge {
namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) and its code
// point; 0 when ill-formed or truncated.
std::size_t sequence_at(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return len;
}

bool hidden(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029;
}

void append_hex(std::string& out, std::uint32_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
}

}  // namespace

std::string printable_text(std::string_view text, std::size_t max_bytes) {
  if (max_bytes < 3) max_bytes = 3;
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  std::size_t cut = 0;  // the last character boundary with room for "..." after it
  for (std::size_t i = 0; i < text.size() && out.size() <= max_bytes;) {
    char32_t cp = 0;
    const std::size_t len = sequence_at(text, i, cp);
    if (len == 0 || (len == 1 && (cp < 0x20 || cp == 0x7F))) {
      out += "\\x";
      append_hex(out, static_cast<unsigned char>(text[i]), 2);
      i += 1;
    } else if (hidden(cp)) {
      out += "\\u";
      append_hex(out, static_cast<std::uint32_t>(cp), 4);
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
    if (out.size() <= max_bytes - 3) cut = out.size();
  }
  if (out.size() <= max_bytes) return out;
  out.resize(cut);
  out += "...";
  return out;
}

}  // namespace concierge
