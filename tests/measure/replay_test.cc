#include "concierge/measure/replay.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"

namespace concierge::measure {
namespace {

namespace et = event_type;

Bytes extend(HashAlg alg, ByteView pcr, ByteView d) {
  Bytes in(pcr.begin(), pcr.end());
  in.insert(in.end(), d.begin(), d.end());
  return *digest(alg, in);
}

ReplayResult replay_bytes(const Bytes& bytes) {
  auto log = parse_event_log(ByteView(bytes));
  EXPECT_TRUE(log.has_value()) << log.error().to_string();
  auto r = replay(*log);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return *r;
}

TEST(Replay, StartupLocalityAndHcrtmSetPcr0ResetValue) {
  for (std::uint8_t locality : {0, 3, 4}) {
    EventLogWriter w({HashAlg::kSha256});
    w.add_startup_locality(locality);
    ASSERT_TRUE(w.add(0, et::kSCrtmVersion, as_bytes("crtm")).has_value());
    ReplayResult r = replay_bytes(w.bytes());
    EXPECT_EQ(r.startup_locality, locality);
    Bytes reset(32, 0);
    reset[31] = locality;
    Bytes expected = extend(HashAlg::kSha256, reset, *digest(HashAlg::kSha256, as_bytes("crtm")));
    EXPECT_EQ(hex_encode(r.banks[0].value(0)), hex_encode(expected)) << int(locality);
  }
}

TEST(Replay, DynamicPcrsStartAtAllOnes) {
  EventLogWriter w({HashAlg::kSha384});
  ASSERT_TRUE(w.add(17, et::kEventTag, as_bytes("drtm")).has_value());
  ASSERT_TRUE(w.add(16, et::kEventTag, as_bytes("debug")).has_value());
  ReplayResult r = replay_bytes(w.bytes());
  Bytes ones(48, 0xff);
  EXPECT_EQ(
      hex_encode(r.banks[0].value(17)),
      hex_encode(extend(HashAlg::kSha384, ones, *digest(HashAlg::kSha384, as_bytes("drtm")))));
  EXPECT_EQ(hex_encode(r.banks[0].value(16)),
            hex_encode(extend(HashAlg::kSha384, Bytes(48, 0),
                              *digest(HashAlg::kSha384, as_bytes("debug")))));
  EXPECT_EQ(hex_encode(r.banks[0].value(18)), hex_encode(ones));
  EXPECT_FALSE(r.banks[0].touched(18));
  EXPECT_TRUE(r.banks[0].touched(17));
}

TEST(Replay, NoActionIsNeverExtended) {
  EventLogWriter w({HashAlg::kSha256});
  w.add_raw(5, et::kNoAction, {OwnedDigest{0x000B, Bytes(32, 0x55)}}, as_bytes("anything"));
  ReplayResult r = replay_bytes(w.bytes());
  EXPECT_FALSE(r.banks[0].touched(5));
  EXPECT_EQ(hex_encode(r.banks[0].value(5)), std::string(64, '0'));
}

TEST(Replay, EventDataDigestMismatchWarnsAndContinues) {
  EventLogWriter w({HashAlg::kSha1, HashAlg::kSha256});
  w.add_raw(4, et::kEfiAction,
            {OwnedDigest{0x0004, Bytes(20, 1)}, OwnedDigest{0x000B, Bytes(32, 2)}},
            as_bytes("Calling EFI Application from Boot Option"));
  ASSERT_TRUE(w.add(4, et::kSeparator, Bytes(4, 0)).has_value());
  ReplayResult r = replay_bytes(w.bytes());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].event_index, 1u);
  EXPECT_NE(r.warnings[0].message.find("EV_EFI_ACTION"), std::string::npos);
  EXPECT_NE(r.warnings[0].message.find("sha1, sha256"), std::string::npos);
  Bytes pcr = extend(HashAlg::kSha256, Bytes(32, 0), Bytes(32, 2));
  pcr = extend(HashAlg::kSha256, pcr, *digest(HashAlg::kSha256, Bytes(4, 0)));
  EXPECT_EQ(hex_encode(r.bank(HashAlg::kSha256)->value(4)), hex_encode(pcr));
}

// UEFI_VARIABLE_DATA for BootOrder = {0x0001}.
Bytes boot_order_variable() {
  Bytes data(16, 0x61);
  for (std::uint64_t v : {std::uint64_t{9}, std::uint64_t{2}}) {
    for (int i = 0; i < 8; ++i) data.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  for (char c : std::string("BootOrder")) {
    data.push_back(static_cast<std::uint8_t>(c));
    data.push_back(0);
  }
  data.push_back(1);
  data.push_back(0);
  return data;
}

TEST(Replay, VariableBootDigestOfVariableDataAccepted) {
  Bytes data = boot_order_variable();
  EventLogWriter w({HashAlg::kSha256});
  Bytes var = {1, 0};
  ASSERT_TRUE(w.add_measured(1, et::kEfiVariableBoot, var, data).has_value());
  ASSERT_TRUE(w.add(1, et::kEfiVariableBoot, data).has_value());
  ASSERT_TRUE(w.add_measured(1, et::kEfiVariableBoot, as_bytes("other"), data).has_value());
  ReplayResult r = replay_bytes(w.bytes());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].event_index, 3u);
}

TEST(Replay, AuthorityDigestOfWholeRecordOrVariableDataAccepted) {
  Bytes data = boot_order_variable();
  EventLogWriter w({HashAlg::kSha256});
  ASSERT_TRUE(w.add(7, et::kEfiVariableAuthority, data).has_value());
  ASSERT_TRUE(w.add_measured(7, et::kEfiVariableAuthority, Bytes{1, 0}, data).has_value());
  ASSERT_TRUE(w.add_measured(7, et::kEfiVariableAuthority, as_bytes("other"), data).has_value());
  ReplayResult r = replay_bytes(w.bytes());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].event_index, 3u);
}

TEST(Replay, EventDataCandidatesPutTheSpecifiedFormFirst) {
  Bytes data = boot_order_variable();
  Event e;
  e.data = data;
  std::array<ByteView, 2> c;
  e.type = et::kEfiVariableBoot;
  ASSERT_EQ(event_data_candidates(e, c), 2u);
  EXPECT_EQ(hex_encode(c[0]), "0100");  // VariableData first (PFP 10.4.4)
  EXPECT_EQ(c[1].size(), data.size());
  e.type = et::kEfiVariableAuthority;
  ASSERT_EQ(event_data_candidates(e, c), 2u);
  EXPECT_EQ(c[0].size(), data.size());  // the whole UEFI_VARIABLE_DATA first
  EXPECT_EQ(hex_encode(c[1]), "0100");
  e.type = et::kSeparator;
  ASSERT_EQ(event_data_candidates(e, c), 1u);
  e.type = et::kIpl;
  EXPECT_EQ(event_data_candidates(e, c), 0u);
  // A malformed variable record leaves only the whole-data form.
  Bytes truncated(data.begin(), data.begin() + 20);
  e.data = truncated;
  e.type = et::kEfiVariableBoot;
  ASSERT_EQ(event_data_candidates(e, c), 1u);
  EXPECT_EQ(c[0].size(), truncated.size());
}

TEST(Replay, UnknownAlgorithmInHeaderIsSkippedBySize) {
  // Build a header with an unknown algorithm 0x0099 of 10 bytes by hand.
  EventLogWriter w({HashAlg::kSha256});
  ASSERT_TRUE(w.add(8, et::kIpl, as_bytes("grub_cmd: linux /vmlinuz")).has_value());
  Bytes bytes = w.bytes();
  // Patch: numberOfAlgorithms 1 -> 2, insert (0x0099, 10) after sha256; and
  // add a 10-byte 0x0099 digest to the event. Simpler to rebuild the event.
  Bytes header(bytes.begin(), bytes.begin() + 32 + 24 + 4 + 4 + 1);
  std::size_t size_at = 28;
  header[32 + 24] = 2;
  header.insert(header.end() - 1, {0x99, 0x00, 0x0a, 0x00});
  std::uint32_t spec_size = static_cast<std::uint32_t>(header.size() - 32);
  for (int i = 0; i < 4; ++i) header[size_at + i] = static_cast<std::uint8_t>(spec_size >> (8 * i));
  Bytes log = header;
  auto u32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) log.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  u32(8);
  u32(et::kIpl);
  u32(2);
  log.insert(log.end(), {0x99, 0x00});
  log.insert(log.end(), 10, 0xee);
  log.insert(log.end(), {0x0b, 0x00});
  Bytes d = *digest(HashAlg::kSha256, as_bytes("grub_cmd: linux /vmlinuz"));
  log.insert(log.end(), d.begin(), d.end());
  std::string text = "grub_cmd: linux /vmlinuz";
  u32(static_cast<std::uint32_t>(text.size()));
  log.insert(log.end(), text.begin(), text.end());

  auto parsed = parse_event_log(ByteView(log));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  ASSERT_EQ(parsed->events.size(), 2u);
  EXPECT_EQ(parsed->events[1].digests.size(), 2u);
  auto r = replay(*parsed);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->banks.size(), 1u);
  ASSERT_FALSE(r->warnings.empty());
  EXPECT_NE(r->warnings[0].message.find("0x0099"), std::string::npos);
  EXPECT_EQ(hex_encode(r->banks[0].value(8)),
            hex_encode(extend(HashAlg::kSha256, Bytes(32, 0), d)));
}

}  // namespace
}  // namespace concierge::measure
