#include "concierge/measure/event_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/replay.h"

namespace concierge::measure {
namespace {

namespace et = event_type;

Bytes small_log() {
  EventLogWriter w({HashAlg::kSha1, HashAlg::kSha256});
  w.add_startup_locality(0);
  EXPECT_TRUE(w.add(0, et::kSCrtmVersion, as_bytes("v1")).has_value());
  EXPECT_TRUE(w.add(4, et::kEfiAction, as_bytes("Calling EFI Application")).has_value());
  EXPECT_TRUE(w.add(7, et::kSeparator, Bytes(4, 0)).has_value());
  return w.bytes();
}

void put_u32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

TEST(EventLog, WriterRoundTrip) {
  Bytes bytes = small_log();
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_EQ(log->format, LogFormat::kCryptoAgile);
  ASSERT_TRUE(log->spec_id.has_value());
  ASSERT_EQ(log->spec_id->algorithms.size(), 2u);
  EXPECT_EQ(log->spec_id->algorithms[1].alg_id, 0x000B);
  EXPECT_EQ(log->spec_id->algorithms[1].digest_size, 32);
  ASSERT_EQ(log->events.size(), 5u);  // header, locality, three events
  const Event& action = log->events[3];
  EXPECT_EQ(action.pcr, 4u);
  EXPECT_EQ(action.type, et::kEfiAction);
  EXPECT_EQ(as_chars(action.data), "Calling EFI Application");
  const EventDigest* d = action.digest_for(0x000B);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(hex_encode(d->value), hex_encode(*digest(HashAlg::kSha256, action.data)));
  EXPECT_EQ(log->size, bytes.size());
  EXPECT_EQ(log->padding, 0u);
}

TEST(EventLog, TruncationAtEveryOffsetIsAnErrorOrAShorterLog) {
  Bytes bytes = small_log();
  auto full = parse_event_log(ByteView(bytes));
  ASSERT_TRUE(full.has_value());
  std::vector<std::size_t> boundaries;
  for (const auto& e : full->events) boundaries.push_back(e.offset);
  boundaries.push_back(bytes.size());
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    auto log = parse_event_log(ByteView(bytes.data(), len));
    bool at_boundary =
        len > 0 && std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
    // A cut whose tail is all zero reads as zero padding after the last
    // whole record, which the format allows (CCEL); that is not an error.
    std::size_t last = *std::prev(std::upper_bound(boundaries.begin(), boundaries.end(), len));
    bool zero_tail = last > 0 && len > last &&
                     std::all_of(bytes.begin() + last, bytes.begin() + len,
                                 [](std::uint8_t b) { return b == 0; });
    if (at_boundary || zero_tail) {
      ASSERT_TRUE(log.has_value()) << "prefix " << len << ": " << log.error().to_string();
      EXPECT_EQ(log->size, last);
      EXPECT_EQ(log->padding, len - last);
    } else {
      ASSERT_FALSE(log.has_value()) << "prefix " << len << " parsed";
      EXPECT_TRUE(log.error().offset.has_value()) << log.error().to_string();
      EXPECT_LE(*log.error().offset, len);
      EXPECT_FALSE(log.error().field.empty());
    }
  }
}

TEST(EventLog, ZeroAndFfPaddingAccepted) {
  for (std::uint8_t pad : {0x00, 0xff}) {
    Bytes bytes = small_log();
    std::size_t size = bytes.size();
    bytes.insert(bytes.end(), 4096, pad);
    auto log = parse_event_log(ByteView(bytes));
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    EXPECT_EQ(log->padding, 4096u);
    EXPECT_EQ(log->size, size);
    EXPECT_EQ(log->events.size(), 5u);
  }
}

TEST(EventLog, TrailingGarbageIsAnErrorNamingTheOffset) {
  Bytes bytes = small_log();
  std::size_t end = bytes.size();
  bytes.push_back(0x07);
  bytes.push_back(0x00);
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().offset, end);
  EXPECT_NE(log.error().to_string().find("pcrIndex"), std::string::npos);
}

TEST(EventLog, OversizedDigestCountRejected) {
  EventLogWriter w({HashAlg::kSha256});
  Bytes bytes = w.bytes();
  std::size_t at = bytes.size();
  put_u32(bytes, 0);           // pcr
  put_u32(bytes, 0x0d);        // EV_IPL
  put_u32(bytes, 0xffffffff);  // digest count
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().field, "digests.count");
  EXPECT_EQ(log.error().offset, at + 8);
}

TEST(EventLog, OversizedEventSizeRejected) {
  EventLogWriter w({HashAlg::kSha256});
  Bytes bytes = w.bytes();
  put_u32(bytes, 0);
  put_u32(bytes, 0x0d);
  put_u32(bytes, 1);
  bytes.push_back(0x0b);
  bytes.push_back(0x00);
  bytes.insert(bytes.end(), 32, 0xaa);
  put_u32(bytes, 0xfffffff0);  // event size far beyond the input
  bytes.insert(bytes.end(), 8, 0x41);
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, Errc::kTruncated);
  EXPECT_EQ(log.error().field, "event");
}

TEST(EventLog, DigestOfAlgorithmNotInHeaderRejected) {
  EventLogWriter w({HashAlg::kSha256});
  w.add_raw(0, et::kIpl, {OwnedDigest{0x000C, Bytes(48, 1)}}, as_bytes("x"));
  Bytes bytes = w.bytes();
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().field, "digests.hashAlg");
}

TEST(EventLog, EmptyLogRejected) {
  auto log = parse_event_log(ByteView());
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().offset, 0u);
}

TEST(EventLog, PcrIndexOutOfRangeRejected) {
  EventLogWriter w({HashAlg::kSha256});
  ASSERT_TRUE(w.add(24, et::kIpl, as_bytes("x")).has_value());
  Bytes bytes = w.bytes();
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().field, "pcrIndex");
}

TEST(EventLog, SpecIdHeaderChecks) {
  // A header whose SHA-256 entry claims 20 bytes is malformed.
  EventLogWriter w({HashAlg::kSha256});
  Bytes bytes = w.bytes();
  // Header layout: 32 bytes of TCG_PCClientPCREvent, then the Spec ID data:
  // signature 16, class 4, versions 4, count 4, (alg 2, size 2).
  bytes[32 + 28 + 2] = 20;
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().field, "SpecIdEvent.digestSizes");
  EXPECT_EQ(log.error().offset, 32u + 28u);
}

TEST(EventLog, LegacySha1Log) {
  Bytes bytes;
  auto record = [&](std::uint32_t pcr, std::uint32_t type, ByteView data) {
    put_u32(bytes, pcr);
    put_u32(bytes, type);
    Bytes d = *digest(HashAlg::kSha1, data);
    bytes.insert(bytes.end(), d.begin(), d.end());
    put_u32(bytes, static_cast<std::uint32_t>(data.size()));
    bytes.insert(bytes.end(), data.begin(), data.end());
  };
  record(0, et::kSCrtmVersion, as_bytes("1.0"));
  record(0, et::kSeparator, Bytes(4, 0));
  auto log = parse_event_log(ByteView(bytes));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_EQ(log->format, LogFormat::kLegacySha1);
  EXPECT_EQ(log->events.size(), 2u);
  auto r = replay(*log);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->banks.size(), 1u);
  // PCR0 = H(H(0^20 || H("1.0")) || H(0^4)): both records are measurements.
  Bytes pcr(20, 0);
  const Bytes separator(4, 0);
  for (ByteView data : {as_bytes("1.0"), ByteView(separator)}) {
    Bytes in = pcr;
    Bytes d = *digest(HashAlg::kSha1, data);
    in.insert(in.end(), d.begin(), d.end());
    pcr = *digest(HashAlg::kSha1, in);
  }
  EXPECT_EQ(hex_encode(r->banks[0].value(0)), hex_encode(pcr));
  EXPECT_TRUE(r->warnings.empty());
}

}  // namespace
}  // namespace concierge::measure
