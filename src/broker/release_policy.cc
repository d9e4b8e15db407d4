#include "concierge/broker/release_policy.h"

#include <set>

#include "concierge/core/json.h"

namespace concierge::broker {
namespace {

using Json = nlohmann::json;

Unexpected bad(std::string field, std::string message) {
  return Unexpected(make_error_at(Errc::kMalformed, std::move(field), 0, std::move(message)));
}

Json condition_trace_json(const std::vector<verifier::ConditionTrace>& trace) {
  Json out = Json::array();
  for (const auto& t : trace) {
    out.push_back({{"path", t.path},
                   {"op", t.op},
                   {"actual", t.actual},
                   {"expected", t.expected},
                   {"passed", t.passed},
                   {"decisive", t.decisive},
                   {"message", t.message}});
  }
  return out;
}

}  // namespace

Result<ReleasePolicy> parse_release_policy(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j,
                             parse_json_with_offset(json_text, "policy", "release policy: "));
  return parse_release_policy_json(j);
}

Result<ReleasePolicy> parse_release_policy_json(const Json& j) {
  if (!j.is_object()) return bad("policy", "a release policy is a JSON object");
  ReleasePolicy p;
  for (const auto& [key, value] : j.items()) {
    if (key == "id") {
      if (!value.is_string() || value.get<std::string>().empty())
        return bad("id", "not a non-empty string");
      p.id = value.get<std::string>();
    } else if (key == "version") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > 1000000)
        return bad("version", "not an integer >= 1");
      p.version = value.get<int>();
    } else if (key == "description") {
      if (!value.is_string()) return bad("description", "not a string");
      p.description = value.get<std::string>();
    } else if (key == "rules") {
      if (!value.is_array() || value.empty()) return bad("rules", "not a non-empty array");
    } else {
      return bad(key, "unknown member");
    }
  }
  if (p.id.empty()) return bad("id", "missing");
  const auto rules = j.find("rules");
  if (rules == j.end()) return bad("rules", "missing");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const Json& r = (*rules)[i];
    const std::string where = "rules[" + std::to_string(i) + "]";
    if (!r.is_object()) return bad(where, "a rule is an object");
    ReleaseRule rule;
    bool has_when = false;
    for (const auto& [key, value] : r.items()) {
      if (key == "id") {
        if (!value.is_string() || value.get<std::string>().empty())
          return bad(where + ".id", "not a non-empty string");
        rule.id = value.get<std::string>();
      } else if (key == "when") {
        CONCIERGE_ASSIGN_OR_RETURN(rule.when,
                                   verifier::parse_condition_json(value, where + ".when"));
        rule.when_json = value;
        has_when = true;
      } else if (key == "explain") {
        if (!value.is_string()) return bad(where + ".explain", "not a string");
        rule.explain = value.get<std::string>();
      } else {
        return bad(where + "." + key, "unknown member");
      }
    }
    if (rule.id.empty()) return bad(where + ".id", "missing");
    if (!has_when) return bad(where + ".when", "missing");
    if (!ids.insert(rule.id).second) return bad(where + ".id", "duplicate rule id " + rule.id);
    p.rules.push_back(std::move(rule));
  }
  return p;
}

Json ReleasePolicy::to_json() const {
  Json rules_json = Json::array();
  for (const auto& r : rules) {
    Json rule = {{"id", r.id}, {"when", r.when_json}};
    if (!r.explain.empty()) rule["explain"] = r.explain;
    rules_json.push_back(std::move(rule));
  }
  Json j = {{"id", id}, {"version", version}, {"rules", std::move(rules_json)}};
  if (!description.empty()) j["description"] = description;
  return j;
}

const ReleasePolicy& default_release_policy() {
  static const ReleasePolicy policy = [] {
    auto p = parse_release_policy(R"({
      "id": "concierge/release-affirming",
      "description": "Release only to a guest whose attestation result is affirming",
      "rules": [{"id": "affirming", "when": {"path": "status", "equals": "affirming"},
                 "explain": "the verifier affirmed every attester"}]})");
    return std::move(p).value();
  }();
  return policy;
}

Json release_input(const verifier::AttestationResult& result) {
  Json submods = Json::object();
  verifier::Tier worst = verifier::Tier::kNone;
  bool first = true;
  for (const auto& [name, s] : result.submods) {
    // The submod's kind, from the verifier's claims (its name is only a name).
    const Json& annotated = s.annotated_evidence;
    Json sj = {{"tee", annotated.is_object() && annotated.contains("tee") ? annotated["tee"]
                                                                          : Json(nullptr)},
               {"status", std::string(verifier::tier_name(s.status))},
               {"vector", s.trust_vector.to_json()},
               {"claims", s.annotated_evidence.is_null() ? Json::object() : s.annotated_evidence},
               {"policy", s.appraisal_policy_id}};
    submods[name] = std::move(sj);
    if (first || static_cast<int>(s.status) > static_cast<int>(worst)) worst = s.status;
    first = false;
  }
  Json in = {{"status", std::string(verifier::tier_name(worst))}, {"submods", submods}};
  // The primary submod: the one the verifier named (the session's TEE), else
  // the only one. Never chosen by a name in the evidence: a token with
  // several submods and no primary has no primary claims, so rules on
  // "claims", "vector" or "tee" do not hold.
  std::string primary;
  if (result.primary) {
    if (result.submods.count(*result.primary) > 0) primary = *result.primary;
  } else if (result.submods.size() == 1) {
    primary = result.submods.begin()->first;
  }
  if (!primary.empty()) {
    in["tee"] = primary;
    in["vector"] = submods[primary]["vector"];
    in["claims"] = submods[primary]["claims"];
    in["policy"] = submods[primary]["policy"];
  }
  return in;
}

ReleaseDecision decide_release(const ReleasePolicy& policy, const Json& input,
                               const verifier::ReferenceStore& refs, TimePoint now) {
  ReleaseDecision d;
  d.policy_id = policy.id;
  for (const auto& rule : policy.rules) {
    auto r = verifier::evaluate_condition(rule.when, input, refs, now);
    d.trace.push_back(
        {{"rule", rule.id}, {"holds", r.holds}, {"trace", condition_trace_json(r.trace)}});
    if (r.holds || !d.rule.empty()) continue;
    d.rule = rule.id;
    std::string why;
    for (const auto& t : r.trace) {
      if (!t.decisive) continue;
      if (!why.empty()) why += "; ";
      why +=
          t.message.empty() ? t.path + " " + t.op + " " + t.expected + ": " + t.actual : t.message;
    }
    for (const auto& n : r.notes) why += (why.empty() ? "" : "; ") + n;
    d.reason = "rule '" + rule.id + "' of " + policy.id + " does not hold" +
               (why.empty() ? "" : ": " + why);
    std::string guest;
    for (const auto& t : r.trace) {
      if (!t.decisive) continue;
      guest += (guest.empty() ? "" : "; ") + t.guest_message();
    }
    d.public_reason = "rule '" + rule.id + "' of " + policy.id + " does not hold" +
                      (guest.empty() ? "" : ": " + guest);
  }
  d.allowed = d.rule.empty();
  if (d.allowed) d.reason = "all " + std::to_string(policy.rules.size()) + " rules hold";
  if (d.allowed) d.public_reason = d.reason;
  return d;
}

}  // namespace concierge::broker
