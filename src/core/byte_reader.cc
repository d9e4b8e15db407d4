#include "concierge/core/byte_reader.h"

#include <algorithm>
#include <string>

namespace concierge {

bool ByteReader::rest_is_zero() const {
  ByteView r = rest();
  return std::all_of(r.begin(), r.end(), [](std::uint8_t b) { return b == 0; });
}

Unexpected ByteReader::truncated(std::size_t need, std::string_view field) const {
  return fail_at(
      Errc::kTruncated, std::string(field), offset(),
      "needs " + std::to_string(need) + " bytes, " + std::to_string(remaining()) + " remain");
}

Result<ByteView> ByteReader::take(std::size_t n, std::string_view field) {
  if (n > remaining()) return truncated(n, field);
  ByteView out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

namespace {
template <typename T>
T load_le(ByteView b) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(b[i]) << (8 * i);
  return v;
}
template <typename T>
T load_be(ByteView b) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | b[i]);
  return v;
}
}  // namespace

Result<std::uint8_t> ByteReader::u8(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(1, field));
  return b[0];
}
Result<std::uint16_t> ByteReader::u16le(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(2, field));
  return load_le<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::u32le(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(4, field));
  return load_le<std::uint32_t>(b);
}
Result<std::uint64_t> ByteReader::u64le(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(8, field));
  return load_le<std::uint64_t>(b);
}
Result<std::uint16_t> ByteReader::u16be(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(2, field));
  return load_be<std::uint16_t>(b);
}
Result<std::uint32_t> ByteReader::u32be(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(4, field));
  return load_be<std::uint32_t>(b);
}
Result<std::uint64_t> ByteReader::u64be(std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(8, field));
  return load_be<std::uint64_t>(b);
}

Result<ByteView> ByteReader::bytes(std::size_t n, std::string_view field) { return take(n, field); }

Result<void> ByteReader::skip(std::size_t n, std::string_view field) {
  CONCIERGE_RETURN_IF_ERROR(take(n, field));
  return {};
}

Result<ByteReader> ByteReader::sub(std::size_t n, std::string_view field) {
  std::size_t start = offset();
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, take(n, field));
  return ByteReader(b, start);
}

Result<std::uint32_t> ByteReader::peek_u32le(std::string_view field) const {
  if (remaining() < 4) return truncated(4, field);
  return load_le<std::uint32_t>(data_.subspan(pos_, 4));
}

Result<void> ByteReader::expect_end(std::string_view what) const {
  if (empty()) return {};
  return fail_at(Errc::kTrailingData, std::string(what), offset(),
                 std::to_string(remaining()) + " unexpected bytes after the end");
}

}  // namespace concierge
