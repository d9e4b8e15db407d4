// QE Identity: Intel's PCS responses from the vectors folder (go-tdx-guest's
// TD_QE response, signed by Intel's production key whose certificate is not
// among the vectors: parsing and matching only; the QVL SGX and TDX samples,
// whose signatures verify with their tcbSignChain.pem) and synthetic
// identities for every matching rule.
#include "concierge/evidence/dcap/qe_identity.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/collateral.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& p) {
  const Bytes b = concierge::testing::read_file(p);
  return std::string(b.begin(), b.end());
}

template <std::size_t N>
std::array<std::uint8_t, N> arr(const char* h) {
  const Bytes b = hex_decode(h).value();
  std::array<std::uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

// The report fields a QE described by `id` would have.
QeReportFields report_of(const QeIdentity& id, std::uint16_t isvsvn) {
  QeReportFields r;
  r.mrsigner = id.mrsigner;
  r.isvprodid = id.isvprodid;
  r.isvsvn = isvsvn;
  r.miscselect = id.miscselect;
  r.attributes = id.attributes;
  return r;
}

TEST(DcapQeIdentity, GoTdxGuestTdQeResponse) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/go-tdx-guest/sample_qeIdentity_response");
  auto qe = parse_qe_identity_response(read_text(path));
  ASSERT_TRUE(qe.has_value()) << qe.error().to_string();
  const QeIdentity& id = qe->identity;
  EXPECT_EQ(id.id, EnclaveId::kTdQe);
  EXPECT_EQ(id.version, 2);
  EXPECT_EQ(format_rfc3339(id.next_update), "2023-07-08T07:24:59Z");
  EXPECT_EQ(id.tcb_evaluation_data_number, 15u);
  EXPECT_EQ(id.miscselect, 0u);
  EXPECT_EQ(id.miscselect_mask, 0xFFFFFFFFu);
  EXPECT_EQ(hex_encode(id.attributes), "11000000000000000000000000000000");
  EXPECT_EQ(hex_encode(id.attributes_mask), "fbffffffffffffff0000000000000000");
  EXPECT_EQ(hex_encode(id.mrsigner),
            "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(id.isvprodid, 2);
  ASSERT_EQ(id.tcb_levels.size(), 1u);
  EXPECT_EQ(id.tcb_levels[0].isvsvn, 4);
  EXPECT_EQ(qe->signature.size(), 64u);

  QeReportFields r = report_of(id, 4);
  QeMatch m = match_qe_identity(id, r);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kUpToDate);
  r.isvsvn = 9;
  EXPECT_TRUE(match_qe_identity(id, r).accepted);

  // Masked attributes: bit 2 of byte 0 and bytes 8..15 are outside the mask.
  r.attributes[0] ^= 0x04;
  r.attributes[12] = 0xAA;
  EXPECT_TRUE(match_qe_identity(id, r).accepted);
  r.attributes[0] ^= 0x01;
  m = match_qe_identity(id, r);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason,
            "TD_QE ATTRIBUTES 140000000000000000000000aa000000 do not match "
            "11000000000000000000000000000000 under mask fbffffffffffffff0000000000000000");

  r = report_of(id, 3);
  m = match_qe_identity(id, r);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TD_QE ISVSVN 3 is not supported: below every TCB level");
}

void check_qvl_sample(const char* json_path, const char* chain_path, EnclaveId want) {
  const std::filesystem::path path = concierge::testing::vector_path(json_path);
  const std::filesystem::path chain = concierge::testing::vector_path(chain_path);
  if (path.empty() || chain.empty()) {
    GTEST_SKIP() << json_path
                 << " not found under CONCIERGE_VECTORS=" << concierge::testing::vectors_dir();
  }
  const std::string text = read_text(path);
  auto qe = parse_qe_identity_response(text);
  ASSERT_TRUE(qe.has_value()) << qe.error().to_string();
  EXPECT_EQ(qe->identity.id, want);
  auto certs = Certificate::from_pem_bundle(read_text(chain));
  ASSERT_TRUE(certs.has_value());
  const PublicKey key = tcb_signing_key(*certs).value();
  auto v = verify_qe_identity_signature(*qe, key);
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;

  std::string flipped = text;
  const std::size_t at = flipped.find("\"isvprodid\":") + 12;
  flipped[at] = flipped[at] == '1' ? '3' : '1';
  auto bad = parse_qe_identity_response(flipped);
  ASSERT_TRUE(bad.has_value()) << bad.error().to_string();
  v = verify_qe_identity_signature(*bad, key);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->accepted);
  EXPECT_EQ(v->reason.find("QE identity signature does not verify"), 0u);

  const QeMatch m = match_qe_identity(qe->identity, report_of(qe->identity, 65535));
  EXPECT_TRUE(m.accepted) << m.reason;
}

TEST(DcapQeIdentity, QvlSgxSampleSignature) {
  check_qvl_sample("sgx/intel-qvl-sample/qeIdentity.json", "sgx/intel-qvl-sample/tcbSignChain.pem",
                   EnclaveId::kQe);
}

TEST(DcapQeIdentity, QvlTdxSampleSignature) {
  check_qvl_sample("tdx/intel-qvl-sample/qeIdentity.json", "tdx/intel-qvl-sample/tcbSignChain.pem",
                   EnclaveId::kTdQe);
}

// ---- synthetic ----

json identity_json() {
  return {
      {"id", "QE"},
      {"version", 2},
      {"issueDate", "2024-05-01T00:00:00Z"},
      {"nextUpdate", "2024-06-01T00:00:00Z"},
      {"tcbEvaluationDataNumber", 17},
      {"miscselect", "00000000"},
      {"miscselectMask", "FFFFFFF0"},
      {"attributes", "11000000000000000000000000000000"},
      {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
      {"mrsigner", "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF"},
      {"isvprodid", 1},
      {"tcbLevels",
       {{{"tcb", {{"isvsvn", 8}}}, {"tcbDate", "2024-03-01T00:00:00Z"}, {"tcbStatus", "UpToDate"}},
        {{"tcb", {{"isvsvn", 6}}},
         {"tcbDate", "2023-08-01T00:00:00Z"},
         {"tcbStatus", "OutOfDate"},
         {"advisoryIDs", {"INTEL-SA-00615"}}},
        {{"tcb", {{"isvsvn", 2}}},
         {"tcbDate", "2019-01-01T00:00:00Z"},
         {"tcbStatus", "Revoked"}}}}};
}

QeIdentity identity() { return parse_qe_identity(identity_json().dump()).value(); }

TEST(DcapQeMatch, LevelsByIsvsvn) {
  const QeIdentity id = identity();
  struct Case {
    std::uint16_t isvsvn;
    TcbStatus status;
    std::optional<std::size_t> level;
    bool accepted;
  };
  for (const Case& c :
       {Case{9, TcbStatus::kUpToDate, 0, true}, Case{8, TcbStatus::kUpToDate, 0, true},
        Case{7, TcbStatus::kOutOfDate, 1, true}, Case{6, TcbStatus::kOutOfDate, 1, true},
        Case{3, TcbStatus::kRevoked, 2, false},
        Case{1, TcbStatus::kUnknown, std::nullopt, false}}) {
    SCOPED_TRACE(c.isvsvn);
    const QeMatch m = match_qe_identity(id, report_of(id, c.isvsvn));
    EXPECT_EQ(m.status, c.status);
    EXPECT_EQ(m.level_index, c.level);
    EXPECT_EQ(m.accepted, c.accepted) << m.reason;
  }
  EXPECT_EQ(match_qe_identity(id, report_of(id, 7)).advisory_ids,
            std::vector<std::string>{"INTEL-SA-00615"});
  EXPECT_EQ(match_qe_identity(id, report_of(id, 3)).reason, "QE TCB status is Revoked (ISVSVN 3)");
}

TEST(DcapQeMatch, IdentityMismatches) {
  const QeIdentity id = identity();
  QeReportFields r = report_of(id, 8);
  r.mrsigner[31] ^= 1;
  QeMatch m = match_qe_identity(id, r);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason.find("QE MRSIGNER 8c4f"), 0u) << m.reason;

  r = report_of(id, 8);
  r.isvprodid = 2;
  EXPECT_EQ(match_qe_identity(id, r).reason, "QE ISVPRODID 2 differs from 1");

  r = report_of(id, 8);
  // "FFFFFFF0" spells the bytes FF FF FF F0 in report order: the value
  // 0xF0FFFFFF, whose clear bits are 24..27.
  EXPECT_EQ(id.miscselect_mask, 0xF0FFFFFFu);
  r.miscselect = 0x0F000000;  // outside the mask
  EXPECT_TRUE(match_qe_identity(id, r).accepted);
  r.miscselect = 0x00000010;
  EXPECT_EQ(match_qe_identity(id, r).reason,
            "QE MISCSELECT 10000000 does not match 00000000 under mask FFFFFFF0");

  r = report_of(id, 8);
  r.attributes[1] = 0x01;
  EXPECT_FALSE(match_qe_identity(id, r).accepted);
}

TEST(DcapQeIdentity, RejectsMalformedIdentity) {
  struct Case {
    const char* name;
    const char* pointer;
    json value;
    Errc code;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"id", "/id", "PCE", Errc::kUnsupported, ""},
      {"version", "/version", 3, Errc::kUnsupported, ""},
      {"short miscselect", "/miscselect", "000000", Errc::kMalformed, "miscselect"},
      {"attributes 15 bytes", "/attributes", std::string(30, '0'), Errc::kMalformed, "attributes"},
      {"mrsigner not hex", "/mrsigner", std::string(64, 'g'), Errc::kMalformed, "mrsigner"},
      {"isvprodid", "/isvprodid", 65536, Errc::kMalformed, "isvprodid"},
      {"no levels", "/tcbLevels", json::array(), Errc::kMalformed, "tcbLevels"},
      {"isvsvn string", "/tcbLevels/1/tcb/isvsvn", "6", Errc::kMalformed,
       "tcbLevels[1].tcb.isvsvn"},
      {"tcbDate", "/tcbLevels/0/tcbDate", "2024-13-01T00:00:00Z", Errc::kMalformed,
       "tcbLevels[0].tcbDate"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json j = identity_json();
    j[json::json_pointer(c.pointer)] = c.value;
    auto r = parse_qe_identity(j.dump());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, c.code) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
  }
  json j = identity_json();
  j.erase("mrsigner");
  EXPECT_EQ(parse_qe_identity(j.dump()).error().field, "mrsigner");
}

}  // namespace
}  // namespace concierge::evidence::dcap
