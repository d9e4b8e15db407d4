// Resource release policies: the key broker's decision, per resource, over
// an attestation result (verifier/ear.h) — the relying party's "appraisal
// policy for attestation results" of RFC 9334 section 8.6.
//
// Document (JSON):
//
//   {"id": "release/disk-key",           required, non-empty string
//    "version": 1,                       optional integer >= 1
//    "description": "...",               optional
//    "rules": [                          required, at least one
//      {"id": "affirming",               required, unique
//       "when": <condition>,             the grammar of verifier/policy.h
//       "explain": "..."}]}              optional
//
// A resource is released only when every rule holds; otherwise the first
// rule that does not hold decides the refusal, and its decisive leaves say
// why. Conditions are evaluated over the release input (release_input):
//
//   {"status": "affirming",              the worst submod status
//    "tee": "snp",                       the primary submod's name
//    "vector": {"hardware": 2, ...},     the primary's trustworthiness vector
//    "claims": {...},                    the primary's normalized claims
//    "policy": "concierge/default-snp",  the primary's appraisal policy id
//    "submods": {"snp": {"tee", "status", "vector", "claims", "policy"}, ...}}
//
// A submod's "tee" is its kind as the verifier found it; additional
// devices' names start with their kind (envelope.h). Release policies should
// test the status: {"path": "status", "equals": "affirming"} (the worst
// submod's) before anything else, as the default does.
//
// so {"path": "status", "equals": "affirming"} with
// {"path": "vector.executables", "equals": 2} or
// {"path": "claims.measurement", "in_refs": "snp.measurement"} are rules.
// Parsing is strict like policy.h's (kMalformed naming the member).
//
// Plain values; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/policy.h"
#include "concierge/verifier/reference_store.h"

namespace concierge::broker {

struct ReleaseRule {
  std::string id;
  verifier::Condition when;
  nlohmann::json when_json;
  std::string explain;
};

struct ReleasePolicy {
  std::string id;
  int version = 1;
  std::string description;
  std::vector<ReleaseRule> rules;
  nlohmann::json to_json() const;
};

Result<ReleasePolicy> parse_release_policy(std::string_view json_text);
Result<ReleasePolicy> parse_release_policy_json(const nlohmann::json& document);

// The built-in policy for resources without one: status "affirming"
// (id "concierge/release-affirming").
const ReleasePolicy& default_release_policy();

// The input document above, from a verified attestation result.
nlohmann::json release_input(const verifier::AttestationResult& result);

struct ReleaseDecision {
  bool allowed = false;
  std::string policy_id;
  std::string rule;    // the rule that refused, or "" when allowed
  std::string reason;  // one line: why refused (the decisive leaves), or "all N rules hold"
  // The same for the guest: the rule and its decisive leaves' guest
  // messages (ConditionTrace::guest_message), no accepted values, no notes.
  std::string public_reason;
  nlohmann::json trace = nlohmann::json::array();  // [{"rule", "holds", "trace": [...]}]
};

ReleaseDecision decide_release(const ReleasePolicy& policy, const nlohmann::json& input,
                               const verifier::ReferenceStore& refs, TimePoint now);

}  // namespace concierge::broker
