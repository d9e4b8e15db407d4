// The appraisal policy engine of the Verifier (RFC 9334 section 8.5,
// "appraisal policy for evidence"): declarative rules over the normalized
// claims of one device that set the AR4SI trustworthiness vector
// (trust_vector.h), with a trace a person can read to see which link of the
// chain of trust broke. docs/policy.md is the long form of this comment.
//
// Policy document (JSON, UTF-8):
//
//   {"id": "concierge/default-snp",          required, non-empty string
//    "version": 1,                           required, integer >= 1
//    "description": "...",                   optional
//    "rules": [                              required array (may be empty)
//      {"id": "known-measurement",           required, unique in the policy
//       "claim": "executables",              an AR4SI claim name (trust_vector.h)
//       "applies_if": <condition>,           optional: when false the rule is
//                                            skipped and contributes nothing
//       "when": <condition>,                 required
//       "then": 2,                           value when `when` holds, -128..127
//       "else": 33,                          value otherwise, -128..127
//       "explain": "..."}]}                  optional: what passing means
//
// Conditions:
//   {"all": [<condition>, ...]}   every one holds (an empty list holds)
//   {"any": [<condition>, ...]}   at least one holds (an empty list does not)
//   {"not": <condition>}
//   {"path": "<dotted path>", "<operator>": <operand>}   a leaf, one operator:
//     equals     any JSON value     the claim equals it (JSON equality)
//     one_of     non-empty array    the claim equals one of its elements
//     ge, le     number             the claim is a number >= / <= it
//     regex      string             the claim is a string the regex matches
//                                   in full. RE2 syntax (no backreferences or
//                                   lookaround): matching takes time linear in
//                                   the input, so no pattern in a policy can
//                                   be made to run for long; patterns are at
//                                   most 1024 bytes
//     in_refs    set name           the claim is a string matching an
//                                   unexpired value of that reference set
//     each_in_refs  set prefix      the claim is an object of strings; for
//                                   every member K whose set "<prefix>K" has
//                                   unexpired values, the member matches one
//                                   of them; at least one member must be so
//                                   constrained ({"path": "registers",
//                                   "each_in_refs": "tdx."} checks rtmr0..3
//                                   against tdx.rtmr0..tdx.rtmr3). A member
//                                   that is null (a register the evidence
//                                   could report but did not: TPM PCRs not
//                                   quoted) fails when its set has values. A
//                                   set whose values have all expired still
//                                   constrains its member, which then fails
//                                   (expiry revokes, it does not open up)
//     exists     true / false       the claim is present / absent
//     empty      true / false       the claim is an empty (true) or a
//                                   non-empty (false) array, object or string
//   Paths are member names separated by dots ("registers.rtmr1",
//   "log.unknown_events"); a claim that is missing or null is *absent*, and
//   every operator but `exists` is false on an absent claim (the trace says
//   "absent"). Note that {"not": ...} of a leaf on an absent claim holds.
//
// Parsing is strict: an unknown member, operator or claim name, a leaf with
// zero or two operators, an operand of the wrong type, a regex that does not
// compile, a duplicate rule id or a value outside -128..127 is kMalformed
// with Error::field naming where ("rules[2].when.all[1].equal"); a JSON
// syntax error carries the byte offset.
//
// Appraisal (appraise):
//  1. Cryptography first, built in: unless the claims are an object whose
//     "evidence_verified" is true, every one of the eight claims is 99
//     (crypto validation failed), no rule is evaluated, and a note says why.
//  2. Otherwise every rule is evaluated in order. A rule whose applies_if
//     does not hold is recorded as not applied. An applied rule contributes
//     `then` or `else` to its claim.
//  3. A claim several rules contribute to takes the value of the worst tier
//     among them (contraindicated > warning > affirming > none, as
//     TrustVector::status orders them); among values of that tier, the first
//     rule's in policy order. Claims no applied rule targets stay unset.
//  4. The status is TrustVector::status() of the result.
//  Every leaf is evaluated (no short-circuit) so the trace is complete; the
//  leaves that decided each rule (why it failed, or why it passed) are
//  marked `decisive`. A reference
//  value that was ignored because it expired is noted ("reference value X
//  of snp.measurement expired 2026-01-01T00:00:00Z, ignored"), saying so
//  when it would have matched. A reference store that fails makes the
//  condition false and is noted: a broken store never affirms.
//
// Ownership and thread safety: Policy is an immutable value once parsed
// (compiled regexes are shared between copies, read-only); appraise is a
// pure function of its arguments and may run concurrently on the same
// Policy, given a ReferenceStore that allows concurrent reads (all do, see
// reference_store.h). Appraisal is a plain value.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"
#include "concierge/core/x509.h"  // TimePoint
#include "concierge/verifier/reference_store.h"
#include "concierge/verifier/trust_vector.h"

namespace re2 {
class RE2;
}

namespace concierge::verifier {

enum class PolicyOp {
  kEquals,
  kOneOf,
  kGe,
  kLe,
  kRegex,
  kInRefs,
  kEachInRefs,
  kExists,
  kEmpty,
};
// "equals", "one_of", "ge", "le", "regex", "in_refs", "each_in_refs", "exists", "empty".
std::string_view policy_op_name(PolicyOp op);

struct Condition {
  enum class Kind { kAll, kAny, kNot, kLeaf };
  Kind kind = Kind::kAll;
  std::vector<Condition> children;  // all/any: the list; not: exactly one
  // Leaves only.
  std::string path;
  std::vector<std::string> segments;  // path split at the dots
  PolicyOp op = PolicyOp::kEquals;
  nlohmann::json operand;
  std::shared_ptr<const re2::RE2> regex;  // kRegex: compiled once at parse time
};

struct PolicyRule {
  std::string id;
  TrustClaim claim = TrustClaim::kHardware;
  std::optional<Condition> applies_if;
  Condition when;
  int then_value = 0;
  int else_value = 0;
  std::string explain;
};

struct Policy {
  std::string id;
  int version = 1;
  std::string description;
  std::vector<PolicyRule> rules;

  // The policy document (parse_policy(to_json()) gives an equal policy).
  nlohmann::json to_json() const;
};

Result<Policy> parse_policy(std::string_view json_text);
// The same, from a parsed document.
Result<Policy> parse_policy_json(const nlohmann::json& document);

// The policies compiled into the program, by TEE: "tpm", "snp", "tdx",
// "sgx" (ids "concierge/default-<tee>"); kNotFound for another name.
// docs/policy.md tabulates their rules.
Result<Policy> default_policy(std::string_view tee);
// The JSON text of a default policy (empty for an unknown name), and the
// names there are.
std::string_view default_policy_text(std::string_view tee);
std::vector<std::string_view> default_policy_names();

// One evaluated leaf.
struct ConditionTrace {
  std::string path;      // the claim's path; for each_in_refs, the failing member's
  std::string op;        // policy_op_name
  std::string actual;    // the claim as text ("absent" when absent, see `absent`)
  std::string expected;  // the operand as text (for in_refs: the set and its values)
  bool absent = false;
  bool passed = false;
  // One of the leaves that decided the rule: for a failed rule, one that made
  // it fail; for a passed rule, one that made it pass.
  bool decisive = false;
  std::string message;  // one sentence: "measurement ab12.. is not a value of snp.measurement ..."
  // in_refs / each_in_refs: the reference set compared with.
  std::string reference_set;

  // The sentence for the attester's side (a refusal's detail): the claim
  // path, the attester's own value and the operator or reference set that
  // failed, never the expected or accepted values (those go to the owner:
  // `message`, the audit log).
  std::string guest_message() const;
};

struct RuleOutcome {
  std::string rule_id;
  TrustClaim claim = TrustClaim::kHardware;
  bool applied = true;  // false: applies_if did not hold; passed and value mean nothing
  bool passed = false;
  int value = 0;                      // then or else
  std::vector<ConditionTrace> trace;  // the `when` leaves (the applies_if ones when not applied)
  std::string explain;
};

struct Appraisal {
  std::string policy_id;
  int policy_version = 0;
  TrustVector vector;
  Tier status = Tier::kNone;
  std::vector<RuleOutcome> rules;
  std::vector<std::string> notes;  // in the order they arose, without duplicates

  // {"policy": {"id", "version"}, "status": "affirming",
  //  "trustworthiness_vector": {...}, "rules": [{"id", "claim", "applied",
  //  "passed", "value", "tier", "explain", "trace": [{"path", "op",
  //  "actual", "absent", "expected", "passed", "decisive", "message"}]}],
  //  "notes": [...]}
  nlohmann::json to_json() const;
  // For people: the status; a "broken link" line naming the first failed
  // rule of the worst tier and why; the vector claim by claim; the failed
  // rules with their decisive leaves (the claim's value and the expected
  // one; an event list names its first entry's register, number,
  // description and digest); the passed rules, the skipped ones; the notes.
  std::string explain_text() const;
};

// One condition of the grammar above, outside a policy (the key broker's
// release policies use it over attestation results). `where` prefixes
// Error::field ("rules[0].when").
Result<Condition> parse_condition_json(const nlohmann::json& document, const std::string& where);

struct ConditionResult {
  bool holds = false;
  std::vector<ConditionTrace> trace;  // every leaf, the decisive ones marked
  std::vector<std::string> notes;     // as Appraisal::notes
};
// Evaluates `condition` on `document` as appraise evaluates a rule's `when`.
ConditionResult evaluate_condition(const Condition& condition, const nlohmann::json& document,
                                   const ReferenceStore& refs, TimePoint now);

Appraisal appraise(const Policy& policy, const nlohmann::json& normalized_claims,
                   const ReferenceStore& refs, TimePoint now);

}  // namespace concierge::verifier
