#include "concierge/verifier/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "concierge/core/time.h"
#include "concierge/verifier/reference_store.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

TimePoint at(const char* text) { return parse_rfc3339(text).value(); }
const TimePoint kNow = at("2026-03-01T00:00:00Z");

const std::string kMeasurement(96, 'a');
const std::string kOtherMeasurement(96, 'b');

ReferenceValue ref(std::string name, std::string value, const char* expires = nullptr) {
  ReferenceValue v;
  v.name = std::move(name);
  v.value = std::move(value);
  if (expires) v.expires = at(expires);
  v.provenance = "test";
  return v;
}

// One rule on "configuration", then 2 / else 96, over `claims` (verified).
Appraisal run_when(const Json& when, Json claims, const ReferenceStore& refs) {
  const Json doc = {{"id", "test"},
                    {"version", 1},
                    {"rules", Json::array({{{"id", "r"},
                                            {"claim", "configuration"},
                                            {"when", when},
                                            {"then", 2},
                                            {"else", 96}}})}};
  auto policy = parse_policy_json(doc);
  EXPECT_TRUE(policy) << policy.error().to_string();
  if (!policy) return {};
  claims["evidence_verified"] = true;
  return appraise(*policy, claims, refs, kNow);
}

bool holds(const Json& when, const Json& claims, const ReferenceStore& refs) {
  Appraisal a = run_when(when, claims, refs);
  EXPECT_EQ(a.rules.size(), 1u);
  if (a.rules.empty()) return false;
  EXPECT_EQ(a.vector.get(TrustClaim::kConfiguration), a.rules[0].passed ? 2 : 96);
  return a.rules[0].passed;
}

bool holds(const Json& when, const Json& claims) {
  MemoryReferenceStore none;
  return holds(when, claims, none);
}

Json leaf(const char* path, const char* op, Json operand) {
  return Json{{"path", path}, {op, std::move(operand)}};
}

// --- operators ---------------------------------------------------------------

TEST(PolicyOperators, Equals) {
  const Json claims = {{"debug", false}, {"tee", "snp"}, {"n", 3}, {"o", {{"a", 1}}}};
  EXPECT_TRUE(holds(leaf("debug", "equals", false), claims));
  EXPECT_FALSE(holds(leaf("debug", "equals", true), claims));
  EXPECT_TRUE(holds(leaf("tee", "equals", "snp"), claims));
  EXPECT_FALSE(holds(leaf("tee", "equals", "SNP"), claims));
  EXPECT_TRUE(holds(leaf("n", "equals", 3), claims));
  EXPECT_TRUE(holds(leaf("n", "equals", 3.0), claims));
  EXPECT_FALSE(holds(leaf("n", "equals", "3"), claims));
  EXPECT_TRUE(holds(leaf("o", "equals", Json{{"a", 1}}), claims));
}

TEST(PolicyOperators, OneOf) {
  const Json claims = {{"tcb_status", "SWHardeningNeeded"}};
  EXPECT_TRUE(holds(leaf("tcb_status", "one_of", {"UpToDate", "SWHardeningNeeded"}), claims));
  EXPECT_FALSE(holds(leaf("tcb_status", "one_of", {"UpToDate"}), claims));
  EXPECT_FALSE(holds(leaf("tcb_status", "one_of", {1, 2}), claims));
}

TEST(PolicyOperators, GeAndLe) {
  const Json claims = {{"svn", {{"snp", 8}, {"microcode", 209}, {"big", 18446744073709551615ull}}},
                       {"neg", -5},
                       {"f", 1.5},
                       {"s", "9"}};
  EXPECT_TRUE(holds(leaf("svn.snp", "ge", 8), claims));
  EXPECT_TRUE(holds(leaf("svn.snp", "ge", 7), claims));
  EXPECT_FALSE(holds(leaf("svn.snp", "ge", 9), claims));
  EXPECT_TRUE(holds(leaf("svn.snp", "le", 8), claims));
  EXPECT_FALSE(holds(leaf("svn.snp", "le", 7), claims));
  EXPECT_TRUE(holds(leaf("svn.microcode", "ge", 200.5), claims));
  EXPECT_TRUE(holds(leaf("svn.big", "ge", 18446744073709551614ull), claims));
  EXPECT_FALSE(holds(leaf("svn.big", "le", 9223372036854775807ll), claims));
  EXPECT_TRUE(holds(leaf("neg", "le", 0), claims));
  EXPECT_FALSE(holds(leaf("neg", "ge", 0), claims));
  EXPECT_TRUE(holds(leaf("neg", "ge", -6), claims));
  EXPECT_TRUE(holds(leaf("f", "ge", 1), claims));
  EXPECT_FALSE(holds(leaf("f", "ge", 2), claims));
  // A string is not a number, however it reads.
  EXPECT_FALSE(holds(leaf("s", "ge", 1), claims));
  Appraisal a = run_when(leaf("s", "ge", 1), claims, MemoryReferenceStore());
  EXPECT_NE(a.rules[0].trace[0].message.find("not a number"), std::string::npos);
}

TEST(PolicyOperators, RegexIsAFullMatch) {
  const Json claims = {{"signer", "acme-release-7"}, {"n", 7}};
  EXPECT_TRUE(holds(leaf("signer", "regex", "acme-release-[0-9]+"), claims));
  EXPECT_FALSE(holds(leaf("signer", "regex", "acme"), claims));  // not a search
  EXPECT_TRUE(holds(leaf("signer", "regex", "acme.*"), claims));
  EXPECT_FALSE(holds(leaf("n", "regex", "7"), claims));  // only strings
  // Very long subjects are refused rather than matched (the matcher recurses).
  Appraisal a =
      run_when(leaf("s", "regex", "a*"), {{"s", std::string(5000, 'a')}}, MemoryReferenceStore());
  EXPECT_FALSE(a.rules.at(0).passed);
  EXPECT_NE(a.rules[0].trace.at(0).message.find("longer than 4096"), std::string::npos);
  // Patterns that make a backtracking matcher run for ages (exponential in
  // the subject) match in linear time: these return at once.
  const std::string subject(4000, 'a');
  for (const char* evil : {"(a+)+b", "(a|aa)*c", "(a*)*(b|c)"}) {
    EXPECT_FALSE(holds(leaf("s", "regex", evil), {{"s", subject}})) << evil;
  }
  // Backreferences are not RE2: refused when the policy is parsed.
  EXPECT_FALSE(parse_condition_json(Json{{"path", "s"}, {"regex", "(a)\\1"}}, "when"));
}

TEST(PolicyOperators, InRefs) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add_all({ref("snp.measurement", kMeasurement), ref("sgx.mrsigner", "ABCDEF")}));
  EXPECT_TRUE(holds(leaf("measurement", "in_refs", "snp.measurement"),
                    {{"measurement", kMeasurement}}, refs));
  EXPECT_FALSE(holds(leaf("measurement", "in_refs", "snp.measurement"),
                     {{"measurement", kOtherMeasurement}}, refs));
  EXPECT_TRUE(holds(leaf("signer", "in_refs", "sgx.mrsigner"), {{"signer", "abcdef"}}, refs));
  EXPECT_FALSE(holds(leaf("measurement", "in_refs", "tdx.mrtd"), {{"measurement", kMeasurement}},
                     refs));  // an empty set
  EXPECT_FALSE(holds(leaf("n", "in_refs", "snp.measurement"), {{"n", 1}}, refs));

  Appraisal a = run_when(leaf("measurement", "in_refs", "snp.measurement"),
                         {{"measurement", kOtherMeasurement}}, refs);
  const ConditionTrace& t = a.rules[0].trace.at(0);
  EXPECT_EQ(t.actual, kOtherMeasurement);
  EXPECT_NE(t.expected.find(kMeasurement), std::string::npos);
  EXPECT_NE(t.message.find(kOtherMeasurement), std::string::npos);
  EXPECT_NE(t.message.find(kMeasurement), std::string::npos);
  EXPECT_TRUE(t.decisive);
}

TEST(PolicyOperators, EachInRefs) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(
      refs.add_all({ref("tdx.rtmr0", "00aa"), ref("tdx.rtmr1", "11aa"), ref("tdx.rtmr1", "11bb")}));
  const Json when = leaf("registers", "each_in_refs", "tdx.");
  // rtmr2 has no reference values: not constrained.
  EXPECT_TRUE(
      holds(when, {{"registers", {{"rtmr0", "00aa"}, {"rtmr1", "11bb"}, {"rtmr2", "ff"}}}}, refs));
  Appraisal a = run_when(when, {{"registers", {{"rtmr0", "00aa"}, {"rtmr1", "11cc"}}}}, refs);
  ASSERT_FALSE(a.rules[0].passed);
  ASSERT_EQ(a.rules[0].trace.size(), 2u);
  EXPECT_TRUE(a.rules[0].trace[0].passed);
  EXPECT_FALSE(a.rules[0].trace[0].decisive);
  EXPECT_EQ(a.rules[0].trace[1].path, "registers.rtmr1");
  EXPECT_FALSE(a.rules[0].trace[1].passed);
  EXPECT_TRUE(a.rules[0].trace[1].decisive);
  EXPECT_NE(a.rules[0].trace[1].message.find("11cc"), std::string::npos);
  EXPECT_NE(a.rules[0].trace[1].message.find("tdx.rtmr1"), std::string::npos);

  // Nothing constrained: nothing was compared, which never affirms.
  a = run_when(when, {{"registers", {{"rtmr3", "33"}}}}, refs);
  ASSERT_FALSE(a.rules[0].passed);
  EXPECT_NE(a.rules[0].trace.at(0).message.find("nothing was compared"), std::string::npos);
  EXPECT_FALSE(holds(when, {{"registers", "00aa"}}, refs));
  EXPECT_FALSE(holds(when, Json::object(), refs));
  EXPECT_FALSE(holds(when, {{"registers", {{"rtmr0", 5}}}}, refs));
}

TEST(PolicyOperators, ExistsAndEmpty) {
  const Json claims = {{"log", {{"unknown_events", Json::array()}, {"s", ""}, {"o", {{"a", 1}}}}},
                       {"nothing", nullptr}};
  EXPECT_TRUE(holds(leaf("log", "exists", true), claims));
  EXPECT_FALSE(holds(leaf("log", "exists", false), claims));
  EXPECT_TRUE(holds(leaf("binding", "exists", false), claims));
  EXPECT_FALSE(holds(leaf("binding", "exists", true), claims));
  EXPECT_FALSE(holds(leaf("nothing", "exists", true), claims));  // null is absent
  EXPECT_TRUE(holds(leaf("log.unknown_events", "empty", true), claims));
  EXPECT_FALSE(holds(leaf("log.unknown_events", "empty", false), claims));
  EXPECT_TRUE(holds(leaf("log.s", "empty", true), claims));
  EXPECT_TRUE(holds(leaf("log.o", "empty", false), claims));
  EXPECT_FALSE(holds(leaf("log.missing", "empty", true), claims));  // absent is never empty
  EXPECT_FALSE(holds(leaf("log.missing", "empty", false), claims));
  EXPECT_FALSE(holds(leaf("log", "empty", true), {{"log", 5}}));
}

// --- combinators and paths ---------------------------------------------------

TEST(PolicyCombinators, AllAnyNot) {
  const Json claims = {{"a", true}, {"b", false}};
  const Json a = leaf("a", "equals", true);
  const Json b = leaf("b", "equals", true);
  EXPECT_TRUE(holds({{"all", {a}}}, claims));
  EXPECT_FALSE(holds({{"all", {a, b}}}, claims));
  EXPECT_TRUE(holds({{"any", {a, b}}}, claims));
  EXPECT_FALSE(holds({{"any", {b}}}, claims));
  EXPECT_TRUE(holds({{"not", b}}, claims));
  EXPECT_FALSE(holds({{"not", a}}, claims));
  EXPECT_TRUE(holds({{"all", Json::array()}}, claims));   // vacuously
  EXPECT_FALSE(holds({{"any", Json::array()}}, claims));  // nothing holds
  EXPECT_TRUE(holds({{"all", {a, {{"any", {b, {{"not", b}}}}}}}}, claims));
}

TEST(PolicyCombinators, EveryLeafIsTracedAndOnlyTheCulpritsBlamed) {
  const Json claims = {{"a", true}, {"b", false}, {"c", 1}};
  // all[ any[a, b], c >= 2 ]: the any holds thanks to a, so b is not decisive;
  // c is.
  const Json when = {
      {"all",
       {{{"any", {leaf("a", "equals", true), leaf("b", "equals", true)}}}, leaf("c", "ge", 2)}}};
  Appraisal r = run_when(when, claims, MemoryReferenceStore());
  ASSERT_FALSE(r.rules[0].passed);
  const auto& t = r.rules[0].trace;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_TRUE(t[0].passed);
  EXPECT_FALSE(t[1].passed);
  EXPECT_FALSE(t[1].decisive);
  EXPECT_FALSE(t[2].passed);
  EXPECT_TRUE(t[2].decisive);

  // Under "not", a leaf that holds is the culprit.
  r = run_when({{"not", leaf("a", "equals", true)}}, claims, MemoryReferenceStore());
  ASSERT_FALSE(r.rules[0].passed);
  EXPECT_TRUE(r.rules[0].trace.at(0).passed);
  EXPECT_TRUE(r.rules[0].trace.at(0).decisive);
}

TEST(PolicyPaths, MissingClaimsAreAbsentAndFalse) {
  const Json claims = {{"registers", {{"rtmr0", "00"}}}, {"tee", "tdx"}};
  for (const char* path : {"measurement", "registers.rtmr9", "tee.inner", "registers.rtmr0.x"}) {
    Appraisal a = run_when(leaf(path, "equals", "00"), claims, MemoryReferenceStore());
    ASSERT_EQ(a.rules.size(), 1u);
    EXPECT_FALSE(a.rules[0].passed) << path;
    const ConditionTrace& t = a.rules[0].trace.at(0);
    EXPECT_TRUE(t.absent) << path;
    EXPECT_EQ(t.actual, "absent");
    EXPECT_EQ(t.path, path);
    EXPECT_NE(t.message.find("absent"), std::string::npos) << t.message;
  }
  EXPECT_TRUE(holds(leaf("registers.rtmr0", "equals", "00"), claims));
  // "not" of a leaf on an absent claim holds (documented).
  EXPECT_TRUE(holds({{"not", leaf("debug", "equals", true)}}, claims));
}

// --- combination -------------------------------------------------------------

TEST(PolicyCombination, AClaimTakesTheWorstTier) {
  auto policy = parse_policy(R"({"id": "p", "version": 3, "rules": [
    {"id": "a", "claim": "executables", "when": {"path": "x", "equals": 1}, "then": 3, "else": 3},
    {"id": "b", "claim": "executables", "when": {"path": "x", "equals": 1}, "then": 2, "else": 2},
    {"id": "c", "claim": "executables", "when": {"path": "x", "equals": 2}, "then": 2, "else": 33},
    {"id": "d", "claim": "executables", "when": {"path": "x", "equals": 2}, "then": 2, "else": 32},
    {"id": "e", "claim": "hardware", "when": {"path": "x", "equals": 1}, "then": 2, "else": 97},
    {"id": "f", "claim": "hardware", "when": {"path": "x", "equals": 2}, "then": 2, "else": 96},
    {"id": "g", "claim": "configuration", "when": {"path": "x", "equals": 1}, "then": 0, "else": 0},
    {"id": "h", "claim": "configuration", "when": {"path": "x", "equals": 1}, "then": 2, "else": 2}
  ]})");
  ASSERT_TRUE(policy) << policy.error().to_string();
  MemoryReferenceStore refs;
  Appraisal a = appraise(*policy, {{"evidence_verified", true}, {"x", 1}}, refs, kNow);
  EXPECT_EQ(a.policy_id, "p");
  EXPECT_EQ(a.policy_version, 3);
  // Warning beats affirming; of two warnings, the first rule's.
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  // Contraindicated beats affirming.
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), 96);
  // Affirming beats none.
  EXPECT_EQ(a.vector.get(TrustClaim::kConfiguration), 2);
  EXPECT_FALSE(a.vector.get(TrustClaim::kRuntimeOpaque).has_value());
  EXPECT_EQ(a.status, Tier::kContraindicated);
  EXPECT_EQ(a.status, a.vector.status());
  const std::string text = a.explain_text();
  EXPECT_NE(text.find("broken link: rule f set hardware to 96 (contraindicated)"),
            std::string::npos)
      << text;
}

TEST(PolicyCombination, AppliesIfSkipsARule) {
  auto policy = parse_policy(R"({"id": "p", "version": 1, "rules": [
    {"id": "bound", "claim": "instance-identity", "applies_if": {"path": "binding", "exists": true},
     "when": {"path": "binding", "equals": true}, "then": 2, "else": 96}]})");
  ASSERT_TRUE(policy);
  MemoryReferenceStore refs;
  Appraisal a = appraise(*policy, {{"evidence_verified", true}}, refs, kNow);
  ASSERT_EQ(a.rules.size(), 1u);
  EXPECT_FALSE(a.rules[0].applied);
  EXPECT_FALSE(a.vector.get(TrustClaim::kInstanceIdentity).has_value());
  EXPECT_EQ(a.status, Tier::kNone);
  EXPECT_NE(a.explain_text().find("did not apply"), std::string::npos);
  a = appraise(*policy, {{"evidence_verified", true}, {"binding", false}}, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kInstanceIdentity), 96);
}

TEST(PolicyCombination, UnverifiedEvidenceIs99Everywhere) {
  auto policy = default_policy("snp");
  ASSERT_TRUE(policy);
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  for (const Json& claims :
       {Json{{"evidence_verified", false},
             {"tee", "snp"},
             {"debug", false},
             {"vendor_chain", true},
             {"measurement", kMeasurement}},
        Json{{"tee", "snp"}}, Json{{"evidence_verified", "yes"}}, Json::array()}) {
    Appraisal a = appraise(*policy, claims, refs, kNow);
    for (std::size_t i = 0; i < kTrustClaimCount; ++i) {
      EXPECT_EQ(a.vector.get(static_cast<TrustClaim>(i)), 99) << claims.dump();
    }
    EXPECT_EQ(a.status, Tier::kContraindicated);
    EXPECT_TRUE(a.rules.empty());
    ASSERT_EQ(a.notes.size(), 1u);
    EXPECT_NE(a.notes[0].find("99"), std::string::npos);
    EXPECT_NE(a.explain_text().find("evidence_verified"), std::string::npos);
  }
}

class FailingStore final : public ReferenceStore {
 public:
  Result<void> add_all(std::vector<ReferenceValue>) override { return fail(Errc::kIo, "down"); }
  Result<std::size_t> remove(std::string_view, std::optional<std::string_view>) override {
    return fail(Errc::kIo, "down");
  }
  Result<std::vector<ReferenceValue>> list(std::optional<std::string_view>) const override {
    return fail(Errc::kIo, "database unreachable");
  }
};

TEST(PolicyCombination, AFailingStoreNeverAffirms) {
  FailingStore refs;
  Appraisal a = run_when(leaf("measurement", "in_refs", "snp.measurement"),
                         {{"measurement", kMeasurement}}, refs);
  ASSERT_FALSE(a.rules[0].passed);
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_NE(a.notes[0].find("database unreachable"), std::string::npos);
  EXPECT_FALSE(
      holds(leaf("registers", "each_in_refs", "tpm."), {{"registers", {{"pcr0", "00"}}}}, refs));
}

// --- parsing -----------------------------------------------------------------

TEST(PolicyParse, StrictErrorsNameWhere) {
  const std::string rule_head = R"({"id": "p", "version": 1, "rules": [{"id": "r", "claim": )";
  struct Case {
    std::string text;
    std::string field;
  };
  auto with_when = [&](const std::string& when) {
    return rule_head + R"("hardware", "when": )" + when + R"(, "then": 2, "else": 97}]})";
  };
  const std::vector<Case> cases = {
      {R"([])", "policy"},
      {R"({"version": 1, "rules": []})", "id"},
      {R"({"id": "", "version": 1, "rules": []})", "id"},
      {R"({"id": "p", "rules": []})", "version"},
      {R"({"id": "p", "version": 0, "rules": []})", "version"},
      {R"({"id": "p", "version": 1})", "rules"},
      {R"({"id": "p", "version": 1, "rules": [], "author": "me"})", "author"},
      {R"({"id": "p", "version": 1, "rules": [5]})", "rules[0]"},
      {rule_head + R"("hardwear", "when": {"path": "a", "exists": true}, "then": 2, "else": 97}]})",
       "rules[0].claim"},
      {rule_head +
           R"("hardware", "when": {"path": "a", "exists": true}, "then": 2, "else": 97, "x": 1}]})",
       "rules[0].x"},
      {rule_head + R"("hardware", "when": {"path": "a", "exists": true}, "else": 97}]})",
       "rules[0].then"},
      {rule_head +
           R"("hardware", "when": {"path": "a", "exists": true}, "then": 2, "else": 200}]})",
       "rules[0].else"},
      {rule_head +
           R"("hardware", "when": {"path": "a", "exists": true}, "then": 2.5, "else": 9}]})",
       "rules[0].then"},
      {rule_head + R"("hardware", "then": 2, "else": 97}]})", "rules[0].when"},
      {with_when(R"({"path": "a", "equal": 1})"), "rules[0].when.equal"},
      {with_when(R"({"path": "a"})"), "rules[0].when"},
      {with_when(R"({"path": "a", "equals": 1, "exists": true})"), "rules[0].when.exists"},
      {with_when(R"({"path": "a..b", "equals": 1})"), "rules[0].when.path"},
      {with_when(R"({"path": 5, "equals": 1})"), "rules[0].when.path"},
      {with_when(R"({"all": [{"path": "a", "equals": 1}, {"path": "b", "ge": "x"}]})"),
       "rules[0].when.all[1].ge"},
      {with_when(R"({"any": [{"path": "a", "one_of": []}]})"), "rules[0].when.any[0].one_of"},
      {with_when(R"({"not": {"path": "a", "regex": "("}})"), "rules[0].when.not.regex"},
      {with_when(R"({"path": "a", "in_refs": "bad name"})"), "rules[0].when.in_refs"},
      {with_when(R"({"path": "a", "each_in_refs": 3})"), "rules[0].when.each_in_refs"},
      {with_when(R"({"path": "a", "exists": "yes"})"), "rules[0].when.exists"},
      {with_when(R"({"path": "a", "empty": 1})"), "rules[0].when.empty"},
      {with_when(R"({"all": {}})"), "rules[0].when.all"},
      {with_when(R"({"all": [], "any": []})"), "rules[0].when.any"},
      {with_when(R"({"not": {"path": "a", "exists": true}, "path": "b"})"), "rules[0].when.path"},
      {with_when(R"({"nand": []})"), "rules[0].when"},
      {with_when(R"([])"), "rules[0].when"},
      {R"({"id": "p", "version": 1, "rules": [
          {"id": "r", "claim": "hardware", "when": {"all": []}, "then": 2, "else": 2},
          {"id": "r", "claim": "hardware", "when": {"all": []}, "then": 2, "else": 2}]})",
       "rules[1].id"},
      {rule_head + R"("hardware", "applies_if": {"path": "a", "is": 1}, "when": {"all": []},
          "then": 2, "else": 2}]})",
       "rules[0].applies_if.is"},
  };
  for (const auto& c : cases) {
    auto p = parse_policy(c.text);
    ASSERT_FALSE(p) << c.text;
    EXPECT_EQ(p.error().code, Errc::kMalformed) << c.text;
    EXPECT_EQ(p.error().field, c.field) << c.text << "\n" << p.error().to_string();
  }
  auto syntax = parse_policy(R"({"id": "p", "version": 1, "rules": [}")");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, Errc::kMalformed);
  EXPECT_TRUE(syntax.error().offset.has_value());

  // Too deep a nesting is refused rather than recursed into.
  std::string deep = R"({"path": "a", "exists": true})";
  for (int i = 0; i < 40; ++i) deep = R"({"not": )" + deep + "}";
  auto p = parse_policy(with_when(deep));
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("deeper"), std::string::npos);
}

TEST(PolicyParse, RoundTripsThroughJson) {
  for (std::string_view name : default_policy_names()) {
    auto p = default_policy(name);
    ASSERT_TRUE(p) << name << ": " << p.error().to_string();
    EXPECT_EQ(p->id, "concierge/default-" + std::string(name));
    EXPECT_EQ(p->version, 1);
    EXPECT_FALSE(p->rules.empty());
    auto again = parse_policy_json(p->to_json());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->to_json(), p->to_json());
    EXPECT_EQ(p->to_json(), Json::parse(default_policy_text(name)));
  }
  auto missing = default_policy("cca");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_TRUE(default_policy_text("cca").empty());
}

// --- the default policies ------------------------------------------------------

Json snp_claims() {
  return {{"tee", "snp"},
          {"evidence_verified", true},
          {"vendor_chain", true},
          {"binding", true},
          {"debug", false},
          {"measurement", kMeasurement},
          {"svn", {{"bootloader", 4}, {"tee", 0}, {"snp", 22}, {"microcode", 213}}},
          {"product", "Milan"},
          {"vmpl", 0},
          {"migration_agent", false},
          {"tcb_minimum", {{"met", true}}},
          {"host_data", std::string(64, '0')},
          {"report_data", std::string(128, '0')}};
}

Json tdx_claims() {
  return {
      {"tee", "tdx"},
      {"evidence_verified", true},
      {"vendor_chain", true},
      {"binding", true},
      {"debug", false},
      {"measurement", kMeasurement},
      {"registers",
       {{"rtmr0", std::string(96, '0')},
        {"rtmr1", std::string(96, '1')},
        {"rtmr2", std::string(96, '2')},
        {"rtmr3", std::string(96, '3')}}},
      {"log", {{"replayed", true}, {"matches_registers", true}, {"unknown_events", Json::array()}}},
      {"launch_config",
       {{"mrconfigid", std::string(96, '0')},
        {"mrowner", std::string(96, '0')},
        {"mrownerconfig", std::string(96, '0')}}},
      {"migratable", false},
      {"tcb_status", "UpToDate"}};
}

MemoryReferenceStore tdx_refs() {
  MemoryReferenceStore refs;
  EXPECT_TRUE(refs.add_all({ref("tdx.mrtd", kMeasurement), ref("tdx.rtmr0", std::string(96, '0')),
                            ref("tdx.rtmr1", std::string(96, '1'))}));
  return refs;
}

TEST(DefaultPolicy, SnpAffirmsWithTheRightReferenceValue) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Appraisal a = appraise(default_policy("snp").value(), snp_claims(), refs, kNow);
  EXPECT_EQ(a.status, Tier::kAffirming) << a.explain_text();
  EXPECT_EQ(a.vector.to_json(), Json({{"hardware", 2},
                                      {"configuration", 2},
                                      {"executables", 2},
                                      {"runtime-opaque", 2},
                                      {"instance-identity", 2}}));
  EXPECT_TRUE(a.notes.empty());
  for (const auto& r : a.rules) EXPECT_TRUE(r.passed) << r.rule_id;
}

TEST(DefaultPolicy, SnpWrongMeasurementIsNamedWithBothValues) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["measurement"] = kOtherMeasurement;
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), trust_value::kUnrecognizedRuntime);
  EXPECT_EQ(a.status, Tier::kWarning);
  const std::string text = a.explain_text();
  EXPECT_NE(text.find("broken link: rule known-measurement set executables to 33 (warning)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("executables"), std::string::npos);
  EXPECT_NE(text.find(kOtherMeasurement), std::string::npos);
  EXPECT_NE(text.find(kMeasurement), std::string::npos);
  EXPECT_NE(text.find("snp.measurement"), std::string::npos);

  const Json j = a.to_json();
  EXPECT_EQ(j["status"], "warning");
  EXPECT_EQ(j["policy"]["id"], "concierge/default-snp");
  EXPECT_EQ(j["trustworthiness_vector"]["executables"], 33);
  bool found = false;
  for (const auto& r : j["rules"]) {
    if (r["id"] != "known-measurement") continue;
    found = true;
    EXPECT_EQ(r["passed"], false);
    EXPECT_EQ(r["tier"], "warning");
    EXPECT_EQ(r["trace"][0]["actual"], kOtherMeasurement);
    EXPECT_EQ(r["trace"][0]["decisive"], true);
  }
  EXPECT_TRUE(found);
}

TEST(DefaultPolicy, DebugGuestIsContraindicated) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["debug"] = true;
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kConfiguration), trust_value::kUnsupportableConfig);
  EXPECT_EQ(a.status, Tier::kContraindicated);
  EXPECT_NE(a.explain_text().find("debug is true, expected false"), std::string::npos)
      << a.explain_text();

  claims.erase("debug");  // absent is not "not debuggable"
  a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kConfiguration), 96);
  EXPECT_NE(a.explain_text().find("debug is absent"), std::string::npos);
}

TEST(DefaultPolicy, BindingFalseIsContraindicatedAndAbsentBindingSetsNothing) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["binding"] = false;
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kInstanceIdentity), trust_value::kUntrustworthyInstance);
  EXPECT_EQ(a.status, Tier::kContraindicated);
  claims.erase("binding");
  a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_FALSE(a.vector.get(TrustClaim::kInstanceIdentity).has_value());
  EXPECT_EQ(a.status, Tier::kAffirming);
}

TEST(DefaultPolicy, TestRootIsUnsafeHardware) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["vendor_chain"] = false;
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), trust_value::kUnsafeHardware);
  EXPECT_EQ(a.status, Tier::kWarning);
  EXPECT_NE(a.explain_text().find("vendor_chain is false, expected true"), std::string::npos);

  // A root the operator configured explicitly is trusted (the claims say
  // which root it was, for a stricter policy).
  claims = snp_claims();
  claims["root"] = "configured";
  a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), trust_value::kGenuineHardware);
}

TEST(DefaultPolicy, ExpiredReferenceValueIsIgnoredAndNoted) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement, "2026-01-01T00:00:00Z")));
  Appraisal a = appraise(default_policy("snp").value(), snp_claims(), refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_NE(a.notes[0].find("expired 2026-01-01T00:00:00Z"), std::string::npos) << a.notes[0];
  EXPECT_NE(a.notes[0].find("snp.measurement"), std::string::npos);
  EXPECT_NE(a.notes[0].find("ignored"), std::string::npos);
  EXPECT_NE(a.notes[0].find("it matches measurement"), std::string::npos);
  EXPECT_NE(a.explain_text().find(a.notes[0]), std::string::npos);
  EXPECT_NE(a.explain_text().find("no unexpired value"), std::string::npos);

  // Before it expires it counts.
  a = appraise(default_policy("snp").value(), snp_claims(), refs, at("2025-12-31T23:59:59Z"));
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 2);
  EXPECT_TRUE(a.notes.empty());
}

TEST(DefaultPolicy, TdxAffirmsAndATcbStatusWarnsOrContraindicates) {
  MemoryReferenceStore refs = tdx_refs();
  auto policy = default_policy("tdx").value();
  Appraisal a = appraise(policy, tdx_claims(), refs, kNow);
  EXPECT_EQ(a.status, Tier::kAffirming) << a.explain_text();
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), 2);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 2);
  EXPECT_EQ(a.vector.get(TrustClaim::kRuntimeOpaque), 2);

  for (const char* status : {"SWHardeningNeeded", "ConfigurationNeeded", "OutOfDate",
                             "ConfigurationAndSWHardeningNeeded", "OutOfDateConfigurationNeeded"}) {
    Json claims = tdx_claims();
    claims["tcb_status"] = status;
    a = appraise(policy, claims, refs, kNow);
    EXPECT_EQ(a.vector.get(TrustClaim::kHardware), 32) << status;
  }
  Json claims = tdx_claims();
  claims["tcb_status"] = "Revoked";
  a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), 96);

  // A wrong RTMR with references is unrecognized; one without them is not checked.
  claims = tdx_claims();
  claims["registers"]["rtmr1"] = std::string(96, 'f');
  a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  EXPECT_NE(a.explain_text().find("registers.rtmr1"), std::string::npos);
  claims = tdx_claims();
  claims["registers"]["rtmr3"] = std::string(96, 'f');
  a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 2);
}

TEST(DefaultPolicy, UnknownLogEventIsNamedInTheExplanation) {
  MemoryReferenceStore refs = tdx_refs();
  Json claims = tdx_claims();
  claims["log"]["unknown_events"] = Json::array(
      {{{"register", "rtmr1"},
        {"event", 12},
        {"description", "EV_EFI_BOOT_SERVICES_APPLICATION \\EFI\\BOOT\\BOOTX64.EFI"},
        {"digest", std::string(96, 'c')}},
       {{"register", "rtmr2"}, {"event", 30}, {"description", "EV_IPL"}, {"digest", "dd"}}});
  Appraisal a = appraise(default_policy("tdx").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  const std::string text = a.explain_text();
  EXPECT_NE(text.find("log-explained"), std::string::npos) << text;
  EXPECT_NE(text.find("log.unknown_events has 2 entries; the first: register rtmr1, event 12, "
                      "EV_EFI_BOOT_SERVICES_APPLICATION \\EFI\\BOOT\\BOOTX64.EFI, digest " +
                      std::string(96, 'c')),
            std::string::npos)
      << text;

  // Without event digest references the normalizer leaves the list out: the
  // registers decide.
  claims = tdx_claims();
  claims["log"].erase("unknown_events");
  a = appraise(default_policy("tdx").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 2) << a.explain_text();

  // A log that does not replay to the registers says so.
  claims = tdx_claims();
  claims["log"]["matches_registers"] = false;
  a = appraise(default_policy("tdx").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  EXPECT_NE(a.explain_text().find("log.matches_registers is false, expected true"),
            std::string::npos);
}

TEST(DefaultPolicy, SgxAcceptsMrenclaveOrMrsigner) {
  auto policy = default_policy("sgx").value();
  Json claims = {{"tee", "sgx"},
                 {"evidence_verified", true},
                 {"vendor_chain", true},
                 {"debug", false},
                 {"measurement", kMeasurement.substr(0, 64)},
                 {"signer", "fmspc:00906ed50000"},
                 {"native", {{"mrsigner", "5a5a5a5a"}}},
                 {"tcb_status", "UpToDate"}};
  MemoryReferenceStore by_enclave;
  ASSERT_TRUE(by_enclave.add(ref("sgx.mrenclave", kMeasurement.substr(0, 64))));
  EXPECT_EQ(appraise(policy, claims, by_enclave, kNow).status, Tier::kAffirming);
  MemoryReferenceStore by_signer;
  ASSERT_TRUE(by_signer.add(ref("sgx.mrsigner", "5A5A5A5A")));
  Appraisal s = appraise(policy, claims, by_signer, kNow);
  EXPECT_EQ(s.status, Tier::kAffirming);
  // The explanation of a passed rule shows what made it pass, not the
  // alternative that did not hold.
  for (const auto& r : s.rules) {
    if (r.rule_id != "known-enclave") continue;
    ASSERT_EQ(r.trace.size(), 2u);
    EXPECT_FALSE(r.trace[0].decisive);
    EXPECT_TRUE(r.trace[1].decisive);
  }
  EXPECT_EQ(s.explain_text().find("is not a reference value of sgx.mrenclave"), std::string::npos)
      << s.explain_text();
  MemoryReferenceStore neither;
  Appraisal a = appraise(policy, claims, neither, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  EXPECT_NE(a.explain_text().find("no value configured"), std::string::npos);
}

TEST(DefaultPolicy, TpmPcrsAndRuntimeOpaqueAbsent) {
  auto policy = default_policy("tpm").value();
  Json claims = {{"tee", "tpm"},
                 {"evidence_verified", true},
                 {"vendor_chain", false},
                 {"signer", "ak:0123"},
                 {"registers", {{"pcr0", "00"}, {"pcr7", "77"}, {"pcr14", "ee"}}}};
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add_all({ref("tpm.pcr0", "00"), ref("tpm.pcr7", "77")}));
  // An AK the verifier did not find enrolled: unsafe hardware.
  EXPECT_EQ(appraise(policy, claims, refs, kNow).vector.get(TrustClaim::kHardware), 32);
  claims["vendor_chain"] = true;
  Appraisal a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.status, Tier::kAffirming) << a.explain_text();
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 2);
  EXPECT_FALSE(a.vector.get(TrustClaim::kRuntimeOpaque).has_value());
  EXPECT_FALSE(a.vector.get(TrustClaim::kConfiguration).has_value());

  claims["registers"]["pcr7"] = "78";
  a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  EXPECT_NE(a.explain_text().find("registers.pcr7 78 is not a reference value of tpm.pcr7"),
            std::string::npos)
      << a.explain_text();

  // No reference value for any PCR: nothing affirms the executables.
  MemoryReferenceStore none;
  claims["registers"]["pcr7"] = "77";
  a = appraise(policy, claims, none, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
}

TEST(DefaultPolicy, APolicyForAnotherTeeDoesNotAffirm) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["tee"] = "tdx";
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kRuntimeOpaque), 96);
}

}  // namespace
}  // namespace concierge::verifier

namespace concierge::verifier {
namespace {

TEST(PolicyParse, HugeUnsignedValuesAreOutOfRange) {
  for (const char* v : {"18446744073709551615", "18446744073709551488", "128"}) {
    auto p = parse_policy(std::string(R"({"id": "p", "version": 1, "rules": [{"id": "r",
        "claim": "hardware", "when": {"path": "tee", "exists": true}, "then": )") +
                          v + R"(, "else": 2}]})");
    EXPECT_FALSE(p) << v;
  }
  EXPECT_FALSE(TrustVector::from_json({{"hardware", 18446744073709551615ull}}));
}

// Long values are clipped for display at a UTF-8 boundary, so the
// appraisal's JSON can always be written out.
TEST(PolicyExplain, ClippingKeepsUtf8Valid) {
  std::string operand(511, 'x');
  for (int i = 0; i < 10; ++i) operand += "\xc3\xa9";  // é across byte 512
  Json doc = {{"id", "p"},
              {"version", 1},
              {"rules",
               {{{"id", "r"},
                 {"claim", "hardware"},
                 {"when", {{"path", "tee"}, {"equals", operand}}},
                 {"then", 2},
                 {"else", 3}}}}};
  auto policy = parse_policy(doc.dump());
  ASSERT_TRUE(policy) << policy.error().to_string();
  MemoryReferenceStore refs;
  Appraisal a = appraise(*policy, {{"evidence_verified", true}, {"tee", "snp"}}, refs, kNow);
  EXPECT_NO_THROW((void)a.to_json().dump(2));
}

}  // namespace
}  // namespace concierge::verifier

namespace concierge::verifier {
namespace {

TEST(DefaultPolicy, TpmPcrWithReferenceValuesThatWasNotQuotedIsNotAffirming) {
  // The attester chooses the selection: a PCR with reference values that
  // the quote leaves out (null in "registers") must not pass unnoticed.
  auto policy = default_policy("tpm").value();
  Json claims = {{"tee", "tpm"},
                 {"evidence_verified", true},
                 {"vendor_chain", true},
                 {"signer", "ak:0123"},
                 {"registers", {{"pcr0", "00"}, {"pcr4", nullptr}, {"pcr7", nullptr}}}};
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add_all({ref("tpm.pcr0", "00"), ref("tpm.pcr4", "44"), ref("tpm.pcr7", "77")}));
  Appraisal a = appraise(policy, claims, refs, kNow);
  EXPECT_NE(a.status, Tier::kAffirming) << a.explain_text();
  EXPECT_EQ(a.vector.get(TrustClaim::kExecutables), 33);
  EXPECT_NE(a.explain_text().find("registers.pcr4 is absent from the evidence, but tpm.pcr4"),
            std::string::npos)
      << a.explain_text();
  // Quoting them all, with the right values, affirms.
  claims["registers"]["pcr4"] = "44";
  claims["registers"]["pcr7"] = "77";
  EXPECT_EQ(appraise(policy, claims, refs, kNow).status, Tier::kAffirming);
  // A null member whose set has no values constrains nothing.
  claims["registers"]["pcr9"] = nullptr;
  EXPECT_EQ(appraise(policy, claims, refs, kNow).status, Tier::kAffirming);
}

TEST(DefaultPolicy, SnpTcbBelowMinimumVmplAndMigrationAgentAreNotAffirming) {
  auto policy = default_policy("snp").value();
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  ASSERT_EQ(appraise(policy, claims, refs, kNow).status, Tier::kAffirming);
  claims["tcb_minimum"] = {{"met", false}, {"below", "microcode SPL 100 is below 213"}};
  Appraisal a = appraise(policy, claims, refs, kNow);
  EXPECT_EQ(a.vector.get(TrustClaim::kHardware), 96) << a.explain_text();
  claims = snp_claims();
  claims["vmpl"] = 2;
  EXPECT_EQ(appraise(policy, claims, refs, kNow).vector.get(TrustClaim::kConfiguration), 96);
  claims = snp_claims();
  claims["migration_agent"] = true;
  EXPECT_EQ(appraise(policy, claims, refs, kNow).vector.get(TrustClaim::kConfiguration), 96);
  // Claims an older verifier would not have produced are absent: not affirming.
  claims = snp_claims();
  claims.erase("tcb_minimum");
  EXPECT_NE(appraise(policy, claims, refs, kNow).status, Tier::kAffirming);
}

TEST(ConditionTrace, TheGuestMessageNeverListsAcceptedValues) {
  MemoryReferenceStore refs;
  ASSERT_TRUE(refs.add(ref("snp.measurement", kMeasurement)));
  Json claims = snp_claims();
  claims["measurement"] = std::string(96, 'b');
  Appraisal a = appraise(default_policy("snp").value(), claims, refs, kNow);
  bool seen = false;
  for (const auto& r : a.rules) {
    for (const auto& t : r.trace) {
      EXPECT_EQ(t.guest_message().find(kMeasurement), std::string::npos) << t.guest_message();
      if (!t.passed && t.path == "measurement") {
        seen = true;
        EXPECT_NE(t.message.find(kMeasurement), std::string::npos);  // the owner's text has it
        EXPECT_NE(t.guest_message().find("is not a reference value of snp.measurement"),
                  std::string::npos)
            << t.guest_message();
      }
    }
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace concierge::verifier
