// Text helpers for the event decoders: UTF-16LE to UTF-8, printable checks,
// one-line escaping and hex previews.
#include <cstdint>
#include <cstdio>
#include <string>

#include "concierge/core/encoding.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf16_convert(ByteView data, bool stop_at_nul, bool* invalid) {
  std::string out;
  out.reserve(data.size() / 2);
  bool bad = false;
  std::size_t i = 0;
  auto unit_at = [&](std::size_t pos) {
    return static_cast<char16_t>(data[pos] | (data[pos + 1] << 8));
  };
  while (i + 1 < data.size()) {
    char16_t u = unit_at(i);
    i += 2;
    if (u == 0 && stop_at_nul) {
      if (invalid != nullptr && bad) *invalid = true;
      return out;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < data.size()) {
        char16_t low = unit_at(i);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          i += 2;
          append_utf8(out, 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00));
          continue;
        }
      }
      bad = true;
      append_utf8(out, kReplacement);
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      bad = true;
      append_utf8(out, kReplacement);
    } else {
      append_utf8(out, u);
    }
  }
  if (i < data.size()) {  // odd trailing byte
    bad = true;
    append_utf8(out, kReplacement);
  }
  if (invalid != nullptr && bad) *invalid = true;
  return out;
}

bool printable_byte(std::uint8_t c) {
  return (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string utf16le_to_utf8(ByteView data, bool* invalid) {
  return utf16_convert(data, false, invalid);
}

std::string utf16le_cstring(ByteView data, bool* invalid) {
  return utf16_convert(data, true, invalid);
}

bool looks_like_utf16le(ByteView data) {
  // An odd trailing NUL byte is tolerated: some loaders (older systemd-boot)
  // measure 2 * length + 1 bytes.
  if (data.size() % 2 != 0 && data.back() == 0) data = data.first(data.size() - 1);
  if (data.size() < 2 || data.size() % 2 != 0) return false;
  std::size_t units = data.size() / 2;
  // Ignore trailing NUL code units (string terminators).
  while (units > 0 && data[2 * units - 2] == 0 && data[2 * units - 1] == 0) --units;
  if (units == 0) return false;
  std::size_t ascii_like = 0;
  for (std::size_t k = 0; k < units; ++k) {
    std::uint8_t lo = data[2 * k];
    std::uint8_t hi = data[2 * k + 1];
    if (hi == 0 && printable_byte(lo)) ++ascii_like;
  }
  // Alternating NULs: nearly every code unit is an ASCII character.
  return ascii_like * 10 >= units * 9;
}

bool is_printable_ascii(ByteView data) {
  std::size_t n = data.size();
  while (n > 0 && data[n - 1] == 0) --n;
  if (n == 0) return false;
  for (std::size_t k = 0; k < n; ++k) {
    if (!printable_byte(data[k])) return false;
  }
  return true;
}

std::string ascii_without_trailing_nuls(ByteView data) {
  std::size_t n = data.size();
  while (n > 0 && data[n - 1] == 0) --n;
  return std::string(as_chars(data.first(n)));
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<std::uint8_t>(text[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<std::uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      append_utf8(out, kReplacement);
      ++i;
    }
  }
  return out;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<std::uint8_t>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string hex_preview(ByteView data, std::size_t max_bytes) {
  std::string out = hex_encode(data.first(std::min(data.size(), max_bytes)));
  if (data.size() > max_bytes) out += "...";
  return out + " (" + std::to_string(data.size()) + " bytes)";
}

std::optional<std::string> decode_text(ByteView data, DecodedEvent& out) {
  if (looks_like_utf16le(data)) {
    if (data.size() % 2 != 0) data = data.first(data.size() - 1);  // odd trailing NUL
    bool invalid = false;
    std::string text = utf16le_cstring(data, &invalid);
    if (invalid) add_problem(out, "invalid UTF-16 in text (replaced with U+FFFD)");
    out.details["text"] = text;
    out.details["encoding"] = "utf-16le";
    return text;
  }
  if (is_printable_ascii(data)) {
    std::string text = ascii_without_trailing_nuls(data);
    out.details["text"] = text;
    out.details["encoding"] = "ascii";
    return text;
  }
  return std::nullopt;
}

}  // namespace concierge::measure::decode_detail
