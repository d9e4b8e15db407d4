// ByteReader: bounds-checked, endian-explicit reading of untrusted bytes.
//
// Contract: the reader does not own the bytes; the span must outlive it and
// every span it returns. Every read either returns the value and advances, or
// returns an Error naming the field and its absolute byte offset and leaves the
// position unchanged. Offsets are absolute: a sub-reader made with sub() keeps
// reporting positions in the original input. No packed struct is ever cast
// over the input. Not thread-safe (it has a cursor); cheap to copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge {

class ByteReader {
 public:
  explicit ByteReader(ByteView data, std::size_t base_offset = 0)
      : data_(data), base_(base_offset) {}

  // Absolute offset of the next byte to read.
  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  // The unread bytes, without consuming them.
  ByteView rest() const { return data_.subspan(pos_); }
  // True when every unread byte is zero (allowed padding in some formats).
  bool rest_is_zero() const;

  Result<std::uint8_t> u8(std::string_view field);
  Result<std::uint16_t> u16le(std::string_view field);
  Result<std::uint32_t> u32le(std::string_view field);
  Result<std::uint64_t> u64le(std::string_view field);
  Result<std::uint16_t> u16be(std::string_view field);
  Result<std::uint32_t> u32be(std::string_view field);
  Result<std::uint64_t> u64be(std::string_view field);

  // The next n bytes (a view into the input).
  Result<ByteView> bytes(std::size_t n, std::string_view field);
  Result<void> skip(std::size_t n, std::string_view field);
  // A reader over the next n bytes, advancing this one past them.
  Result<ByteReader> sub(std::size_t n, std::string_view field);
  // Peeks without advancing.
  Result<std::uint32_t> peek_u32le(std::string_view field) const;

  // Fails with kTrailingData (naming `what`) unless every byte was consumed.
  Result<void> expect_end(std::string_view what) const;

 private:
  Result<ByteView> take(std::size_t n, std::string_view field);
  Unexpected truncated(std::size_t need, std::string_view field) const;

  ByteView data_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
};

}  // namespace concierge
