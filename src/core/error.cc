#include "concierge/core/error.h"

#include <cstdio>

#include "concierge/core/result.h"

namespace concierge {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kMalformed:
      return "malformed";
    case Errc::kTruncated:
      return "truncated";
    case Errc::kTrailingData:
      return "trailing data";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kIo:
      return "i/o error";
    case Errc::kCrypto:
      return "crypto error";
    case Errc::kNotFound:
      return "not found";
    case Errc::kDevice:
      return "device error";
    case Errc::kInternal:
      return "internal error";
  }
  return "error";
}

std::string Error::to_string() const {
  std::string out(errc_name(code));
  if (!field.empty()) {
    out += ": field '" + field + "'";
  }
  if (offset) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " at offset 0x%zx (%zu)", *offset, *offset);
    out += field.empty() ? ":" : "";
    out += buf;
  }
  if (!message.empty()) {
    out += ": " + message;
  }
  return out;
}

Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message), {}, std::nullopt};
}

Error make_error_at(Errc code, std::string field, std::size_t offset, std::string message) {
  return Error{code, std::move(message), std::move(field), offset};
}

namespace detail {
void bad_result_access(const char* what) {
  std::fprintf(stderr, "concierge: fatal: %s\n", what);
  std::abort();
}
}  // namespace detail

}  // namespace concierge
