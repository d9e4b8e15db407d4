// Text encodings of byte strings: hex, base64 (RFC 4648 §4) and base64url
// (RFC 4648 §5, unpadded as JOSE uses it). Decoders are strict: they reject
// characters outside the alphabet, wrong lengths and non-canonical padding.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge {

std::string hex_encode(ByteView data);            // lowercase
Result<Bytes> hex_decode(std::string_view text);  // either case, even length

std::string base64_encode(ByteView data);            // padded
Result<Bytes> base64_decode(std::string_view text);  // padding required

std::string base64url_encode(ByteView data);            // unpadded
Result<Bytes> base64url_decode(std::string_view text);  // padding optional

}  // namespace concierge
