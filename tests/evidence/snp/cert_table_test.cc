// The extended-report certificate table: GUIDs, round trips, and every
// malformed shape with the entry index and offset it is reported at.
#include "concierge/evidence/snp/cert_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/amd_roots.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

CertGuid guid(const char* text) { return guid_from_string(text).value(); }

CertTableEntry entry(CertKind kind, Bytes data) {
  return CertTableEntry{cert_guid_of(kind), std::move(data), 0};
}

void put_entry(Bytes& table, std::size_t at, const CertGuid& g, std::uint32_t offset,
               std::uint32_t length) {
  std::copy(g.bytes.begin(), g.bytes.end(), table.begin() + static_cast<std::ptrdiff_t>(at));
  for (int i = 0; i < 4; ++i) {
    table[at + 16 + i] = static_cast<std::uint8_t>(offset >> (8 * i));
    table[at + 20 + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
}

// Two certificates' worth of table: VCEK (10 bytes) at 72, ASK (6 bytes) at 82.
Bytes two_entry_table() {
  return encode_cert_table(
             {entry(CertKind::kVcek, Bytes(10, 0xAA)), entry(CertKind::kAsk, Bytes(6, 0xBB))})
      .value();
}

void expect_error(const Bytes& table, Errc code, const std::string& field, std::size_t offset,
                  const std::string& part) {
  auto parsed = parse_cert_table(table);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, code) << parsed.error().to_string();
  EXPECT_EQ(parsed.error().field, field) << parsed.error().to_string();
  EXPECT_EQ(parsed.error().offset, offset) << parsed.error().to_string();
  EXPECT_NE(parsed.error().message.find(part), std::string::npos) << parsed.error().to_string();
}

TEST(SnpCertTable, GuidsAreInTextualByteOrder) {
  const CertGuid vcek = cert_guid_of(CertKind::kVcek);
  EXPECT_EQ(hex_encode(vcek.bytes), "63da758de6644564adc5f4b93be8accd");
  EXPECT_EQ(guid_to_string(vcek), "63da758d-e664-4564-adc5-f4b93be8accd");
  EXPECT_EQ(guid_to_string(cert_guid_of(CertKind::kVlek)), "a8074bc2-a25a-483e-aae6-39c045a0b8a1");
  EXPECT_EQ(guid_to_string(cert_guid_of(CertKind::kAsk)), "4ab7b379-bbac-4fe4-a02f-05aef327c782");
  EXPECT_EQ(guid_to_string(cert_guid_of(CertKind::kArk)), "c0b406a4-a803-4952-9743-3fb6014cd0ae");
  EXPECT_EQ(cert_kind_of(guid("C0B406A4-A803-4952-9743-3FB6014CD0AE")), CertKind::kArk);
  EXPECT_EQ(cert_kind_of(guid("00000000-0000-0000-0000-000000000001")), CertKind::kOther);
  EXPECT_EQ(cert_kind_name(CertKind::kVlek), "vlek");
  EXPECT_EQ(cert_kind_name(CertKind::kOther), "other");

  for (const char* bad :
       {"63da758d-e664-4564-adc5-f4b93be8acc", "63da758de664-4564-adc5-f4b93be8accdd",
        "63da758d-e664-4564-adc5-f4b93be8accg", ""}) {
    EXPECT_FALSE(guid_from_string(bad).has_value()) << bad;
  }
}

TEST(SnpCertTable, RoundTrip) {
  const CertGuid vendor = guid("11111111-2222-3333-4444-555555555555");
  const std::vector<CertTableEntry> in = {
      entry(CertKind::kVcek, Bytes(100, 1)), entry(CertKind::kAsk, Bytes(50, 2)),
      entry(CertKind::kArk, Bytes(70, 3)), CertTableEntry{vendor, Bytes(5, 4), 0}};
  auto table = encode_cert_table(in);
  ASSERT_TRUE(table.has_value()) << table.error().to_string();
  EXPECT_EQ(table->size(), 5 * 24 + 225u);
  auto out = parse_cert_table(*table);
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  ASSERT_EQ(out->size(), 4u);
  std::uint32_t offset = 5 * 24;
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].guid, in[i].guid);
    EXPECT_EQ((*out)[i].data, in[i].data);
    EXPECT_EQ((*out)[i].offset, offset);
    offset += static_cast<std::uint32_t>(in[i].data.size());
  }
  EXPECT_EQ((*out)[3].kind(), CertKind::kOther);
  ASSERT_NE(find_cert(*out, CertKind::kArk), nullptr);
  EXPECT_EQ(find_cert(*out, CertKind::kArk)->data, Bytes(70, 3));
  EXPECT_EQ(find_cert(*out, CertKind::kVlek), nullptr);
  EXPECT_EQ(encode_cert_table(*out).value(), *table);
}

TEST(SnpCertTable, EmptyTables) {
  auto none = parse_cert_table({});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto terminator_only = parse_cert_table(Bytes(24, 0));
  ASSERT_TRUE(terminator_only.has_value());
  EXPECT_TRUE(terminator_only->empty());
  EXPECT_EQ(encode_cert_table({}).value(), Bytes(24, 0));
  // A page of zeros, as a host with no certificates may hand over.
  auto page = parse_cert_table(Bytes(4096, 0));
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->empty());
}

TEST(SnpCertTable, ZeroPaddingAfterTheLastCertificateIsAllowed) {
  Bytes table = two_entry_table();
  table.resize(4096, 0);
  auto out = parse_cert_table(table);
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].data, Bytes(6, 0xBB));

  table[200] = 1;
  expect_error(table, Errc::kMalformed, "padding", 200, "non-zero padding byte");
}

TEST(SnpCertTable, GapBeforeACertificateMustBeZero) {
  Bytes table = two_entry_table();
  table.resize(table.size() + 8, 0);
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 90, 6);  // ASK moved 8 bytes later
  std::fill(table.begin() + 82, table.begin() + 90, 0);
  std::fill(table.begin() + 90, table.end(), 0xBB);
  auto out = parse_cert_table(table);
  ASSERT_TRUE(out.has_value()) << out.error().to_string();
  EXPECT_EQ((*out)[1].data, Bytes(6, 0xBB));
  table[84] = 0xBB;  // a stray byte in the gap
  expect_error(table, Errc::kMalformed, "padding", 84, "non-zero padding byte");
}

TEST(SnpCertTable, MissingTerminator) {
  Bytes table(48, 0);
  put_entry(table, 0, cert_guid_of(CertKind::kVcek), 48, 0);
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 48, 0);
  expect_error(table, Errc::kTruncated, "entry[2]", 48, "without the all-zero terminator");
}

TEST(SnpCertTable, TruncatedEntry) {
  Bytes table = two_entry_table();
  table.resize(30);
  expect_error(table, Errc::kTruncated, "entry[1]", 24, "after 1 entries");
  expect_error(Bytes(23, 0), Errc::kTruncated, "entry[0]", 0, "without the all-zero terminator");
}

TEST(SnpCertTable, OffsetIntoTheHeader) {
  Bytes table = two_entry_table();
  put_entry(table, 0, cert_guid_of(CertKind::kVcek), 60, 10);  // header ends at 72
  expect_error(table, Errc::kMalformed, "entry[0]", 16,
               "offset 0x3c points into the table header (which ends at 0x48)");
}

TEST(SnpCertTable, CertificatePastTheEnd) {
  Bytes table = two_entry_table();  // 88 bytes
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 82, 7);
  expect_error(table, Errc::kMalformed, "entry[1]", 40,
               "certificate [0x52, 0x59) ends past the table (0x58 bytes)");
  // No 32-bit wrap-around: 0xFFFFFFFF + 0xFFFFFFFF is past the end, not small.
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 0xFFFFFFFF, 0xFFFFFFFF);
  expect_error(table, Errc::kMalformed, "entry[1]", 40, "ends past the table");
}

TEST(SnpCertTable, OverlappingCertificates) {
  Bytes table = two_entry_table();
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 80, 6);  // VCEK is [72, 82)
  expect_error(table, Errc::kMalformed, "entry[1]", 80, "overlaps entry[0]'s at 0x48");
  // Listed in the other order, the later offset is still the one reported.
  put_entry(table, 0, cert_guid_of(CertKind::kVcek), 78, 10);
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 72, 8);
  expect_error(table, Errc::kMalformed, "entry[0]", 78, "overlaps entry[1]'s at 0x48");
}

TEST(SnpCertTable, ZeroLengthRepeatedGuidAndBadTerminator) {
  Bytes table = two_entry_table();
  put_entry(table, 24, cert_guid_of(CertKind::kAsk), 82, 0);
  expect_error(table, Errc::kMalformed, "entry[1]", 44, "length is 0");

  table = two_entry_table();
  put_entry(table, 24, cert_guid_of(CertKind::kVcek), 82, 6);
  expect_error(table, Errc::kMalformed, "entry[1]", 24,
               "GUID 63da758d-e664-4564-adc5-f4b93be8accd repeats entry[0]");

  table = two_entry_table();
  put_entry(table, 48, CertGuid{}, 0, 1);
  expect_error(table, Errc::kMalformed, "entry[2]", 48, "zero GUID");
}

TEST(SnpCertTable, EncodeRejectsUnusableEntries) {
  auto r = encode_cert_table({CertTableEntry{CertGuid{}, Bytes(3, 1), 0}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  r = encode_cert_table({entry(CertKind::kVcek, {})});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("no data"), std::string::npos);
  r = encode_cert_table({entry(CertKind::kArk, Bytes(1, 1)), entry(CertKind::kArk, Bytes(1, 2))});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("entry[1]: GUID repeats entry[0]"), std::string::npos);
}

TEST(SnpCertTable, RealCertificatesThroughATable) {
  CONCIERGE_REQUIRE_VECTOR(path, "snp/go-sev-guest/vcek.der");
  const Bytes vcek = concierge::testing::read_file(path);
  const AmdRootSet* milan = builtin_amd_root_set(Product::kMilan);
  ASSERT_NE(milan, nullptr);
  auto table =
      encode_cert_table({entry(CertKind::kArk, milan->ark.der()),
                         entry(CertKind::kAsk, milan->ask.der()), entry(CertKind::kVcek, vcek)});
  ASSERT_TRUE(table.has_value());
  Bytes padded = *table;
  padded.resize((padded.size() + 4095) / 4096 * 4096, 0);
  auto entries = parse_cert_table(padded);
  ASSERT_TRUE(entries.has_value()) << entries.error().to_string();
  const CertTableEntry* found = find_cert(*entries, CertKind::kVcek);
  ASSERT_NE(found, nullptr);
  auto cert = Certificate::from_der(found->data);
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->fingerprint_sha256(), Certificate::from_der(vcek)->fingerprint_sha256());
  EXPECT_EQ(Certificate::from_der(find_cert(*entries, CertKind::kAsk)->data)->subject(),
            milan->ask.subject());
}

}  // namespace
}  // namespace concierge::evidence::snp
