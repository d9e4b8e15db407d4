// Verdict: the outcome of a trust decision, kept apart from Error.
//
// A function that verifies something returns Result<Verdict>: an Error when the
// input could not be understood (malformed, exit code 2 in the CLI), otherwise a
// Verdict saying whether the evidence is accepted and, when not, why (exit code
// 1). Thread safety: a value type.
#pragma once

#include <string>
#include <utility>

namespace concierge {

struct Verdict {
  bool accepted = false;
  std::string reason;  // empty when accepted

  static Verdict accept() { return Verdict{true, {}}; }
  static Verdict reject(std::string why) { return Verdict{false, std::move(why)}; }
  explicit operator bool() const { return accepted; }
};

}  // namespace concierge
