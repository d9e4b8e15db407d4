// RFC 3339 timestamps (the profile of ISO 8601 used by Intel PCS collateral,
// EAT/EAR and our CLI's --at options).
//
// Accepted: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; 't' and 'z' in
// lowercase too; a space instead of 'T' (RFC 3339 section 5.6 allows it). The
// fraction is kept to microseconds. Also accepted, as a convenience for
// command lines only when `allow_date_only` is set: "YYYY-MM-DD" (midnight UTC).
// Thread-safe (no global state: conversion uses timegm-free arithmetic).
#pragma once

#include <string>
#include <string_view>

#include "concierge/core/result.h"
#include "concierge/core/x509.h"  // TimePoint

namespace concierge {

Result<TimePoint> parse_rfc3339(std::string_view text, bool allow_date_only = false);
// "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds).
std::string format_rfc3339(TimePoint t);
// Seconds since the epoch, for JWT claims.
std::int64_t unix_seconds(TimePoint t);

}  // namespace concierge
