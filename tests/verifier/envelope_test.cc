#include "concierge/verifier/envelope.h"

#include <gtest/gtest.h>

namespace concierge::verifier {
namespace {

TEST(Envelope, RoundTripsWithAdditionalDevices) {
  const char* text = R"({
    "tee": "snp", "evidence": "AQID",
    "endorsements": {"vcek": "BAU="},
    "event_log": "BgcI",
    "runtime_data": {"nonce": "n", "tee-pubkey": {"kty": "EC"}},
    "additional_devices": {"tpm0": {"tee": "tpm", "evidence": "CQ=="}}
  })";
  auto e = parse_envelope(std::string_view(text));
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->primary.tee, "snp");
  EXPECT_EQ(e->primary.evidence, (Bytes{1, 2, 3}));
  EXPECT_EQ(e->primary.event_log, (Bytes{6, 7, 8}));
  EXPECT_EQ(e->primary.runtime_data["nonce"], "n");
  ASSERT_EQ(e->additional_devices.count("tpm0"), 1u);
  EXPECT_EQ(e->additional_devices.at("tpm0").evidence, (Bytes{9}));
  auto again = parse_envelope(envelope_json(*e));
  ASSERT_TRUE(again);
  EXPECT_EQ(envelope_json(*again), envelope_json(*e));
}

TEST(Envelope, MalformedMembersAreNamed) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (
      const Case& c : {
          Case{R"({"evidence": "AQID"})", "tee"},
          Case{R"({"tee": "snp"})", "evidence"},
          Case{R"({"tee": "snp", "evidence": "not base64!"})", "evidence"},
          Case{R"({"tee": "snp", "evidence": ""})", "evidence"},
          Case{R"({"tee": "snp", "evidence": "AQID", "evidense": "AQID"})", "evidense"},
          Case{R"({"tee": "snp", "evidence": "AQID", "runtime_data": "x"})", "runtime_data"},
          Case{
              R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"gpu0": {"tee": "x"}}})",
              "additional_devices.gpu0.evidence"},
          Case{R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"gpu0": {"tee": "x",
                 "evidence": "AQID", "additional_devices": {}}}})",
               "additional_devices.gpu0.additional_devices"},
          // One runtime data per envelope: a device may not bring its own.
          Case{R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"gpu0": {"tee": "tpm",
                 "evidence": "AQID", "runtime_data": {"nonce": "old", "tee-pubkey": {}}}}})",
               "additional_devices.gpu0.runtime_data"},
          // The primary's name is the primary's.
          Case{R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"snp": {"tee": "tpm",
                 "evidence": "AQID"}}})",
               "additional_devices.snp"},
          // A device's name starts with its kind.
          Case{R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"tpm0": {"tee": "snp",
                 "evidence": "AQID"}}})",
               "additional_devices.tpm0"},
          Case{R"({"tee": "snp", "evidence": "AQID", "additional_devices": {"GPU 0": {"tee": "tpm",
                 "evidence": "AQID"}}})",
               "additional_devices"},
      }) {
    auto e = parse_envelope(std::string_view(c.json));
    ASSERT_FALSE(e) << c.json;
    EXPECT_EQ(e.error().code, Errc::kMalformed);
    EXPECT_EQ(e.error().field, c.field) << e.error().to_string();
  }
  EXPECT_FALSE(parse_envelope(std::string_view("not json")));
}

}  // namespace
}  // namespace concierge::verifier
