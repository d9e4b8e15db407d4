#include "concierge/broker/release_policy.h"

#include <gtest/gtest.h>

namespace concierge::broker {
namespace {

using Json = nlohmann::json;

verifier::AttestationResult result(verifier::Tier status, int executables) {
  verifier::AttestationResult r;
  r.iat = 1;
  r.exp = 2;
  verifier::EarSubmod s;
  s.status = status;
  (void)s.trust_vector.set(verifier::TrustClaim::kExecutables, executables);
  s.annotated_evidence = {{"tee", "snp"}, {"debug", false}, {"measurement", "ab"}};
  s.appraisal_policy_id = "concierge/default-snp";
  r.submods["snp"] = s;
  return r;
}

TEST(ReleasePolicyTest, InputNamesThePrimaryAndTheWorstStatus) {
  auto r = result(verifier::Tier::kAffirming, 2);
  verifier::EarSubmod gpu;
  gpu.status = verifier::Tier::kWarning;
  gpu.annotated_evidence = {{"tee", "nvidia"}};
  r.submods["gpu0"] = gpu;
  r.primary = "snp";
  const Json in = release_input(r);
  EXPECT_EQ(in["status"], "warning");
  EXPECT_EQ(in["tee"], "snp");
  EXPECT_EQ(in["vector"]["executables"], 2);
  EXPECT_EQ(in["claims"]["measurement"], "ab");
  EXPECT_EQ(in["submods"]["gpu0"]["status"], "warning");
}

TEST(ReleasePolicyTest, ThePrimaryIsTheOneTheVerifierNamedNeverAClaimedName) {
  // Two submods whose claims both say they are the TEE they are named after:
  // without the verifier's primary claim there is no primary at all.
  auto r = result(verifier::Tier::kWarning, 33);
  verifier::EarSubmod tpm;
  tpm.status = verifier::Tier::kAffirming;
  (void)tpm.trust_vector.set(verifier::TrustClaim::kExecutables, 2);
  tpm.annotated_evidence = {{"tee", "tpm"}};
  r.submods["tpm"] = tpm;
  Json in = release_input(r);
  EXPECT_FALSE(in.contains("tee")) << in.dump();
  EXPECT_FALSE(in.contains("vector")) << in.dump();
  r.primary = "snp";
  in = release_input(r);
  EXPECT_EQ(in["tee"], "snp");
  EXPECT_EQ(in["vector"]["executables"], 33);
}

TEST(ReleasePolicyTest, EveryRuleMustHoldAndTheFirstFailingOneDecides) {
  auto p = parse_release_policy(R"({"id": "p", "rules": [
      {"id": "affirming", "when": {"path": "status", "equals": "affirming"}},
      {"id": "exec", "when": {"path": "vector.executables", "equals": 2}},
      {"id": "no-debug", "when": {"path": "claims.debug", "equals": false}}]})");
  ASSERT_TRUE(p) << p.error().to_string();
  verifier::MemoryReferenceStore refs;
  const auto now = std::chrono::system_clock::now();
  auto ok = decide_release(*p, release_input(result(verifier::Tier::kAffirming, 2)), refs, now);
  EXPECT_TRUE(ok.allowed) << ok.reason;
  auto no = decide_release(*p, release_input(result(verifier::Tier::kWarning, 33)), refs, now);
  EXPECT_FALSE(no.allowed);
  EXPECT_EQ(no.rule, "affirming");
  EXPECT_NE(no.reason.find("warning"), std::string::npos) << no.reason;
  EXPECT_EQ(no.trace.size(), 3u);
}

TEST(ReleasePolicyTest, InRefsReadsTheReferenceStore) {
  auto p = parse_release_policy(R"({"id": "p", "rules": [
      {"id": "m", "when": {"path": "claims.measurement", "in_refs": "snp.measurement"}}]})");
  ASSERT_TRUE(p);
  verifier::MemoryReferenceStore refs;
  const auto now = std::chrono::system_clock::now();
  const Json in = release_input(result(verifier::Tier::kAffirming, 2));
  EXPECT_FALSE(decide_release(*p, in, refs, now).allowed);
  ASSERT_TRUE(refs.add({"snp.measurement", "AB", std::nullopt, "", std::nullopt, ""}));
  EXPECT_TRUE(decide_release(*p, in, refs, now).allowed);
}

TEST(ReleasePolicyTest, ParsingIsStrict) {
  for (const char* bad : {
           "[]",
           R"({"rules": [{"id": "a", "when": {"path": "status", "equals": 1}}]})",
           R"({"id": "p", "rules": []})",
           R"({"id": "p", "rules": [{"id": "a"}]})",
           R"({"id": "p", "rules": [{"id": "a", "when": {"path": "s", "nope": 1}}]})",
           R"({"id": "p", "rules": [{"id": "a", "when": {"path": "s", "equals": 1}},
                                    {"id": "a", "when": {"path": "s", "equals": 1}}]})",
           R"({"id": "p", "extra": 1, "rules": [{"id": "a", "when": {"path": "s", "equals": 1}}]})",
       }) {
    EXPECT_FALSE(parse_release_policy(bad)) << bad;
  }
  auto p = parse_release_policy(default_release_policy().to_json().dump());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_json(), default_release_policy().to_json());
}

}  // namespace
}  // namespace concierge::broker
