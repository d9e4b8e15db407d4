// libFuzzer target: parse_release_policy (the key broker's per-resource
// release policies, JSON text). Parsing fails only with kMalformed; what
// parses survives to_json and parses back to the same document, and is
// decided over a fixed attestation result.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "concierge/broker/release_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = broker::parse_release_policy(text);
  if (!policy) {
    if (policy.error().code != Errc::kMalformed) __builtin_trap();
    return 0;
  }
  const nlohmann::json document = policy->to_json();
  auto reparsed = broker::parse_release_policy(document.dump());
  if (!reparsed || reparsed->to_json() != document) __builtin_trap();

  static const verifier::AttestationResult result = [] {
    verifier::AttestationResult r;
    r.iat = 1;
    r.exp = 2;
    verifier::EarSubmod s;
    s.status = verifier::Tier::kWarning;
    (void)s.trust_vector.set(verifier::TrustClaim::kExecutables, 33);
    s.annotated_evidence = {{"tee", "tpm"}, {"debug", false}, {"registers", {{"pcr9", "ab"}}}};
    r.submods["tpm"] = s;
    return r;
  }();
  const verifier::MemoryReferenceStore refs;
  const TimePoint now{std::chrono::seconds(1767225600)};
  const auto decision = broker::decide_release(*policy, broker::release_input(result), refs, now);
  if (decision.allowed != decision.rule.empty()) __builtin_trap();
  (void)decision.trace.dump();
  return 0;
}
