// TCB Info: Intel's PCS responses from the vectors folder (go-tdx-guest's
// saved TDX responses, Intel's QVL SGX and TDX samples) and synthetic TCB info
// for every matching rule. go-tdx-guest's responses are signed by Intel's
// production TCB signing key, whose certificate is not among the vectors, so
// for them only parsing and matching are tested; the QVL samples' signatures
// are verified with the key of their tcbSignChain.pem.
#include "concierge/evidence/dcap/tcb_info.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/collateral.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using nlohmann::json;

Bytes hex(const char* h) { return hex_decode(h).value(); }

std::string read_text(const std::filesystem::path& p) {
  const Bytes b = concierge::testing::read_file(p);
  return std::string(b.begin(), b.end());
}

PublicKey chain_key(const std::filesystem::path& pem) {
  auto certs = Certificate::from_pem_bundle(read_text(pem));
  EXPECT_TRUE(certs.has_value());
  return tcb_signing_key(*certs).value();
}

std::array<std::uint8_t, 16> svns(std::initializer_list<int> v) {
  std::array<std::uint8_t, 16> out{};
  std::size_t i = 0;
  for (int x : v) out[i++] = static_cast<std::uint8_t>(x);
  return out;
}

// ---- real responses ----

TEST(DcapTcbInfo, ParsesGoTdxGuestTdxResponse) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/go-tdx-guest/sample_tcbInfo_response");
  const std::string text = read_text(path);
  auto tcb = parse_tcb_info_response(text);
  ASSERT_TRUE(tcb.has_value()) << tcb.error().to_string();
  const TcbInfo& info = tcb->info;
  EXPECT_EQ(info.tee, TeeType::kTdx);
  EXPECT_EQ(info.id, "TDX");
  EXPECT_EQ(info.version, 3);
  EXPECT_EQ(format_rfc3339(info.issue_date), "2023-06-18T08:42:58Z");
  EXPECT_EQ(format_rfc3339(info.next_update), "2023-07-18T08:42:58Z");
  EXPECT_EQ(hex_encode(info.fmspc), "50806f000000");
  EXPECT_EQ(hex_encode(info.pce_id), "0000");
  EXPECT_EQ(info.tcb_evaluation_data_number, 15u);
  ASSERT_TRUE(info.tdx_module.has_value());
  EXPECT_EQ(info.tdx_module->mrsigner, Bytes(48, 0));
  EXPECT_EQ(hex_encode(info.tdx_module->attributes_mask), "ffffffffffffffff");
  EXPECT_TRUE(info.tdx_module_identities.empty());
  ASSERT_EQ(info.tcb_levels.size(), 2u);
  const TcbLevel& top = info.tcb_levels[0];
  EXPECT_EQ(top.pcesvn, 11);
  EXPECT_EQ(top.sgx_components[0].svn, 5);
  EXPECT_EQ(top.sgx_components[0].category, "BIOS");
  EXPECT_EQ(top.sgx_components[0].type, "Early Microcode Update");
  EXPECT_EQ(top.sgx_components[7].svn, 3);
  ASSERT_TRUE(top.tdx_components.has_value());
  EXPECT_EQ((*top.tdx_components)[0].svn, 3);
  EXPECT_EQ((*top.tdx_components)[2].svn, 5);
  EXPECT_EQ(top.status, TcbStatus::kUpToDate);
  EXPECT_TRUE(top.advisory_ids.empty());
  EXPECT_EQ(info.tcb_levels[1].status, TcbStatus::kOutOfDate);
  EXPECT_EQ(info.tcb_levels[1].advisory_ids.size(), 13u);
  EXPECT_EQ(info.tcb_levels[1].advisory_ids.front(), "INTEL-SA-00106");

  // The signed body is the exact "tcbInfo" value of the response.
  EXPECT_EQ(tcb->signed_body.substr(0, 11), "{\"id\":\"TDX\"");
  EXPECT_NE(text.find("{\"tcbInfo\":" + tcb->signed_body + ",\"signature\":"), std::string::npos);
  EXPECT_EQ(tcb->signature.size(), 64u);

  // A platform at the top level (TEE_TCB_SVN[1] == 0: every TDX SVN compared).
  PlatformTcb p;
  p.fmspc = hex("50806f000000");
  p.pce_id = hex("0000");
  p.sgx_components = svns({5, 5, 2, 2, 3, 1, 0, 3});
  p.pcesvn = 11;
  p.tee_tcb_svn = svns({3, 0, 5});
  p.mrsignerseam = std::array<std::uint8_t, 48>{};
  p.seam_attributes = std::array<std::uint8_t, 8>{};
  TcbMatch m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.level_index, 0u);
  EXPECT_FALSE(m.tdx_module_status.has_value());

  p.pcesvn = 10;  // below the top level's PCESVN: the OutOfDate level
  m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m.level_index, 1u);
  EXPECT_EQ(m.advisory_ids.size(), 13u);

  p.pcesvn = 11;
  p.tee_tcb_svn = svns({3, 0, 4});  // TDX SVN 2 below every level
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TCB level not supported: the platform meets none of the 2 TCB levels");
}

TEST(DcapTcbInfo, GoTdxGuestV5ResponseWithModuleIdentities) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/go-tdx-guest/sample_tcbinfo_response_v5");
  auto tcb = parse_tcb_info_response(read_text(path));
  ASSERT_TRUE(tcb.has_value()) << tcb.error().to_string();
  const TcbInfo& info = tcb->info;
  EXPECT_EQ(info.tcb_evaluation_data_number, 18u);
  ASSERT_EQ(info.tdx_module_identities.size(), 2u);
  EXPECT_EQ(info.tdx_module_identities[0].id, "TDX_03");
  EXPECT_EQ(info.tdx_module_identities[1].id, "TDX_01");
  ASSERT_EQ(info.tdx_module_identities[1].tcb_levels.size(), 3u);
  EXPECT_EQ(info.tdx_module_identities[1].tcb_levels[1].isvsvn, 4);
  EXPECT_EQ(info.tdx_module_identities[1].tcb_levels[1].status, TcbStatus::kOutOfDate);
  ASSERT_EQ(info.tcb_levels.size(), 3u);

  PlatformTcb p;
  p.fmspc = hex("90c06f000000");
  p.pce_id = hex("0000");
  p.sgx_components = svns({3, 3, 2, 2, 4, 1, 0, 5});
  p.pcesvn = 13;
  p.tee_tcb_svn = svns({3, 3, 3});  // module TDX_03, SVN 3
  TcbMatch m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.tdx_module_status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.level_index, 0u);

  // Module TDX_01 at SVN 4: OutOfDate module on an UpToDate platform.
  p.tee_tcb_svn = svns({4, 1, 3});
  m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.platform_status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.tdx_module_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m.status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m.advisory_ids, (std::vector<std::string>{"INTEL-SA-01036", "INTEL-SA-01099"}));

  // TDX_03 has no level at SVN 2.
  p.tee_tcb_svn = svns({2, 3, 3});
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_NE(m.reason.find("TDX module TDX_03 SVN 2 is below every TCB level"), std::string::npos)
      << m.reason;

  // No TDX_02 identity.
  p.tee_tcb_svn = svns({3, 2, 3});
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TDX module identity TDX_02 (TEE_TCB_SVN[1] = 2) is not in the TCB info");

  // Another FMSPC: the collateral is not for this platform.
  p.tee_tcb_svn = svns({3, 3, 3});
  p.fmspc = hex("50806f000000");
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TCB info is for FMSPC 90c06f000000, the platform's is 50806f000000");
}

TEST(DcapTcbInfo, QvlSgxSampleV2SignatureAndLevels) {
  CONCIERGE_REQUIRE_VECTOR(path, "sgx/intel-qvl-sample/tcbInfo.json");
  CONCIERGE_REQUIRE_VECTOR(chain, "sgx/intel-qvl-sample/tcbSignChain.pem");
  const std::string text = read_text(path);
  auto tcb = parse_tcb_info_response(text);
  ASSERT_TRUE(tcb.has_value()) << tcb.error().to_string();
  EXPECT_EQ(tcb->info.version, 2);
  EXPECT_EQ(tcb->info.id, "");
  EXPECT_EQ(tcb->info.tee, TeeType::kSgx);
  EXPECT_EQ(hex_encode(tcb->info.fmspc), "00707f000000");
  ASSERT_EQ(tcb->info.tcb_levels.size(), 6u);
  EXPECT_EQ(tcb->info.tcb_levels[0].sgx_components[1].svn, 3);
  EXPECT_FALSE(tcb->info.tcb_levels[0].tdx_components.has_value());

  const PublicKey key = chain_key(chain);
  auto v = verify_tcb_info_signature(*tcb, key);
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;

  // Whitespace outside the signed object does not matter...
  std::string spaced = text;
  spaced.insert(spaced.find(",\"signature\""), " \n");
  auto again = parse_tcb_info_response(spaced);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(verify_tcb_info_signature(*again, key)->accepted);
  // ...but one byte inside it does.
  std::string flipped = text;
  flipped.replace(flipped.find("\"tcbEvaluationDataNumber\":3"), 27,
                  "\"tcbEvaluationDataNumber\":4");
  auto bad = parse_tcb_info_response(flipped);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->info.tcb_evaluation_data_number, 4u);
  v = verify_tcb_info_signature(*bad, key);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->accepted);
  EXPECT_EQ(v->reason.find("TCB info signature does not verify"), 0u) << v->reason;

  // Every level of Intel's sample is reachable.
  PlatformTcb p;
  p.fmspc = hex("00707F000000");
  p.pce_id = hex("0000");
  struct Case {
    std::array<std::uint8_t, 16> comps;
    std::uint16_t pcesvn;
    TcbStatus status;
    std::size_t level;
  };
  for (const Case& c :
       {Case{svns({0, 3, 0, 0, 0, 1, 1}), 3, TcbStatus::kUpToDate, 0},
        Case{svns({0, 3, 0, 0, 0, 1, 0}), 3, TcbStatus::kConfigurationNeeded, 1},
        Case{svns({0, 3, 0, 0, 0, 1, 1}), 2, TcbStatus::kOutOfDate, 2},
        Case{svns({0, 2, 0, 0, 0, 1, 0}), 2, TcbStatus::kOutOfDateConfigurationNeeded, 3},
        Case{svns({0, 1, 0, 0, 0, 1}), 1, TcbStatus::kRevoked, 4},
        Case{svns({}), 0, TcbStatus::kOutOfDate, 5}}) {
    p.sgx_components = c.comps;
    p.pcesvn = c.pcesvn;
    const TcbMatch m = match_tcb_level(tcb->info, p);
    EXPECT_EQ(m.status, c.status);
    EXPECT_EQ(m.level_index, c.level);
    EXPECT_EQ(m.accepted, c.status != TcbStatus::kRevoked) << m.reason;
  }
  EXPECT_EQ(match_tcb_level(tcb->info, p).reason, "");
  p.sgx_components = svns({0, 1, 0, 0, 0, 1});
  p.pcesvn = 1;
  EXPECT_EQ(match_tcb_level(tcb->info, p).reason, "TCB status is Revoked (TCB level 4)");
}

TEST(DcapTcbInfo, QvlTdxSampleSignature) {
  CONCIERGE_REQUIRE_VECTOR(path, "tdx/intel-qvl-sample/tcbInfo.json");
  CONCIERGE_REQUIRE_VECTOR(chain, "tdx/intel-qvl-sample/tcbSignChain.pem");
  const std::string text = read_text(path);
  auto tcb = parse_tcb_info_response(text);
  ASSERT_TRUE(tcb.has_value()) << tcb.error().to_string();
  EXPECT_EQ(tcb->info.tee, TeeType::kTdx);
  EXPECT_EQ(hex_encode(tcb->info.pce_id), "8a67");
  ASSERT_EQ(tcb->info.tcb_levels.size(), 1u);
  EXPECT_EQ(tcb->info.tcb_levels[0].sgx_components[1].svn, 65473);  // Intel's synthetic values
  EXPECT_EQ(tcb->info.tcb_levels[0].pcesvn, 10593);
  EXPECT_EQ((*tcb->info.tcb_levels[0].tdx_components)[0].category, "KRYYIXKC8U");

  // This chain file lists the root first: the key is the TCB Signing leaf's.
  const PublicKey key = chain_key(chain);
  auto v = verify_tcb_info_signature(*tcb, key);
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;

  std::string flipped = text;
  flipped.replace(flipped.find("\"svn\":82"), 8, "\"svn\":83");
  auto bad = parse_tcb_info_response(flipped);
  ASSERT_TRUE(bad.has_value());
  EXPECT_FALSE(verify_tcb_info_signature(*bad, key)->accepted);
}

// ---- synthetic TCB info ----

json components(int svn) {
  json a = json::array();
  for (int i = 0; i < 16; ++i) a.push_back({{"svn", svn}});
  return a;
}

json level(int sgx_svn, int pcesvn, const char* status, std::optional<int> tdx_svn = {}) {
  json tcb = {{"sgxtcbcomponents", components(sgx_svn)}, {"pcesvn", pcesvn}};
  if (tdx_svn) {
    tcb["tdxtcbcomponents"] = components(*tdx_svn);
    tcb["tdxtcbcomponents"][1]["svn"] = 0;  // as Intel's: the module's major version
  }
  return {{"tcb", tcb},
          {"tcbDate", "2024-01-01T00:00:00Z"},
          {"tcbStatus", status},
          {"advisoryIDs", {std::string("INTEL-SA-") + status}}};
}

json base_info(const char* id) {
  json j = {{"id", id},
            {"version", 3},
            {"issueDate", "2024-05-01T00:00:00Z"},
            {"nextUpdate", "2024-06-01T00:00:00Z"},
            {"fmspc", "00906ED50000"},
            {"pceId", "0000"},
            {"tcbType", 0},
            {"tcbEvaluationDataNumber", 17}};
  if (std::string(id) == "TDX") {
    j["tdxModule"] = {{"mrsigner", std::string(96, '0')},
                      {"attributes", "0000000000000000"},
                      {"attributesMask", "FFFFFFFFFFFFFFFF"}};
  }
  return j;
}

const std::vector<const char*> kAllStatuses = {"UpToDate",
                                               "SWHardeningNeeded",
                                               "ConfigurationNeeded",
                                               "ConfigurationAndSWHardeningNeeded",
                                               "OutOfDate",
                                               "OutOfDateConfigurationNeeded",
                                               "Revoked"};

TcbInfo parsed(const json& j) {
  auto info = parse_tcb_info(j.dump());
  EXPECT_TRUE(info.has_value()) << info.error().to_string();
  return std::move(info).value();
}

PlatformTcb sgx_platform(int svn) {
  PlatformTcb p;
  p.fmspc = hex("00906ed50000");
  p.pce_id = hex("0000");
  p.sgx_components.fill(static_cast<std::uint8_t>(svn));
  p.pcesvn = static_cast<std::uint16_t>(svn);
  return p;
}

TEST(DcapTcbMatch, EveryStatusIsReachable) {
  json j = base_info("SGX");
  const int n = static_cast<int>(kAllStatuses.size());
  for (int i = 0; i < n; ++i) j["tcbLevels"].push_back(level(10 - i, 10 - i, kAllStatuses[i]));
  const TcbInfo info = parsed(j);
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(kAllStatuses[i]);
    const TcbMatch m = match_tcb_level(info, sgx_platform(10 - i));
    EXPECT_EQ(tcb_status_name(m.status), kAllStatuses[i]);
    EXPECT_EQ(m.level_index, static_cast<std::size_t>(i));
    EXPECT_EQ(m.advisory_ids, std::vector<std::string>{std::string("INTEL-SA-") + kAllStatuses[i]});
    EXPECT_EQ(m.accepted, i != n - 1) << m.reason;
  }
  const TcbMatch none = match_tcb_level(info, sgx_platform(3));
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(none.reason, "TCB level not supported: the platform meets none of the 7 TCB levels");
}

TEST(DcapTcbMatch, OneLowComponentOrPcesvnSkipsALevel) {
  json j = base_info("SGX");
  j["tcbLevels"] = {level(5, 5, "UpToDate"), level(1, 1, "OutOfDate")};
  const TcbInfo info = parsed(j);
  PlatformTcb p = sgx_platform(5);
  EXPECT_EQ(match_tcb_level(info, p).status, TcbStatus::kUpToDate);
  p.sgx_components[15] = 4;
  EXPECT_EQ(match_tcb_level(info, p).status, TcbStatus::kOutOfDate);
  p = sgx_platform(5);
  p.pcesvn = 4;
  EXPECT_EQ(match_tcb_level(info, p).status, TcbStatus::kOutOfDate);
}

TEST(DcapTcbMatch, FmspcPceIdAndTeeMismatchAreRejected) {
  json j = base_info("SGX");
  j["tcbLevels"] = {level(1, 1, "UpToDate")};
  const TcbInfo info = parsed(j);
  PlatformTcb p = sgx_platform(1);
  p.fmspc = hex("00906ed50001");
  TcbMatch m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TCB info is for FMSPC 00906ed50000, the platform's is 00906ed50001");
  p = sgx_platform(1);
  p.pce_id = hex("0001");
  EXPECT_EQ(match_tcb_level(info, p).reason, "TCB info is for PCE ID 0000, the platform's is 0001");
  p = sgx_platform(1);
  p.tee_tcb_svn = svns({});
  EXPECT_EQ(match_tcb_level(info, p).reason, "SGX TCB info for a TDX platform (TEE_TCB_SVN given)");
}

TEST(DcapTcbMatch, UnknownStatusNeverAccepts) {
  json j = base_info("SGX");
  j["tcbLevels"] = {level(1, 1, "SomethingNew")};
  const TcbInfo info = parsed(j);
  EXPECT_EQ(info.tcb_levels[0].status, TcbStatus::kUnknown);
  const TcbMatch m = match_tcb_level(info, sgx_platform(1));
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason, "TCB level 0 has an unrecognised tcbStatus \"SomethingNew\"");
}

PlatformTcb tdx_platform(std::array<std::uint8_t, 16> tee) {
  PlatformTcb p = sgx_platform(5);
  p.tee_tcb_svn = tee;
  p.mrsignerseam = std::array<std::uint8_t, 48>{};
  p.seam_attributes = std::array<std::uint8_t, 8>{};
  return p;
}

TEST(DcapTcbMatch, TdxComponentsAndModuleIdentity) {
  json j = base_info("TDX");
  j["tcbLevels"] = {level(5, 5, "UpToDate", 4), level(5, 5, "SWHardeningNeeded", 2)};
  json module = j["tdxModule"];
  module["id"] = "TDX_01";
  module["attributesMask"] = "FF00000000000000";
  module["tcbLevels"] = {
      {{"tcb", {{"isvsvn", 7}}}, {"tcbDate", "2024-01-01T00:00:00Z"}, {"tcbStatus", "UpToDate"}},
      {{"tcb", {{"isvsvn", 2}}},
       {"tcbDate", "2023-01-01T00:00:00Z"},
       {"tcbStatus", "OutOfDate"},
       {"advisoryIDs", {"INTEL-SA-MODULE"}}}};
  j["tdxModuleIdentities"] = {module};
  const TcbInfo info = parsed(j);

  // Module version 0: all 16 TDX SVNs compared against the levels.
  PlatformTcb p = tdx_platform(svns({4, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}));
  TcbMatch m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kUpToDate);
  EXPECT_FALSE(m.tdx_module_status.has_value());
  (*p.tee_tcb_svn)[0] = 3;
  EXPECT_EQ(match_tcb_level(info, p).status, TcbStatus::kSWHardeningNeeded);

  // Module version 1: indexes 0 and 1 are the module's, judged by TDX_01.
  p = tdx_platform(svns({7, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}));
  m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.tdx_module_status, TcbStatus::kUpToDate);
  (*p.tee_tcb_svn)[0] = 3;  // module level 1: OutOfDate
  m = match_tcb_level(info, p);
  EXPECT_TRUE(m.accepted) << m.reason;
  EXPECT_EQ(m.level_index, 0u);
  EXPECT_EQ(m.tdx_module_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m.status, TcbStatus::kOutOfDate);
  EXPECT_EQ(m.advisory_ids, (std::vector<std::string>{"INTEL-SA-UpToDate", "INTEL-SA-MODULE"}));
  (*p.tee_tcb_svn)[15] = 3;  // platform SWHardeningNeeded + module OutOfDate
  m = match_tcb_level(info, p);
  EXPECT_EQ(m.platform_status, TcbStatus::kSWHardeningNeeded);
  EXPECT_EQ(m.status, TcbStatus::kOutOfDate);
  (*p.tee_tcb_svn)[0] = 1;  // below every module level
  EXPECT_FALSE(match_tcb_level(info, p).accepted);

  // MRSIGNERSEAM and SEAM_ATTRIBUTES (under the mask FF00...).
  p = tdx_platform(svns({7, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}));
  (*p.seam_attributes)[7] = 0x80;  // outside the mask
  EXPECT_TRUE(match_tcb_level(info, p).accepted);
  (*p.seam_attributes)[0] = 0x01;  // inside it
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason,
            "SEAM_ATTRIBUTES 0100000000000080 do not match TDX_01 attributes 0000000000000000 "
            "under mask ff00000000000000");
  p = tdx_platform(svns({7, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}));
  (*p.mrsignerseam)[0] = 1;
  m = match_tcb_level(info, p);
  EXPECT_FALSE(m.accepted);
  EXPECT_EQ(m.reason.find("MRSIGNERSEAM 0100"), 0u) << m.reason;

  p.tee_tcb_svn.reset();
  EXPECT_EQ(match_tcb_level(info, p).reason, "TDX TCB info but no TEE_TCB_SVN for the platform");
}

// ---- malformed input ----

TEST(DcapTcbInfo, RejectsMalformedTcbInfo) {
  json good = base_info("TDX");
  good["tcbLevels"] = {level(1, 1, "UpToDate", 1)};
  ASSERT_TRUE(parse_tcb_info(good.dump()).has_value());
  struct Case {
    const char* name;
    json doc;
    Errc code;
    const char* field;
  };
  auto with = [&](const char* ptr, json value) {
    json j = good;
    j[json::json_pointer(ptr)] = std::move(value);
    return j;
  };
  auto without = [&](const char* key) {
    json j = good;
    j.erase(key);
    return j;
  };
  json short_comps = good;
  short_comps["tcbLevels"][0]["tcb"]["sgxtcbcomponents"].erase(15);
  const std::vector<Case> cases = {
      {"version 4", with("/version", 4), Errc::kUnsupported, ""},
      {"id SEV", with("/id", "SEV"), Errc::kUnsupported, ""},
      {"no fmspc", without("fmspc"), Errc::kMalformed, "fmspc"},
      {"short fmspc", with("/fmspc", "00906ED500"), Errc::kMalformed, "fmspc"},
      {"no tdxModule", without("tdxModule"), Errc::kMalformed, "tdxModule"},
      {"empty levels", with("/tcbLevels", json::array()), Errc::kMalformed, "tcbLevels"},
      {"15 components", short_comps, Errc::kMalformed, "tcbLevels[0].tcb.sgxtcbcomponents"},
      {"negative svn", with("/tcbLevels/0/tcb/sgxtcbcomponents/3/svn", -1), Errc::kMalformed,
       "tcbLevels[0].tcb.sgxtcbcomponents[3].svn"},
      {"float svn", with("/tcbLevels/0/tcb/sgxtcbcomponents/3/svn", 1.5), Errc::kMalformed,
       "tcbLevels[0].tcb.sgxtcbcomponents[3].svn"},
      {"huge pcesvn", with("/tcbLevels/0/tcb/pcesvn", 70000), Errc::kMalformed,
       "tcbLevels[0].tcb.pcesvn"},
      {"bad date", with("/tcbLevels/0/tcbDate", "yesterday"), Errc::kMalformed,
       "tcbLevels[0].tcbDate"},
      {"numeric status", with("/tcbLevels/0/tcbStatus", 1), Errc::kMalformed,
       "tcbLevels[0].tcbStatus"},
      {"advisory number", with("/tcbLevels/0/advisoryIDs", {1}), Errc::kMalformed,
       "tcbLevels[0].advisoryIDs"},
      {"no tdx components",
       [&] {
         json j = good;
         j["tcbLevels"][0]["tcb"].erase("tdxtcbcomponents");
         return j;
       }(),
       Errc::kMalformed, "tcbLevels[0].tcb.tdxtcbcomponents"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = parse_tcb_info(c.doc.dump());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, c.code) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
  }
  // v2 needs sgxtcbcompNNsvn members, not the v3 array.
  json v2 = good;
  v2["version"] = 2;
  v2["id"] = "SGX";
  auto r = parse_tcb_info(v2.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "tcbLevels[0].tcb.sgxtcbcomp01svn");
  v2["id"] = "TDX";
  EXPECT_EQ(parse_tcb_info(v2.dump()).error().code, Errc::kUnsupported);
  EXPECT_FALSE(parse_tcb_info("[1]").has_value());
  EXPECT_FALSE(parse_tcb_info("{\"version\":").has_value());
}

}  // namespace
}  // namespace concierge::evidence::dcap
