// Real firmware event logs captured on real machines (see the vectors'
// SOURCES.tsv): each replays to the PCR values read on that machine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/replay.h"
#include "support/vectors.h"

namespace concierge::measure {
namespace {

using concierge::testing::read_file;

class EventLogVector : public ::testing::TestWithParam<std::string> {};

TEST_P(EventLogVector, ReplaysToThePcrsReadOnTheMachine) {
  const std::string name = GetParam();
  CONCIERGE_REQUIRE_VECTOR(log_path, "tpm/eventlog/" + name + ".bin");
  CONCIERGE_REQUIRE_VECTOR(expected_path, "tpm/eventlog/" + name + ".expected.json");
  auto log = parse_event_log(read_file(log_path));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  auto result = replay(*log);
  ASSERT_TRUE(result.has_value()) << result.error().to_string();

  Bytes expected_text = read_file(expected_path);
  auto expected = nlohmann::json::parse(as_chars(expected_text))["pcrs"];
  ASSERT_FALSE(expected.empty());
  std::size_t extended_banks = 0;
  for (const auto& b : result->banks) extended_banks += b.any_touched() ? 1 : 0;
  EXPECT_EQ(extended_banks, expected.size()) << "banks differ from those read on the machine";
  for (const auto& [bank_name, pcrs] : expected.items()) {
    auto alg = hash_from_name(bank_name);
    ASSERT_TRUE(alg.has_value()) << bank_name;
    const PcrBank* bank = result->bank(*alg);
    ASSERT_NE(bank, nullptr) << "no " << bank_name << " bank replayed";
    unsigned touched = 0;
    for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) touched += bank->touched(pcr) ? 1 : 0;
    EXPECT_EQ(touched, pcrs.size()) << bank_name << ": extended PCRs differ";
    for (const auto& [index, value] : pcrs.items()) {
      unsigned pcr = static_cast<unsigned>(std::stoul(index));
      EXPECT_EQ(hex_encode(bank->value(pcr)), value.get<std::string>())
          << name << " " << bank_name << " PCR " << pcr;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, EventLogVector,
                         ::testing::Values("arch-linux", "bootorder", "gce-ubuntu-2104-log",
                                           "moklisttrusted", "postcode", "sd-boot-fedora37",
                                           "uefi-sha1-log", "uefiaction", "uefiservices",
                                           "uefivar"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(EventLogVectors, LogsWithoutExpectedValuesParseAndReplay) {
  for (const char* name : {"keylime-bios.bin", "keylime-secureboot.bin", "specid-vendordata.bin"}) {
    CONCIERGE_REQUIRE_VECTOR(path, std::string("tpm/eventlog/") + name);
    auto log = parse_event_log(read_file(path));
    ASSERT_TRUE(log.has_value()) << name << ": " << log.error().to_string();
    auto result = replay(*log);
    ASSERT_TRUE(result.has_value()) << name << ": " << result.error().to_string();
  }
}

TEST(EventLogVectors, SpecIdVendorInfoIsRead) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/eventlog/specid-vendordata.bin");
  auto log = parse_event_log(read_file(path));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_TRUE(log->spec_id.has_value());
  EXPECT_EQ(hex_encode(log->spec_id->vendor_info), "deadbeef");
  EXPECT_EQ(log->events.size(), 1u);
}

TEST(EventLogVectors, BadLogsAreErrors) {
  for (const char* name : {"keylime-bogus.bin", "keylime-empty.bin"}) {
    CONCIERGE_REQUIRE_VECTOR(path, std::string("tpm/eventlog/bad/") + name);
    auto log = parse_event_log(read_file(path));
    ASSERT_FALSE(log.has_value()) << name;
    EXPECT_TRUE(log.error().offset.has_value()) << log.error().to_string();
  }
}

TEST(EventLogVectors, CcelLogWithFfPaddingParses) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/go-tdx-guest/ccel/ccel_data.dat");
  auto log = parse_event_log(read_file(path));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_GT(log->padding, 0u);
  EXPECT_GT(log->events.size(), 10u);
  ASSERT_TRUE(log->spec_id.has_value());
  auto result = replay(*log);
  ASSERT_TRUE(result.has_value());
  EXPECT_NE(result->bank(HashAlg::kSha384), nullptr);
}

}  // namespace
}  // namespace concierge::measure
