// Error values for Concierge.
//
// Contract: an Error describes *malformed input or a failed operation* (a file
// that cannot be read, a log that ends mid-record, an unknown algorithm). It is
// never used for a trust outcome: a signature that does not verify or a PCR that
// does not match the reference is a Verdict (see verdict.h), because a caller
// must be able to tell "this evidence is forged" from "this evidence is garbage".
//
// Errors are plain values; copying is cheap enough for error paths. Thread-safe
// as any value type.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace concierge {

enum class Errc {
  kMalformed,        // input does not follow its format
  kTruncated,        // input ends before a field it must contain
  kTrailingData,     // bytes after the end of a structure that allows none
  kUnsupported,      // well-formed but uses something we do not implement
  kInvalidArgument,  // caller passed something unusable (usage error)
  kIo,               // file or device could not be read or written
  kCrypto,           // the crypto library failed (not a failed verification)
  kNotFound,         // a named thing does not exist
  kDevice,           // a device (a TPM, a guest driver) failed or refused a command
  kInternal,         // a bug: an invariant did not hold
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
  // Where the problem is, when the input is a byte string: the field being
  // read and its absolute byte offset in the input.
  std::string field;
  std::optional<std::size_t> offset;

  // One line, suitable for stderr: "truncated: field 'event_size' at offset
  // 0x1a2 (418): needs 4 bytes, 2 remain".
  std::string to_string() const;
};

Error make_error(Errc code, std::string message);
Error make_error_at(Errc code, std::string field, std::size_t offset, std::string message);

}  // namespace concierge
