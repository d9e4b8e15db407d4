// Private helpers of src/evidence/tpm (not installed): tss2-mu calls mapped
// onto Result/Error, so every TPM structure is (un)marshalled by tpm2-tss and
// every failure names the structure and where it starts.
// Pure functions; thread-safe.
#pragma once

#include <tss2/tss2_mu.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::evidence::tpm::mu {

// "0x001b": a TPM algorithm, curve or structure tag in messages.
inline std::string hex16(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
  return buf;
}

inline bool insufficient_buffer(TSS2_RC rc) {
  return (rc & 0xffffu) == TSS2_BASE_RC_INSUFFICIENT_BUFFER;
}

// Maps a tss2-mu return code onto an Error about `what` (which starts at
// `offset`; tss2-mu does not say where inside it the problem is).
// `truncated` tells an input that ends early from a size field larger than
// the structure's buffer, which tss2-mu reports with the same code.
inline Unexpected error(TSS2_RC rc, std::string_view what, std::size_t offset,
                        bool truncated = true) {
  if (insufficient_buffer(rc)) {
    if (truncated) {
      return fail_at(Errc::kTruncated, std::string(what), offset,
                     "input ends before the end of the structure");
    }
    return fail_at(Errc::kMalformed, std::string(what), offset,
                   "a size field exceeds the capacity of the structure");
  }
  return fail_at(Errc::kMalformed, std::string(what), offset,
                 "tss2-mu rejects the structure (rc " + hex16(rc) + ")");
}

template <typename T>
using UnmarshalFn = TSS2_RC (*)(const std::uint8_t*, std::size_t, std::size_t*, T*);
template <typename T>
using MarshalFn = TSS2_RC (*)(const T*, std::uint8_t*, std::size_t, std::size_t*);

// Unmarshals one T from `in` starting at *offset (an index into `in`) and
// advances *offset past it. Errors report `base + *offset` as the position.
template <typename T>
Result<T> unmarshal_at(UnmarshalFn<T> fn, ByteView in, std::size_t* offset, std::string_view what,
                       std::size_t base = 0) {
  T out{};
  std::size_t next = *offset;
  if (next >= in.size()) {
    return fail_at(Errc::kTruncated, std::string(what), base + next,
                   "input ends before the " + std::string(what));
  }
  const TSS2_RC rc = fn(in.data(), in.size(), &next, &out);
  if (rc == TSS2_RC_SUCCESS) {
    *offset = next;
    return out;
  }
  bool truncated = true;
  if (insufficient_buffer(rc)) {
    // Is the input short, or does a TPM2B claim more than its buffer holds?
    // With as many zero bytes appended as a T can need, a short input stops
    // failing for want of bytes; an oversized size field does not.
    Bytes padded(in.begin() + static_cast<std::ptrdiff_t>(*offset), in.end());
    padded.resize(padded.size() + sizeof(T) + 16, 0);
    std::size_t probe = 0;
    T scratch{};
    truncated = !insufficient_buffer(fn(padded.data(), padded.size(), &probe, &scratch));
  }
  return error(rc, what, base + *offset, truncated);
}

// Unmarshals one T from the whole of `in`; trailing bytes are kTrailingData.
template <typename T>
Result<T> unmarshal_all(UnmarshalFn<T> fn, ByteView in, std::string_view what) {
  if (in.empty()) return fail_at(Errc::kTruncated, std::string(what), 0, "input is empty");
  std::size_t offset = 0;
  CONCIERGE_ASSIGN_OR_RETURN(T out, unmarshal_at(fn, in, &offset, what));
  if (offset != in.size()) {
    return fail_at(
        Errc::kTrailingData, std::string(what), offset,
        std::to_string(in.size() - offset) + " trailing bytes after the " + std::string(what));
  }
  return out;
}

// Marshals a T (kInternal if tss2-mu refuses it: values built here are valid).
template <typename T>
Result<Bytes> marshal(MarshalFn<T> fn, const T& value, std::string_view what) {
  Bytes out(sizeof(T) + 16);  // a marshalled structure is never larger than the C struct
  std::size_t offset = 0;
  const TSS2_RC rc = fn(&value, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) {
    return fail(Errc::kInternal,
                "tss2-mu cannot marshal the " + std::string(what) + " (rc " + hex16(rc) + ")");
  }
  out.resize(offset);
  return out;
}

template <typename B>
Bytes tpm2b_bytes(const B& b) {
  return Bytes(b.buffer, b.buffer + b.size);
}

}  // namespace concierge::evidence::tpm::mu
