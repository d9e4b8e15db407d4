// The evidence table: each kind's verifier gives normalized claims from
// simulated and real evidence.
#include "concierge/verifier/evidence_verifier.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/snp/simulator.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::verifier {
namespace {

using concierge::testing::read_file;

TEST(EvidenceTable, HasOneVerifierPerKind) {
  for (const char* tee : {"snp", "tdx", "sgx", "tpm"}) {
    const EvidenceKind* k = find_evidence_kind(tee);
    ASSERT_NE(k, nullptr) << tee;
    EXPECT_EQ(k->tee, tee);
  }
  EXPECT_EQ(find_evidence_kind("cca"), nullptr);
  EXPECT_EQ(find_evidence_kind("snp")->report_data_size, 64u);
  EXPECT_EQ(find_evidence_kind("tpm")->binding_hash, HashAlg::kSha256);
}

TEST(EvidenceSnp, SimulatedReportNormalizes) {
  // Made once per build of the test binary (support/test_cache.h).
  const evidence::snp::SnpSimulator platform = concierge::testing::cached_snp_simulator({});
  const evidence::snp::SnpSimulator* sim = &platform;
  evidence::snp::ReportRequest req;
  req.measurement.fill(0x42);
  req.policy |= 1ull << 19;  // DEBUG
  DeviceEvidence d;
  d.tee = "snp";
  d.evidence = sim->issue(req).value();
  d.endorsements["vcek"] = base64_encode(sim->vcek().der());
  VerifierContext ctx;
  auto v = verify_snp_evidence(d, ctx);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->verdict);  // AMD's roots only
  EXPECT_EQ(v->normalized["evidence_verified"], false);
  EXPECT_TRUE(v->normalized.contains("reason"));

  ctx.snp_roots = {sim->root_set().value()};
  v = verify_snp_evidence(d, ctx);
  ASSERT_TRUE(v) << v.error().to_string();
  const auto& n = v->normalized;
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(n["tee"], "snp");
  EXPECT_EQ(n["evidence_verified"], true);
  EXPECT_EQ(n["vendor_chain"], true);
  EXPECT_EQ(n["root"], "configured");  // a test root
  EXPECT_EQ(n["debug"], true);
  EXPECT_EQ(n["measurement"].get<std::string>().substr(0, 4), "4242");
  EXPECT_TRUE(n["svn"].contains("microcode"));
  EXPECT_EQ(n["signer"].get<std::string>().rfind("chip:", 0), 0u);
  EXPECT_EQ(v->report_data.size(), 64u);
}

TEST(EvidenceSnp, RealReportHasAVendorChain) {
  CONCIERGE_REQUIRE_VECTOR(report, "snp/go-sev-guest/attestation.bin");
  CONCIERGE_REQUIRE_VECTOR(vcek, "snp/go-sev-guest/vcek.der");
  DeviceEvidence d;
  d.tee = "snp";
  d.evidence = read_file(report);
  d.endorsements["vcek"] = base64_encode(read_file(vcek));
  auto v = find_evidence_kind("snp")->verify(d, VerifierContext{});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(v->normalized["vendor_chain"], true);
  EXPECT_EQ(v->normalized["root"], "builtin");
  EXPECT_EQ(v->normalized["measurement"].get<std::string>().substr(0, 8), "b07af962");
}

TEST(EvidenceTdx, SimulatedQuoteWithCollateralNormalizes) {
  auto sim = evidence::dcap::DcapSimulator::create();
  ASSERT_TRUE(sim) << sim.error().to_string();
  evidence::dcap::TdQuoteInput in;
  in.mr_td.fill(0x11);
  in.rtmr[1].fill(0x22);
  DeviceEvidence d;
  d.tee = "tdx";
  d.evidence = sim->tdx_quote(in).value();
  concierge::testing::TempDir dir;
  ASSERT_TRUE(sim->write_collateral(dir.path(), evidence::dcap::TeeType::kTdx));
  const std::string fmspc = hex_encode(sim->fmspc());
  d.endorsements["collateral"] = {
      {"tcb_info", std::string(as_chars(read_file(dir / ("tcb/" + fmspc + ".json"))))},
      {"qe_identity", std::string(as_chars(read_file(dir / "qe/identity.json")))},
      {"tcb_signing_chain", sim->tcb_signing_chain_pem()}};
  VerifierContext ctx;
  ctx.intel_root = sim->root();
  ctx.dcap_min_evaluation_number = 1;  // guest collateral needs a floor
  auto v = find_evidence_kind("tdx")->verify(d, ctx);
  ASSERT_TRUE(v) << v.error().to_string();
  const auto& n = v->normalized;
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(n["tee"], "tdx");
  EXPECT_EQ(n["vendor_chain"], true);
  EXPECT_EQ(n["root"], "configured");
  EXPECT_EQ(n["debug"], false);
  EXPECT_EQ(n["tcb_status"], "UpToDate");
  EXPECT_EQ(n["measurement"].get<std::string>().substr(0, 4), "1111");
  EXPECT_EQ(n["registers"]["rtmr1"].get<std::string>().substr(0, 4), "2222");
  EXPECT_EQ(n["signer"], "fmspc:" + fmspc);

  // The SGX verifier refuses a TDX quote.
  d.tee = "sgx";
  auto sgx = find_evidence_kind("sgx")->verify(d, ctx);
  ASSERT_TRUE(sgx);
  EXPECT_FALSE(sgx->verdict);
}

TEST(EvidenceTdx, RealQuoteWithItsCcelLogListsUnknownEvents) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
  CONCIERGE_REQUIRE_VECTOR(log, "tdx/go-tdx-guest/ccel/ccel_data.dat");
  DeviceEvidence d;
  d.tee = "tdx";
  d.evidence = read_file(quote);
  d.event_log = read_file(log);
  VerifierContext ctx;
  ctx.at = parse_rfc3339("2025-01-01T00:00:00Z").value();
  ctx.known_event_digests = std::set<std::string>{};
  auto v = find_evidence_kind("tdx")->verify(d, ctx);
  ASSERT_TRUE(v) << v.error().to_string();
  const auto& n = v->normalized;
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(n["vendor_chain"], true);
  EXPECT_EQ(n["log"]["matches_registers"], true);
  ASSERT_EQ(n["log"]["unknown_events"].size(), 43u);  // 16 + 7 + 20, none known
  const auto& first = n["log"]["unknown_events"][0];
  EXPECT_EQ(first["register"], "rtmr0");
  EXPECT_FALSE(first["description"].get<std::string>().empty());

  // Knowing every digest but one leaves exactly that one.
  std::set<std::string> known;
  for (const auto& e : n["log"]["unknown_events"]) known.insert(e["digest"].get<std::string>());
  const std::string missing = n["log"]["unknown_events"][20]["digest"];
  known.erase(missing);
  ctx.known_event_digests = known;
  v = find_evidence_kind("tdx")->verify(d, ctx);
  ASSERT_TRUE(v);
  ASSERT_GE(v->normalized["log"]["unknown_events"].size(), 1u);
  EXPECT_EQ(v->normalized["log"]["unknown_events"][0]["digest"], missing);
}

}  // namespace
}  // namespace concierge::verifier
