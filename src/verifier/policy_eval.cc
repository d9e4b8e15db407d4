// Evaluating a policy over normalized claims, and explaining the result
// (policy.h).
#include "concierge/verifier/policy.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "concierge/core/time.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxDisplay = 512;
constexpr std::size_t kMaxListedRefs = 4;
constexpr std::size_t kMaxRegexSubject = 4096;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string clip(std::string s) {
  if (s.size() > kMaxDisplay) {
    // Cut at a UTF-8 character boundary (never inside a multi-byte one).
    std::size_t cut = kMaxDisplay;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

// A claim or operand as text: strings as they are, other values as JSON.
std::string display(const Json& j) { return clip(j.is_string() ? j.get<std::string>() : dump(j)); }

// An unknown log event, as the normalizer writes them:
// {"register": "rtmr1", "event": 12, "description": "...", "digest": "<hex>"}.
bool looks_like_event(const Json& j) {
  return j.is_object() && (j.contains("register") || j.contains("event"));
}

std::string describe_event(const Json& e) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (!out.empty()) out += ", ";
    out += part;
  };
  if (const auto r = e.find("register"); r != e.end()) add("register " + display(*r));
  if (const auto n = e.find("event"); n != e.end()) add("event " + display(*n));
  if (const auto d = e.find("description"); d != e.end()) add(display(*d));
  if (const auto g = e.find("digest"); g != e.end()) add("digest " + display(*g));
  for (const auto& [key, value] : e.items()) {
    if (key != "register" && key != "event" && key != "description" && key != "digest") {
      add(key + " " + display(value));
    }
  }
  return out;
}

// The actual value of a claim in a trace: arrays of events name the first.
std::string display_actual(const Json& j) {
  if (j.is_array() && !j.empty() && looks_like_event(j.front())) {
    return clip(std::to_string(j.size()) + (j.size() == 1 ? " entry" : " entries") +
                "; the first: " + describe_event(j.front()));
  }
  return display(j);
}

const Json* lookup(const Json& root, const std::vector<std::string>& segments) {
  const Json* at = &root;
  for (const auto& s : segments) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(s);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_null() ? nullptr : at;
}

// The sign of a - b; exact for integers (SVNs may use all 64 bits).
int compare_numbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    auto negative = [](const Json& j) {
      return !j.is_number_unsigned() && j.get<std::int64_t>() < 0;
    };
    const bool an = negative(a), bn = negative(b);
    if (an != bn) return an ? -1 : 1;
    if (an) {
      const auto x = a.get<std::int64_t>(), y = b.get<std::int64_t>();
      return (x > y) - (x < y);
    }
    const auto x = a.get<std::uint64_t>(), y = b.get<std::uint64_t>();
    return (x > y) - (x < y);
  }
  const double x = a.get<double>(), y = b.get<double>();
  return (x > y) - (x < y);
}

bool worse_tier(int candidate, int current) {
  return static_cast<int>(tier_of(candidate)) > static_cast<int>(tier_of(current));
}

// The tree of results, parallel to a Condition, for blaming leaves.
struct Node {
  bool result = false;
  std::vector<Node> children;
  std::vector<std::size_t> traces;  // leaves: their entries in the trace
};

class Evaluator {
 public:
  Evaluator(const Json& claims, const ReferenceStore& refs, TimePoint now,
            std::vector<std::string>& notes)
      : claims_(claims), refs_(refs), now_(now), notes_(notes) {}

  Node eval(const Condition& c, std::vector<ConditionTrace>& trace) {
    Node n;
    switch (c.kind) {
      case Condition::Kind::kAll:
      case Condition::Kind::kAny: {
        const bool all = c.kind == Condition::Kind::kAll;
        n.result = all;
        for (const auto& child : c.children) {
          Node sub = eval(child, trace);
          n.result = all ? (n.result && sub.result) : (n.result || sub.result);
          n.children.push_back(std::move(sub));
        }
        return n;
      }
      case Condition::Kind::kNot: {
        Node sub = eval(c.children.at(0), trace);
        n.result = !sub.result;
        n.children.push_back(std::move(sub));
        return n;
      }
      case Condition::Kind::kLeaf:
        break;
    }
    const std::size_t first = trace.size();
    n.result = leaf(c, trace);
    for (std::size_t i = first; i < trace.size(); ++i) n.traces.push_back(i);
    return n;
  }

 private:
  void note(std::string text) {
    if (noted_.insert(text).second) notes_.push_back(std::move(text));
  }

  // The lookup of a set, once per appraisal; nullptr when the store failed.
  const ReferenceLookup* set(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) {
      auto r = refs_.values(name, now_);
      if (!r) {
        note("the reference store failed to return " + name + ": " + r.error().to_string() +
             "; conditions on it do not hold");
        it = cache_.emplace(name, std::nullopt).first;
      } else {
        it = cache_.emplace(name, std::move(*r)).first;
      }
    }
    return it->second ? &*it->second : nullptr;
  }

  static std::string list_values(const ReferenceLookup& l) {
    if (l.current.empty()) {
      return l.expired.empty() ? "no value configured" : "no unexpired value";
    }
    std::string out = "unexpired: ";
    for (std::size_t i = 0; i < l.current.size() && i < kMaxListedRefs; ++i) {
      if (i) out += ", ";
      out += l.current[i].value;
    }
    if (l.current.size() > kMaxListedRefs) {
      out += " and " + std::to_string(l.current.size() - kMaxListedRefs) + " more";
    }
    return out;
  }

  void note_expired(const std::string& set_name, const ReferenceLookup& l, const std::string& path,
                    const Json* actual) {
    for (const auto& v : l.expired) {
      std::string text = "reference value " + v.value + " of " + set_name + " expired " +
                         format_rfc3339(*v.expires);
      if (!v.provenance.empty()) text += " (provenance: " + v.provenance + ")";
      text += ", ignored";
      if (actual && actual->is_string() &&
          reference_value_matches(v.value, actual->get<std::string>())) {
        text += "; it matches " + path;
      }
      note(std::move(text));
    }
  }

  // One member (or the whole claim) against one reference set.
  bool match_set(const std::string& set_name, const std::string& path, const Json& actual,
                 ConditionTrace& t) {
    t.reference_set = set_name;
    const ReferenceLookup* l = set(set_name);
    if (!l) {
      t.expected = "a value of " + set_name + " (the reference store failed)";
      t.message = path + " cannot be compared: the reference store failed for " + set_name;
      return false;
    }
    note_expired(set_name, *l, path, &actual);
    t.expected = "a value of " + set_name + " (" + list_values(*l) + ")";
    if (!actual.is_string()) {
      t.message = path + " is " + t.actual + ", not a string; expected " + t.expected;
      return false;
    }
    const std::string& s = actual.get<std::string>();
    for (const auto& v : l->current) {
      if (reference_value_matches(v.value, s)) {
        t.message = path + " " + t.actual + " is a reference value of " + set_name;
        if (!v.provenance.empty()) t.message += " (provenance: " + v.provenance + ")";
        return true;
      }
    }
    t.message = path + " " + t.actual + " is not a reference value of " + set_name + " (" +
                list_values(*l) + ")";
    return false;
  }

  bool each_in_refs(const Condition& c, const Json* v, std::vector<ConditionTrace>& trace) {
    const std::string prefix = c.operand.get<std::string>();
    ConditionTrace whole;
    whole.path = c.path;
    whole.op = std::string(policy_op_name(c.op));
    whole.expected = "every member K with values in " + prefix + "K to match one";
    if (!v) {
      whole.absent = true;
      whole.actual = "absent";
      whole.message = c.path + " is absent; expected " + whole.expected;
      trace.push_back(std::move(whole));
      return false;
    }
    whole.actual = display(*v);
    if (!v->is_object()) {
      whole.message = c.path + " is " + whole.actual + ", not an object";
      trace.push_back(std::move(whole));
      return false;
    }
    bool ok = true;
    std::size_t constrained = 0;
    for (const auto& [key, member] : v->items()) {
      const std::string set_name = prefix + key;
      const std::string path = c.path + "." + key;
      const ReferenceLookup* l = set(set_name);
      // A set with no values at all does not constrain its member. One whose
      // values have all expired does, and nothing matches it: expiring a
      // reference value revokes it, it never opens the register up.
      if (l && l->current.empty() && l->expired.empty()) continue;
      ++constrained;
      ConditionTrace t;
      t.path = path;
      t.op = whole.op;
      t.actual = display(member);
      if (member.is_null() && l) {
        // A register the evidence could have reported but left out.
        note_expired(set_name, *l, path, nullptr);
        t.absent = true;
        t.actual = "absent";
        t.reference_set = set_name;
        t.expected = "a value of " + set_name + " (" + list_values(*l) + ")";
        t.message = path + " is absent from the evidence, but " + set_name +
                    " has reference values (" + list_values(*l) + ")";
        t.passed = false;
        ok = false;
        trace.push_back(std::move(t));
        continue;
      }
      t.passed = match_set(set_name, path, member, t);
      ok = ok && t.passed;
      trace.push_back(std::move(t));
    }
    if (constrained == 0) {
      whole.reference_set = prefix + "*";
      whole.expected = "at least one member K with values in " + prefix + "K";
      whole.message = "no member of " + c.path + " has an unexpired reference value under " +
                      prefix + "*: nothing was compared";
      trace.push_back(std::move(whole));
      return false;
    }
    return ok;
  }

  // What a leaf expects, in words ("one of [...]", ">= 8", ...).
  std::string expectation(const Condition& c) {
    switch (c.op) {
      case PolicyOp::kEquals:
        return display(c.operand);
      case PolicyOp::kOneOf:
        return "one of " + display(c.operand);
      case PolicyOp::kGe:
        return ">= " + dump(c.operand);
      case PolicyOp::kLe:
        return "<= " + dump(c.operand);
      case PolicyOp::kRegex:
        return "a full match of /" + c.operand.get<std::string>() + "/";
      case PolicyOp::kInRefs: {
        const std::string set_name = c.operand.get<std::string>();
        const ReferenceLookup* l = set(set_name);
        return "a value of " + set_name + " (" +
               (l ? list_values(*l) : std::string("the reference store failed")) + ")";
      }
      case PolicyOp::kEachInRefs:
        return "every member K with values in " + c.operand.get<std::string>() + "K to match one";
      case PolicyOp::kExists:
        return c.operand.get<bool>() ? "present" : "absent";
      case PolicyOp::kEmpty:
        return c.operand.get<bool>() ? "empty" : "not empty";
    }
    return {};
  }

  bool leaf(const Condition& c, std::vector<ConditionTrace>& trace) {
    const Json* v = lookup(claims_, c.segments);
    if (c.op == PolicyOp::kEachInRefs) return each_in_refs(c, v, trace);

    ConditionTrace t;
    t.path = c.path;
    t.op = std::string(policy_op_name(c.op));
    t.expected = expectation(c);
    t.absent = v == nullptr;
    t.actual = v ? display_actual(*v) : "absent";
    bool passed = false;
    // "<path> is <actual>", then ", expected <expected>" when it failed.
    auto says = [&](const std::string& what) {
      t.message = c.path + " " + what + (passed ? "" : ", expected " + t.expected);
    };

    if (c.op == PolicyOp::kExists) {
      passed = (v != nullptr) == c.operand.get<bool>();
      says(v ? "is present (" + t.actual + ")" : "is absent");
    } else if (!v) {
      if (c.op == PolicyOp::kInRefs) {
        const std::string set_name = c.operand.get<std::string>();
        t.reference_set = set_name;
        if (const ReferenceLookup* l = set(set_name)) note_expired(set_name, *l, c.path, nullptr);
      }
      t.message = c.path + " is absent; expected " + t.expected;
    } else {
      switch (c.op) {
        case PolicyOp::kEquals:
          passed = *v == c.operand;
          says("is " + t.actual);
          break;
        case PolicyOp::kOneOf:
          passed = std::any_of(c.operand.begin(), c.operand.end(),
                               [v](const Json& e) { return *v == e; });
          says("is " + t.actual);
          break;
        case PolicyOp::kGe:
        case PolicyOp::kLe:
          if (!v->is_number()) {
            says("is " + t.actual + ", not a number");
            break;
          }
          passed = c.op == PolicyOp::kGe ? compare_numbers(*v, c.operand) >= 0
                                         : compare_numbers(*v, c.operand) <= 0;
          says("is " + t.actual);
          break;
        case PolicyOp::kRegex:
          if (!v->is_string()) {
            says("is " + t.actual + ", not a string");
          } else if (v->get_ref<const std::string&>().size() > kMaxRegexSubject) {
            // libstdc++'s matcher recurses per character: bound the input.
            says("is longer than " + std::to_string(kMaxRegexSubject) + " characters");
          } else {
            passed = RE2::FullMatch(v->get_ref<const std::string&>(), *c.regex);
            says("is " + t.actual);
          }
          break;
        case PolicyOp::kInRefs:
          passed = match_set(c.operand.get<std::string>(), c.path, *v, t);
          break;
        case PolicyOp::kEmpty: {
          if (!v->is_array() && !v->is_object() && !v->is_string()) {
            says("is " + t.actual + ", not an array, object or string");
            break;
          }
          const bool is_empty =
              v->is_string() ? v->get_ref<const std::string&>().empty() : v->empty();
          passed = is_empty == c.operand.get<bool>();
          says(is_empty ? "is empty" : (v->is_array() ? "has " : "is ") + t.actual);
          break;
        }
        case PolicyOp::kExists:
        case PolicyOp::kEachInRefs:
          break;  // handled above
      }
    }
    t.passed = passed;
    trace.push_back(std::move(t));
    return passed;
  }

  const Json& claims_;
  const ReferenceStore& refs_;
  TimePoint now_;
  std::vector<std::string>& notes_;
  std::set<std::string> noted_;
  std::map<std::string, std::optional<ReferenceLookup>> cache_;
};

// Marks the leaves that made `n` differ from `wanted`: blame(when, n, true)
// marks why a failed rule failed, blame(when, n, false) why a passed one
// passed.
void blame(const Condition& c, const Node& n, bool wanted, std::vector<ConditionTrace>& trace) {
  if (n.result == wanted) return;
  switch (c.kind) {
    case Condition::Kind::kAll:
    case Condition::Kind::kAny:
      for (std::size_t i = 0; i < c.children.size(); ++i) {
        blame(c.children[i], n.children[i], wanted, trace);
      }
      return;
    case Condition::Kind::kNot:
      blame(c.children.at(0), n.children.at(0), !wanted, trace);
      return;
    case Condition::Kind::kLeaf:
      break;
  }
  bool any = false;
  for (std::size_t i : n.traces) {
    if (trace[i].passed == n.result) {
      trace[i].decisive = true;
      any = true;
    }
  }
  if (!any) {
    for (std::size_t i : n.traces) trace[i].decisive = true;
  }
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string value_with_tier(int value) {
  return std::to_string(value) + " (" + std::string(tier_name(tier_of(value))) + ")";
}

}  // namespace

std::string ConditionTrace::guest_message() const {
  if (passed) {
    if (!reference_set.empty())
      return path + " " + actual + " is a reference value of " + reference_set;
    return path + " is " + (absent ? "absent" : actual);
  }
  if (!reference_set.empty()) {
    if (absent) return path + " is absent, but " + reference_set + " has reference values";
    return path + " " + actual + " is not a reference value of " + reference_set;
  }
  if (absent) return path + " is absent (" + op + " does not hold)";
  return path + " is " + actual + " (" + op + " does not hold)";
}

ConditionResult evaluate_condition(const Condition& condition, const nlohmann::json& document,
                                   const ReferenceStore& refs, TimePoint now) {
  ConditionResult r;
  Evaluator evaluator(document, refs, now, r.notes);
  const Node n = evaluator.eval(condition, r.trace);
  r.holds = n.result;
  blame(condition, n, !r.holds, r.trace);
  return r;
}

Appraisal appraise(const Policy& policy, const nlohmann::json& claims, const ReferenceStore& refs,
                   TimePoint now) {
  Appraisal a;
  a.policy_id = policy.id;
  a.policy_version = policy.version;

  const Json* verified = claims.is_object() ? lookup(claims, {"evidence_verified"}) : nullptr;
  if (verified == nullptr || !verified->is_boolean() || !verified->get<bool>()) {
    for (std::size_t i = 0; i < kTrustClaimCount; ++i) {
      (void)a.vector.set(static_cast<TrustClaim>(i), trust_value::kCryptoValidationFailed);
    }
    a.status = a.vector.status();
    std::string why = !claims.is_object()
                          ? "the claims are not a JSON object, so evidence_verified is absent"
                      : verified == nullptr     ? "evidence_verified is absent"
                      : !verified->is_boolean() ? "evidence_verified is not a boolean"
                                                : "evidence_verified is false";
    a.notes.push_back(why +
                      ": the evidence's signature or certificate chain did not verify, so every "
                      "claim is 99 (cryptographic validation failed) and no rule was evaluated");
    return a;
  }

  Evaluator evaluator(claims, refs, now, a.notes);
  std::array<std::optional<int>, kTrustClaimCount> values{};
  for (const auto& rule : policy.rules) {
    RuleOutcome o;
    o.rule_id = rule.id;
    o.claim = rule.claim;
    o.explain = rule.explain;
    if (rule.applies_if) {
      std::vector<ConditionTrace> pre;
      const Node n = evaluator.eval(*rule.applies_if, pre);
      if (!n.result) {
        o.applied = false;
        o.trace = std::move(pre);
        a.rules.push_back(std::move(o));
        continue;
      }
    }
    const Node n = evaluator.eval(rule.when, o.trace);
    o.passed = n.result;
    blame(rule.when, n, !o.passed, o.trace);
    o.value = o.passed ? rule.then_value : rule.else_value;
    auto& slot = values[static_cast<std::size_t>(rule.claim)];
    if (!slot || worse_tier(o.value, *slot)) slot = o.value;
    a.rules.push_back(std::move(o));
  }
  for (std::size_t i = 0; i < kTrustClaimCount; ++i) {
    if (values[i]) (void)a.vector.set(static_cast<TrustClaim>(i), *values[i]);
  }
  a.status = a.vector.status();
  return a;
}

nlohmann::json Appraisal::to_json() const {
  Json rules_json = Json::array();
  for (const auto& r : rules) {
    Json trace_json = Json::array();
    for (const auto& t : r.trace) {
      trace_json.push_back(Json{{"path", t.path},
                                {"op", t.op},
                                {"actual", t.actual},
                                {"absent", t.absent},
                                {"expected", t.expected},
                                {"passed", t.passed},
                                {"decisive", t.decisive},
                                {"message", t.message}});
    }
    Json rule = Json::object();
    rule["id"] = r.rule_id;
    rule["claim"] = std::string(trust_claim_name(r.claim));
    rule["applied"] = r.applied;
    if (r.applied) {
      rule["passed"] = r.passed;
      rule["value"] = r.value;
      rule["tier"] = std::string(tier_name(tier_of(r.value)));
    }
    if (!r.explain.empty()) rule["explain"] = r.explain;
    rule["trace"] = std::move(trace_json);
    rules_json.push_back(std::move(rule));
  }
  return Json{{"policy", Json{{"id", policy_id}, {"version", policy_version}}},
              {"status", std::string(tier_name(status))},
              {"trustworthiness_vector", vector.to_json()},
              {"rules", std::move(rules_json)},
              {"notes", notes}};
}

std::string Appraisal::explain_text() const {
  std::string out = "policy " + policy_id + " version " + std::to_string(policy_version) + ": " +
                    std::string(tier_name(status)) + "\n";
  // The first failed rule of the worst tier: the broken link, in one line.
  const RuleOutcome* worst = nullptr;
  for (const auto& r : rules) {
    if (!r.applied || r.passed) continue;
    if (vector.get(r.claim) != r.value) continue;  // a worse rule decided the claim
    if (!worst || worse_tier(r.value, worst->value)) worst = &r;
  }
  if (worst) {
    out += "broken link: rule " + worst->rule_id + " set " +
           std::string(trust_claim_name(worst->claim)) + " to " + value_with_tier(worst->value);
    for (const auto& t : worst->trace) {
      if (t.decisive) {
        out += ": " + t.message;
        break;
      }
    }
    out += "\n";
  }
  out += "trustworthiness vector:\n";
  bool any_claim = false;
  for (std::size_t i = 0; i < kTrustClaimCount; ++i) {
    const auto claim = static_cast<TrustClaim>(i);
    if (const auto v = vector.get(claim)) {
      any_claim = true;
      out += "  " + pad(std::string(trust_claim_name(claim)), 18) + value_with_tier(*v) + "\n";
    }
  }
  if (!any_claim) out += "  (no claim)\n";

  auto rule_line = [](const RuleOutcome& r) {
    std::string line = "  " + r.rule_id + ": " + std::string(trust_claim_name(r.claim));
    if (r.applied) line += " " + value_with_tier(r.value);
    line += "\n";
    if (!r.explain.empty()) line += "    " + r.explain + "\n";
    return line;
  };
  std::string failed, passed, skipped;
  for (const auto& r : rules) {
    if (!r.applied) {
      skipped += "  " + r.rule_id + ": " + std::string(trust_claim_name(r.claim)) + "\n";
      for (const auto& t : r.trace) {
        if (!t.passed) skipped += "    - " + t.message + "\n";
      }
    } else if (!r.passed) {
      failed += rule_line(r);
      for (const auto& t : r.trace) {
        if (t.decisive) failed += "    - " + t.message + "\n";
      }
    } else {
      passed += rule_line(r);
      for (const auto& t : r.trace) {
        if (t.decisive) passed += "    - " + t.message + "\n";
      }
    }
  }
  if (!failed.empty()) out += "failed rules:\n" + failed;
  if (!passed.empty()) out += "passed rules:\n" + passed;
  if (!skipped.empty()) out += "rules that did not apply:\n" + skipped;
  if (!notes.empty()) {
    out += "notes:\n";
    for (const auto& n : notes) out += "  - " + n + "\n";
  }
  return out;
}

}  // namespace concierge::verifier
