// Parsing and writing policy documents (policy.h).
#include "concierge/verifier/policy.h"

#include "concierge/core/json.h"

#include <re2/re2.h>
#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <utility>

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 9> kOpNames = {
    "equals", "one_of", "ge", "le", "regex", "in_refs", "each_in_refs", "exists", "empty"};

constexpr std::size_t kMaxDepth = 32;

Unexpected bad(std::string field, std::string message) {
  Error e = make_error(Errc::kMalformed, "policy: " + field + ": " + message);
  e.field = std::move(field);
  return Unexpected(std::move(e));
}

std::optional<PolicyOp> parse_op(std::string_view name) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return static_cast<PolicyOp>(i);
  }
  return std::nullopt;
}

bool valid_set_name(const std::string& s, bool prefix) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return prefix || s.back() != '.';
}

Result<std::vector<std::string>> split_path(const std::string& path, const std::string& where) {
  std::vector<std::string> out;
  if (path.empty()) return bad(where, "empty path");
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    std::string segment =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (segment.empty()) return bad(where, "path '" + path + "' has an empty segment");
    out.push_back(std::move(segment));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

Result<void> check_operand(PolicyOp op, const Json& operand, const std::string& where,
                           Condition& leaf) {
  switch (op) {
    case PolicyOp::kEquals:
      return {};
    case PolicyOp::kOneOf:
      if (!operand.is_array() || operand.empty()) return bad(where, "not a non-empty array");
      return {};
    case PolicyOp::kGe:
    case PolicyOp::kLe:
      if (!operand.is_number()) return bad(where, "not a number");
      return {};
    case PolicyOp::kRegex: {
      if (!operand.is_string()) return bad(where, "not a string");
      if (operand.get_ref<const std::string&>().size() > 1024) {
        return bad(where, "regular expression longer than 1024 bytes");
      }
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(1 << 20);  // bounds the compiled program
      auto re = std::make_shared<const RE2>(operand.get<std::string>(), options);
      if (!re->ok()) {
        return bad(where, "regular expression does not compile: " + re->error());
      }
      leaf.regex = std::move(re);
      return {};
    }
    case PolicyOp::kInRefs:
      if (!operand.is_string() || !valid_set_name(operand.get<std::string>(), false)) {
        return bad(where, "not a reference set name ([A-Za-z0-9._-], 1..128 characters)");
      }
      return {};
    case PolicyOp::kEachInRefs:
      if (!operand.is_string() || !valid_set_name(operand.get<std::string>(), true)) {
        return bad(where, "not a reference set prefix ([A-Za-z0-9._-], 1..128 characters)");
      }
      return {};
    case PolicyOp::kExists:
    case PolicyOp::kEmpty:
      if (!operand.is_boolean()) return bad(where, "not true or false");
      return {};
  }
  return bad(where, "unknown operator");
}

Result<Condition> parse_condition(const Json& j, const std::string& where, std::size_t depth) {
  if (depth > kMaxDepth) return bad(where, "conditions nested deeper than 32");
  if (!j.is_object()) return bad(where, "a condition is an object");
  Condition c;
  for (const char* combinator : {"all", "any"}) {
    const auto it = j.find(combinator);
    if (it == j.end()) continue;
    if (j.size() != 1) {
      for (const auto& [key, value] : j.items()) {
        if (key != combinator)
          return bad(where + "." + key, std::string("unexpected beside '") + combinator + "'");
      }
    }
    if (!it->is_array()) return bad(where + "." + combinator, "not an array");
    c.kind = std::string_view(combinator) == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
    for (std::size_t i = 0; i < it->size(); ++i) {
      CONCIERGE_ASSIGN_OR_RETURN(
          Condition child,
          parse_condition((*it)[i], where + "." + combinator + "[" + std::to_string(i) + "]",
                          depth + 1));
      c.children.push_back(std::move(child));
    }
    return c;
  }
  if (const auto it = j.find("not"); it != j.end()) {
    for (const auto& [key, value] : j.items()) {
      if (key != "not") return bad(where + "." + key, "unexpected beside 'not'");
    }
    c.kind = Condition::Kind::kNot;
    CONCIERGE_ASSIGN_OR_RETURN(Condition child, parse_condition(*it, where + ".not", depth + 1));
    c.children.push_back(std::move(child));
    return c;
  }
  const auto path = j.find("path");
  if (path == j.end()) {
    return bad(where, "neither a leaf ({\"path\": ..., operator}) nor all / any / not");
  }
  if (!path->is_string()) return bad(where + ".path", "not a string");
  c.kind = Condition::Kind::kLeaf;
  c.path = path->get<std::string>();
  CONCIERGE_ASSIGN_OR_RETURN(c.segments, split_path(c.path, where + ".path"));
  std::optional<PolicyOp> op;
  for (const auto& [key, value] : j.items()) {
    if (key == "path") continue;
    const auto parsed = parse_op(key);
    if (!parsed) return bad(where + "." + key, "unknown operator '" + key + "'");
    if (op) return bad(where + "." + key, "a leaf has exactly one operator");
    op = parsed;
    c.op = *parsed;
    c.operand = value;
    CONCIERGE_RETURN_IF_ERROR(check_operand(*parsed, value, where + "." + key, c));
  }
  if (!op) return bad(where, "a leaf needs an operator");
  return c;
}

Result<int> parse_value(const Json& rule, const char* member, const std::string& where) {
  const auto it = rule.find(member);
  if (it == rule.end()) return bad(where + "." + member, "missing");
  if (!it->is_number_integer()) return bad(where + "." + member, "not an integer");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > 127) {
    return bad(where + "." + member, "outside -128..127");  // before get<int64_t> wraps it
  }
  const auto v = it->get<std::int64_t>();
  if (v < -128 || v > 127) return bad(where + "." + member, "outside -128..127");
  return static_cast<int>(v);
}

Result<PolicyRule> parse_rule(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "a rule is an object");
  static const std::set<std::string> kMembers = {"id",   "claim", "applies_if", "when",
                                                 "then", "else",  "explain"};
  for (const auto& [key, value] : j.items()) {
    if (kMembers.count(key) == 0) return bad(where + "." + key, "unknown member");
  }
  PolicyRule r;
  const auto id = j.find("id");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty()) {
    return bad(where + ".id", "missing or not a non-empty string");
  }
  r.id = id->get<std::string>();
  const auto claim = j.find("claim");
  if (claim == j.end() || !claim->is_string())
    return bad(where + ".claim", "missing or not a string");
  const auto parsed_claim = parse_trust_claim(claim->get<std::string>());
  if (!parsed_claim) {
    return bad(where + ".claim",
               "unknown trustworthiness claim '" + claim->get<std::string>() + "'");
  }
  r.claim = *parsed_claim;
  if (const auto a = j.find("applies_if"); a != j.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(r.applies_if, parse_condition(*a, where + ".applies_if", 0));
  }
  const auto when = j.find("when");
  if (when == j.end()) return bad(where + ".when", "missing");
  CONCIERGE_ASSIGN_OR_RETURN(r.when, parse_condition(*when, where + ".when", 0));
  CONCIERGE_ASSIGN_OR_RETURN(r.then_value, parse_value(j, "then", where));
  CONCIERGE_ASSIGN_OR_RETURN(r.else_value, parse_value(j, "else", where));
  if (const auto e = j.find("explain"); e != j.end()) {
    if (!e->is_string()) return bad(where + ".explain", "not a string");
    r.explain = e->get<std::string>();
  }
  return r;
}

Json condition_json(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kAll:
    case Condition::Kind::kAny: {
      Json list = Json::array();
      for (const auto& child : c.children) list.push_back(condition_json(child));
      return Json{{c.kind == Condition::Kind::kAll ? "all" : "any", std::move(list)}};
    }
    case Condition::Kind::kNot:
      return Json{{"not", c.children.empty() ? Json::object() : condition_json(c.children[0])}};
    case Condition::Kind::kLeaf:
      break;
  }
  Json out = Json::object();
  out["path"] = c.path;
  out[std::string(policy_op_name(c.op))] = c.operand;
  return out;
}

}  // namespace

std::string_view policy_op_name(PolicyOp op) { return kOpNames[static_cast<std::size_t>(op)]; }

Result<Condition> parse_condition_json(const nlohmann::json& document, const std::string& where) {
  return parse_condition(document, where, 0);
}

Result<Policy> parse_policy(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(Json root, parse_json_with_offset(json_text, "policy", "policy: "));
  return parse_policy_json(root);
}

Result<Policy> parse_policy_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad("policy", "not a JSON object");
  static const std::set<std::string> kMembers = {"id", "version", "description", "rules"};
  for (const auto& [key, value] : j.items()) {
    if (kMembers.count(key) == 0) return bad(key, "unknown member");
  }
  Policy p;
  const auto id = j.find("id");
  if (id == j.end() || !id->is_string() || id->get<std::string>().empty()) {
    return bad("id", "missing or not a non-empty string");
  }
  p.id = id->get<std::string>();
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<std::int64_t>() < 1 ||
      version->get<std::int64_t>() > 0x7fffffff) {
    return bad("version", "missing or not an integer >= 1");
  }
  p.version = static_cast<int>(version->get<std::int64_t>());
  if (const auto d = j.find("description"); d != j.end()) {
    if (!d->is_string()) return bad("description", "not a string");
    p.description = d->get<std::string>();
  }
  const auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array()) return bad("rules", "missing or not an array");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const std::string where = "rules[" + std::to_string(i) + "]";
    CONCIERGE_ASSIGN_OR_RETURN(PolicyRule rule, parse_rule((*rules)[i], where));
    if (!ids.insert(rule.id).second)
      return bad(where + ".id", "duplicate rule id '" + rule.id + "'");
    p.rules.push_back(std::move(rule));
  }
  return p;
}

nlohmann::json Policy::to_json() const {
  Json rules_json = Json::array();
  for (const auto& r : rules) {
    Json rule = Json::object();
    rule["id"] = r.id;
    rule["claim"] = std::string(trust_claim_name(r.claim));
    if (r.applies_if) rule["applies_if"] = condition_json(*r.applies_if);
    rule["when"] = condition_json(r.when);
    rule["then"] = r.then_value;
    rule["else"] = r.else_value;
    if (!r.explain.empty()) rule["explain"] = r.explain;
    rules_json.push_back(std::move(rule));
  }
  Json out = Json::object();
  out["id"] = id;
  out["version"] = version;
  if (!description.empty()) out["description"] = description;
  out["rules"] = std::move(rules_json);
  return out;
}

}  // namespace concierge::verifier
