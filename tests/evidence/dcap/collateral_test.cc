// Collateral: the signed-JSON splitter, status convergence, freshness, the
// saved-PCS folder (with Intel's QVL SGX sample, under Intel's test root) and
// verify_collateral end to end on synthetic collateral signed by a test key.
#include "concierge/evidence/dcap/collateral.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "concierge/core/time.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kSig(128, 'a');

TimePoint at(const char* t) { return parse_rfc3339(t).value(); }

std::string read_text(const fs::path& p) {
  const Bytes b = concierge::testing::read_file(p);
  return std::string(b.begin(), b.end());
}

// ---- split_signed_json ----

TEST(DcapCollateralJson, FindsTheExactBodyDespiteStringsAndEscapes) {
  const std::string body = R"({"a":"}\"{[","b":[1,{"c":"]"}],"d" : { }})";
  const std::string text = "\xEF\xBB\xBF {\"x\":[{\"tcbInfo\":1}], \"tcbInfo\" :\n" + body +
                           " ,\"signature\":\"" + kSig + "\"}\n";
  auto s = split_signed_json(text, "tcbInfo");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->body, body);
  EXPECT_EQ(s->signature, Bytes(64, 0xAA));
}

TEST(DcapCollateralJson, RejectsAmbiguousOrIncompleteResponses) {
  struct Case {
    const char* name;
    std::string text;
    const char* message_part;
  };
  const std::string sig = "\"signature\":\"" + kSig + "\"";
  const std::vector<Case> cases = {
      {"not JSON", "{\"tcbInfo\":{}", "not valid JSON"},
      {"array", "[{\"tcbInfo\":{}}]", "not a JSON object"},
      {"no body", "{" + sig + "}", "no \"tcbInfo\""},
      {"body not object", "{\"tcbInfo\":[1]," + sig + "}", "is not an object"},
      {"body twice", "{\"tcbInfo\":{}," + sig + ",\"tcbInfo\":{}}", "appears twice"},
      {"escaped duplicate", "{\"tcbInfo\":{}," + sig + ",\"tcb\\u0049nfo\":{}}", "appears twice"},
      {"no signature", "{\"tcbInfo\":{}}", "no \"signature\""},
      {"signature twice", "{\"tcbInfo\":{}," + sig + "," + sig + "}", "appears twice"},
      {"short signature", "{\"tcbInfo\":{},\"signature\":\"abcd\"}", "64 bytes"},
      {"signature number", "{\"tcbInfo\":{},\"signature\":5}", "not a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = split_signed_json(c.text, "tcbInfo");
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::kMalformed);
    EXPECT_NE(s.error().message.find(c.message_part), std::string::npos) << s.error().to_string();
  }
}

// ---- statuses ----

TEST(DcapCollateralStatus, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(TcbStatus::kRevoked); ++i) {
    const auto s = static_cast<TcbStatus>(i);
    EXPECT_EQ(parse_tcb_status(tcb_status_name(s)), s);
  }
  EXPECT_EQ(parse_tcb_status("uptodate"), TcbStatus::kUnknown);
  EXPECT_EQ(tcb_status_name(TcbStatus::kConfigurationAndSWHardeningNeeded),
            "ConfigurationAndSWHardeningNeeded");
}

TEST(DcapCollateralStatus, ConvergenceTable) {
  using S = TcbStatus;
  struct Row {
    S platform, other, result;
  };
  for (const Row& r :
       {Row{S::kUpToDate, S::kUpToDate, S::kUpToDate},
        Row{S::kSWHardeningNeeded, S::kUpToDate, S::kSWHardeningNeeded},
        Row{S::kUpToDate, S::kOutOfDate, S::kOutOfDate},
        Row{S::kSWHardeningNeeded, S::kOutOfDate, S::kOutOfDate},
        Row{S::kConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
        Row{S::kConfigurationAndSWHardeningNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
        Row{S::kOutOfDate, S::kUpToDate, S::kOutOfDate},
        Row{S::kOutOfDateConfigurationNeeded, S::kOutOfDate, S::kOutOfDateConfigurationNeeded},
        Row{S::kConfigurationNeeded, S::kSWHardeningNeeded, S::kConfigurationAndSWHardeningNeeded},
        Row{S::kUpToDate, S::kRevoked, S::kRevoked}, Row{S::kRevoked, S::kUpToDate, S::kRevoked},
        Row{S::kUpToDate, S::kUnknown, S::kUnknown}}) {
    EXPECT_EQ(converge_tcb_status(r.platform, r.other), r.result)
        << tcb_status_name(r.platform) << " + " << tcb_status_name(r.other);
    EXPECT_EQ(converge_tcb_status(r.other, r.platform), r.result);
  }
}

TEST(DcapCollateralStatus, Freshness) {
  const TimePoint issue = at("2024-05-01T00:00:00Z");
  const TimePoint next = at("2024-06-01T00:00:00Z");
  EXPECT_TRUE(check_collateral_fresh("TCB info", issue, next, at("2024-05-15T00:00:00Z")));
  EXPECT_TRUE(check_collateral_fresh("TCB info", issue, next, next));
  Verdict v = check_collateral_fresh("TCB info", issue, next, at("2024-06-01T00:00:01Z"));
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason,
            "TCB info collateral expired: nextUpdate 2024-06-01T00:00:00Z is before "
            "2024-06-01T00:00:01Z");
  v = check_collateral_fresh("QE identity", issue, next, at("2024-04-30T00:00:00Z"));
  EXPECT_EQ(v.reason,
            "QE identity is not yet valid: issueDate 2024-05-01T00:00:00Z is after "
            "2024-04-30T00:00:00Z");
}

// ---- synthetic signed collateral ----

struct Signer {
  PrivateKey key = PrivateKey::generate_ec(EcCurve::kP256).value();
  // {"<key>": <body as dumped>, "signature": sign(body)}
  std::string response(const char* key_name, const json& body) const {
    const std::string text = body.dump();
    const Bytes sig = key.sign_ecdsa_raw(HashAlg::kSha256, as_bytes(text)).value();
    return "{\"" + std::string(key_name) + "\": " + text + ", \"signature\": \"" + hex_encode(sig) +
           "\"}";
  }
};

json components(int svn) {
  json a = json::array();
  for (int i = 0; i < 16; ++i) a.push_back({{"svn", svn}});
  return a;
}

json tcb_info_json(const char* status = "UpToDate") {
  return {{"id", "SGX"},
          {"version", 3},
          {"issueDate", "2024-05-01T00:00:00Z"},
          {"nextUpdate", "2024-06-01T00:00:00Z"},
          {"fmspc", "00906ED50000"},
          {"pceId", "0000"},
          {"tcbType", 0},
          {"tcbEvaluationDataNumber", 17},
          {"tcbLevels",
           {{{"tcb", {{"sgxtcbcomponents", components(2)}, {"pcesvn", 13}}},
             {"tcbDate", "2024-03-13T00:00:00Z"},
             {"tcbStatus", status},
             {"advisoryIDs", {"INTEL-SA-00001"}}}}}};
}

json qe_json(const char* id = "QE", const char* status = "UpToDate") {
  return {{"id", id},
          {"version", 2},
          {"issueDate", "2024-05-02T00:00:00Z"},
          {"nextUpdate", "2024-06-02T00:00:00Z"},
          {"tcbEvaluationDataNumber", 17},
          {"miscselect", "00000000"},
          {"miscselectMask", "FFFFFFFF"},
          {"attributes", "11000000000000000000000000000000"},
          {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
          {"mrsigner", std::string(64, 'A')},
          {"isvprodid", 1},
          {"tcbLevels",
           {{{"tcb", {{"isvsvn", 8}}},
             {"tcbDate", "2024-03-01T00:00:00Z"},
             {"tcbStatus", status},
             {"advisoryIDs", {"INTEL-SA-00001", "INTEL-SA-00002"}}}}}};
}

PlatformTcb platform() {
  PlatformTcb p;
  p.fmspc = hex_decode("00906ed50000").value();
  p.pce_id = Bytes(2, 0);
  p.sgx_components.fill(2);
  p.pcesvn = 13;
  return p;
}

QeReportFields qe_report() {
  QeReportFields r;
  r.mrsigner.fill(0xAA);
  r.isvprodid = 1;
  r.isvsvn = 8;
  r.attributes[0] = 0x11;
  return r;
}

struct Docs {
  SignedTcbInfo tcb;
  SignedQeIdentity qe;
};

Docs docs(const Signer& s, const json& tcb, const json& qe) {
  return {parse_tcb_info_response(s.response("tcbInfo", tcb)).value(),
          parse_qe_identity_response(s.response("enclaveIdentity", qe)).value()};
}

TEST(DcapCollateralVerify, AcceptsMatchingFreshCollateral) {
  const Signer s;
  const Docs d = docs(s, tcb_info_json(), qe_json());
  const PublicKey key = s.key.public_key().value();
  auto v = verify_collateral(d.tcb, d.qe, key, platform(), qe_report(), at("2024-05-15T00:00:00Z"));
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
  EXPECT_EQ(v->status, TcbStatus::kUpToDate);
  EXPECT_EQ(v->tcb.level_index, 0u);
  EXPECT_EQ(v->qe.level_index, 0u);
  EXPECT_EQ(v->advisory_ids, (std::vector<std::string>{"INTEL-SA-00001", "INTEL-SA-00002"}));
}

TEST(DcapCollateralVerify, EachCheckRejects) {
  const Signer s;
  const Signer other;
  const PublicKey key = s.key.public_key().value();
  const TimePoint when = at("2024-05-15T00:00:00Z");
  auto reason = [&](const Docs& d, const PlatformTcb& p, const QeReportFields& r, TimePoint t,
                    const PublicKey& k) {
    auto v = verify_collateral(d.tcb, d.qe, k, p, r, t);
    EXPECT_TRUE(v.has_value());
    EXPECT_FALSE(v->accepted);
    return v->reason;
  };
  const Docs good = docs(s, tcb_info_json(), qe_json());
  EXPECT_EQ(reason(good, platform(), qe_report(), when, other.key.public_key().value())
                .find("TCB info signature does not verify"),
            0u);
  Docs forged_qe = good;
  forged_qe.qe = docs(other, tcb_info_json(), qe_json()).qe;
  EXPECT_EQ(reason(forged_qe, platform(), qe_report(), when, key)
                .find("QE identity signature does not verify"),
            0u);
  EXPECT_EQ(reason(good, platform(), qe_report(), at("2024-06-01T12:00:00Z"), key),
            "TCB info collateral expired: nextUpdate 2024-06-01T00:00:00Z is before "
            "2024-06-01T12:00:00Z");
  EXPECT_EQ(reason(good, platform(), qe_report(), at("2024-05-01T12:00:00Z"), key),
            "QE identity is not yet valid: issueDate 2024-05-02T00:00:00Z is after "
            "2024-05-01T12:00:00Z");
  EXPECT_EQ(reason(docs(s, tcb_info_json(), qe_json("TD_QE")), platform(), qe_report(), when, key),
            "QE identity is for TD_QE, the SGX TCB info needs QE");
  PlatformTcb other_fmspc = platform();
  other_fmspc.fmspc[5] = 1;
  EXPECT_EQ(reason(good, other_fmspc, qe_report(), when, key),
            "TCB info is for FMSPC 00906ed50000, the platform's is 00906ed50001");
  QeReportFields attrs = qe_report();
  attrs.attributes[0] = 0x13;  // bit 1 is inside the mask
  EXPECT_EQ(reason(good, platform(), attrs, when, key).find("QE ATTRIBUTES 13"), 0u);
  EXPECT_EQ(reason(docs(s, tcb_info_json(), qe_json("QE", "Revoked")), platform(), qe_report(),
                   when, key),
            "QE TCB status is Revoked (ISVSVN 8)");
}

TEST(DcapCollateralVerify, QeStatusConvergesWithPlatformStatus) {
  const Signer s;
  const PublicKey key = s.key.public_key().value();
  const Docs d = docs(s, tcb_info_json("ConfigurationNeeded"), qe_json("QE", "OutOfDate"));
  auto v = verify_collateral(d.tcb, d.qe, key, platform(), qe_report(), at("2024-05-15T00:00:00Z"));
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->accepted) << v->reason;
  EXPECT_EQ(v->tcb.status, TcbStatus::kConfigurationNeeded);
  EXPECT_EQ(v->qe.status, TcbStatus::kOutOfDate);
  EXPECT_EQ(v->status, TcbStatus::kOutOfDateConfigurationNeeded);
}

// ---- the folder ----

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  concierge::testing::write_file(p, as_bytes(text));
}

TEST(DcapCollateralFolder, LoadsQvlSgxSampleInBothLayouts) {
  CONCIERGE_REQUIRE_VECTOR(tcb, "sgx/intel-qvl-sample/tcbInfo.json");
  CONCIERGE_REQUIRE_VECTOR(qe, "sgx/intel-qvl-sample/qeIdentity.json");
  CONCIERGE_REQUIRE_VECTOR(chain, "sgx/intel-qvl-sample/tcbSignChain.pem");
  const Bytes fmspc = hex_decode("00707f000000").value();

  concierge::testing::TempDir simple;
  write_text(simple / "tcb/00707f000000.json", read_text(tcb));
  write_text(simple / "qe/identity.json", read_text(qe));
  write_text(simple / "tcb_signing_chain.pem", read_text(chain));
  auto c = load_collateral(simple.path(), fmspc, TeeType::kSgx);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->tcb_info_path, simple / "tcb/00707f000000.json");
  ASSERT_EQ(c->tcb_signing_chain.size(), 2u);

  // The PCS path form, with the chain still URL-encoded as in the header.
  concierge::testing::TempDir pcs;
  write_text(pcs / "sgx/certification/v4/tcb?fmspc=00707f000000", read_text(tcb));
  write_text(pcs / "sgx/certification/v4/qe/identity", read_text(qe));
  std::string encoded;
  for (char ch : read_text(chain)) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      encoded.push_back(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
      encoded += buf;
    }
  }
  write_text(pcs / "tcb_signing_chain.pem", encoded);
  auto c2 = load_collateral(pcs.path(), fmspc, TeeType::kSgx);
  ASSERT_TRUE(c2.has_value()) << c2.error().to_string();
  EXPECT_EQ(c2->tcb_signing_chain.size(), 2u);
  EXPECT_EQ(c2->tcb_info.signed_body, c->tcb_info.signed_body);

  // The whole check, at a time inside the sample's validity, with the QE
  // report fields the identity describes and the platform at its top level.
  const PublicKey key = tcb_signing_key(c->tcb_signing_chain).value();
  PlatformTcb p;
  p.fmspc = fmspc;
  p.pce_id = Bytes(2, 0);
  p.sgx_components = {0, 3, 0, 0, 0, 1, 1};
  p.pcesvn = 3;
  const QeIdentity& id = c->qe_identity.identity;
  QeReportFields r;
  r.mrsigner = id.mrsigner;
  r.isvprodid = id.isvprodid;
  r.isvsvn = 1;
  r.miscselect = id.miscselect;
  r.attributes = id.attributes;
  auto v = verify_collateral(c->tcb_info, c->qe_identity, key, p, r, at("2020-01-01T00:00:00Z"));
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
  EXPECT_EQ(v->status, TcbStatus::kUpToDate);

  // Collateral for another FMSPC is not there.
  auto missing = load_collateral(simple.path(), hex_decode("00906ed50000").value(), TeeType::kSgx);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_NE(missing.error().message.find("no TCB info file"), std::string::npos);
}

TEST(DcapCollateralFolder, MalformedFilesNameTheirPath) {
  concierge::testing::TempDir dir;
  write_text(dir / "tcb/00906ed50000.json", "{\"tcbInfo\": 1}");
  write_text(dir / "qe/identity.json", "{}");
  write_text(dir / "tcb_signing_chain.pem", "");
  auto c = load_collateral(dir.path(), hex_decode("00906ed50000").value(), TeeType::kTdx);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, Errc::kMalformed);
  EXPECT_NE(c.error().message.find((dir / "tcb/00906ed50000.json").string()), std::string::npos)
      << c.error().to_string();
  EXPECT_EQ(load_collateral(dir.path(), Bytes(5, 0), TeeType::kSgx).error().code,
            Errc::kInvalidArgument);
  EXPECT_EQ(tcb_signing_key({}).error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace concierge::evidence::dcap
