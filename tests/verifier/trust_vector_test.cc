#include "concierge/verifier/trust_vector.h"

#include <gtest/gtest.h>

namespace concierge::verifier {
namespace {

TEST(TrustVector, TiersFollowAr4siRanges) {
  EXPECT_EQ(tier_of(0), Tier::kNone);
  EXPECT_EQ(tier_of(1), Tier::kNone);
  EXPECT_EQ(tier_of(-1), Tier::kNone);
  EXPECT_EQ(tier_of(2), Tier::kAffirming);
  EXPECT_EQ(tier_of(31), Tier::kAffirming);
  EXPECT_EQ(tier_of(-2), Tier::kAffirming);
  EXPECT_EQ(tier_of(-32), Tier::kAffirming);
  EXPECT_EQ(tier_of(32), Tier::kWarning);
  EXPECT_EQ(tier_of(95), Tier::kWarning);
  EXPECT_EQ(tier_of(-33), Tier::kWarning);
  EXPECT_EQ(tier_of(-96), Tier::kWarning);
  EXPECT_EQ(tier_of(96), Tier::kContraindicated);
  EXPECT_EQ(tier_of(99), Tier::kContraindicated);
  EXPECT_EQ(tier_of(-97), Tier::kContraindicated);
  EXPECT_EQ(tier_of(-128), Tier::kContraindicated);
}

TEST(TrustVector, StatusIsTheWorstTierAndJsonRoundTrips) {
  TrustVector v;
  EXPECT_EQ(v.status(), Tier::kNone);
  ASSERT_TRUE(v.set(TrustClaim::kHardware, trust_value::kGenuineHardware));
  EXPECT_EQ(v.status(), Tier::kAffirming);
  ASSERT_TRUE(v.set(TrustClaim::kExecutables, trust_value::kUnrecognizedRuntime));
  EXPECT_EQ(v.status(), Tier::kWarning);
  ASSERT_TRUE(v.set(TrustClaim::kConfiguration, trust_value::kUnsupportableConfig));
  EXPECT_EQ(v.status(), Tier::kContraindicated);
  EXPECT_FALSE(v.set(TrustClaim::kHardware, 128));
  EXPECT_FALSE(v.get(TrustClaim::kSourcedData).has_value());

  const nlohmann::json j = v.to_json();
  EXPECT_EQ(j, nlohmann::json({{"hardware", 2}, {"executables", 33}, {"configuration", 96}}));
  auto back = TrustVector::from_json(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, v);
  EXPECT_FALSE(TrustVector::from_json({{"firmware", 2}}));
  EXPECT_FALSE(TrustVector::from_json({{"hardware", "2"}}));
  EXPECT_FALSE(TrustVector::from_json({{"hardware", 300}}));
  EXPECT_EQ(tier_name(Tier::kContraindicated), "contraindicated");
  EXPECT_EQ(parse_tier("warning"), Tier::kWarning);
  EXPECT_EQ(trust_claim_name(TrustClaim::kRuntimeOpaque), "runtime-opaque");
  EXPECT_EQ(parse_trust_claim("sourced-data"), TrustClaim::kSourcedData);
}

}  // namespace
}  // namespace concierge::verifier
