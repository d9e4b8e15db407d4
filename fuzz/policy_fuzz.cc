// libFuzzer target: parse_policy (appraisal policy documents, JSON text).
// Parsing must never crash and fails only with kMalformed (a syntax error's
// offset inside the input); whatever parses must survive to_json and parse
// back to a policy with the same document. The parsed policy is then
// appraised over a fixed set of normalized claims with an empty reference
// store, and the appraisal written as JSON (as `concierge appraise` prints
// it) and as text.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "concierge/verifier/policy.h"
#include "concierge/verifier/reference_store.h"

namespace {

// What a normalizer might hand the engine: every JSON type, nested objects,
// an event list, big and negative integers, a float.
const nlohmann::json& claims() {
  static const nlohmann::json kClaims = nlohmann::json::parse(R"json({
    "evidence_verified": true,
    "tee": "tdx",
    "vendor_chain": true,
    "root": "builtin",
    "debug": false,
    "tcb_status": "UpToDate",
    "measurement": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677",
    "registers": {"rtmr0": "AB01", "rtmr1": "cd02", "rtmr2": "", "rtmr3": 7},
    "svn": 3,
    "big": 18446744073709551615,
    "negative": -9223372036854775808,
    "ratio": 0.5,
    "binding": null,
    "empty_list": [],
    "empty_object": {},
    "mixed": [1, "a", null, {"b": [true]}],
    "log": {
      "matches_registers": true,
      "unknown_events": [
        {"register": "rtmr1", "event": 12, "description": "unexpected", "digest": "ef03"}
      ]
    },
    "text": "caf\u00e9 \u2603 \ud83d\ude00"
  })json");
  return kClaims;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = verifier::parse_policy(text);
  if (!policy) {
    const Error& e = policy.error();
    if (e.code != Errc::kMalformed) __builtin_trap();
    if (e.offset && *e.offset > size) __builtin_trap();
    return 0;
  }
  const nlohmann::json document = policy->to_json();
  // Strings came out of nlohmann's parser (well-formed UTF-8 only) and numbers
  // are finite (it refuses overflow): dump() cannot throw.
  auto reparsed = verifier::parse_policy(document.dump());
  if (!reparsed) __builtin_trap();
  if (reparsed->to_json() != document) __builtin_trap();

  const verifier::MemoryReferenceStore refs;
  const TimePoint now{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z
  const verifier::Appraisal appraisal = verifier::appraise(*policy, claims(), refs, now);
  if (appraisal.policy_id != policy->id || appraisal.rules.size() != policy->rules.size()) {
    __builtin_trap();
  }
  // The strict (throwing) dump, as the CLI prints an appraisal.
  (void)appraisal.to_json().dump(2);
  (void)appraisal.explain_text();
  return 0;
}
