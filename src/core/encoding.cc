// Hex and base64 codecs. OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock accept
// whitespace and cannot report where padding ends, so the strict decoders the
// verifier needs (reject anything non-canonical) are written out here; they do
// no cryptography.
#include "concierge/core/encoding.h"

#include <array>

namespace concierge {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<int, 256> make_table(const char* alphabet) {
  std::array<int, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
  return t;
}

std::string encode64(ByteView data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t v = data[i] << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += "=";
  }
  return out;
}

// Decodes unpadded base64 text (padding already stripped by the caller).
Result<Bytes> decode64(std::string_view text, const std::array<int, 256>& table,
                       std::string_view what) {
  if (text.size() % 4 == 1) {
    return fail(Errc::kMalformed,
                std::string(what) + ": impossible length " + std::to_string(text.size()));
  }
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      return fail_at(Errc::kMalformed, std::string(what), i, "character outside the alphabet");
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  // Canonical encoding: the unused low bits of the last character are zero.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return fail(Errc::kMalformed, std::string(what) + ": non-canonical final character");
  }
  return out;
}

}  // namespace

std::string hex_encode(ByteView data) {
  std::string out;
  out.resize(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kHexDigits[data[i] >> 4];
    out[2 * i + 1] = kHexDigits[data[i] & 15];
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return fail(Errc::kMalformed,
                "hex: odd number of digits (" + std::to_string(text.size()) + ")");
  }
  Bytes out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return fail_at(Errc::kMalformed, "hex", hi < 0 ? 2 * i : 2 * i + 1, "not a hex digit");
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(ByteView data) { return encode64(data, kB64, true); }

Result<Bytes> base64_decode(std::string_view text) {
  static const auto table = make_table(kB64);
  if (text.size() % 4 != 0) {
    return fail(Errc::kMalformed,
                "base64: length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  std::size_t pad = 0;
  while (pad < 2 && text.size() > pad && text[text.size() - 1 - pad] == '=') ++pad;
  return decode64(text.substr(0, text.size() - pad), table, "base64");
}

std::string base64url_encode(ByteView data) { return encode64(data, kB64Url, false); }

Result<Bytes> base64url_decode(std::string_view text) {
  static const auto table = make_table(kB64Url);
  if (text.size() % 4 == 0) {
    std::size_t pad = 0;
    while (pad < 2 && text.size() > pad && text[text.size() - 1 - pad] == '=') ++pad;
    text = text.substr(0, text.size() - pad);
  }
  return decode64(text, table, "base64url");
}

}  // namespace concierge
