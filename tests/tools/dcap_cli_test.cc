// `concierge tdx show`, `verify tdx` and `verify sgx` on real and sample
// quotes: exit codes, reasons and the JSON claim names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::read_file;
using testing::run_cli;
using testing::TempDir;
using testing::write_file;

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(DcapCli, RealTdxQuoteVerifiesShowsAndRejects) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
  auto ok = run_cli("verify tdx " + q(quote) + " --at 2025-01-01 --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = nlohmann::json::parse(ok.out);
  for (const char* name : {"mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
                           "mrownerconfig", "mrseam", "report_data", "td_attributes", "xfam",
                           "tee_tcb_svn", "fmspc", "tcb_status", "advisory_ids"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["tcb_status"], "unknown");
  EXPECT_EQ(j["td_attributes"]["sept_ve_disable"], true);

  auto text = run_cli("verify tdx " + q(quote) + " --at 2025-01-01");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("quote verified (TDX, v4, mrtd dae67181", 0), 0u) << text.out;

  auto rd = run_cli("verify tdx " + q(quote) + " --at 2025-01-01 --report-data 01");
  EXPECT_EQ(rd.exit_code, 1);
  EXPECT_NE(rd.err.find("rejected: REPORT_DATA"), std::string::npos) << rd.err;

  auto sgx = run_cli("verify sgx " + q(quote) + " --at 2025-01-01");
  EXPECT_EQ(sgx.exit_code, 1);
  EXPECT_NE(sgx.err.find("quote is TDX, not SGX"), std::string::npos) << sgx.err;

  auto show = run_cli("tdx show " + q(quote) + " --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["mrtd"], j["mrtd"]);
  auto show_text = run_cli("tdx show " + q(quote));
  EXPECT_NE(show_text.out.find("td_attributes      0000000010000000: sept_ve_disable"),
            std::string::npos)
      << show_text.out;
}

TEST(DcapCli, MalformedQuotesExitTwo) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  // The vector carries test text after the quote: not zero padding.
  auto trailing = run_cli("verify tdx " + q(quote));
  EXPECT_EQ(trailing.exit_code, 2);
  EXPECT_NE(trailing.err.find("offset 0x1347 (4935)"), std::string::npos) << trailing.err;

  TempDir dir;
  Bytes cut = read_file(quote);
  cut.resize(1000);
  write_file(dir / "cut.dat", cut);
  auto truncated = run_cli("verify tdx " + q(dir / "cut.dat"));
  EXPECT_EQ(truncated.exit_code, 2);
  auto show = run_cli("tdx show " + q(dir / "cut.dat"));
  EXPECT_EQ(show.exit_code, 2);
  auto usage = run_cli("verify tdx " + q(quote) + " --tcb-info x");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("go together"), std::string::npos) << usage.err;
}

TEST(DcapCli, IntelSgxSampleNeedsItsTestRootAndGetsATcbStatus) {
  CONCIERGE_REQUIRE_VECTOR(quote, "sgx/intel-qvl-sample/quote.dat");
  const auto d = quote.parent_path();
  const std::string pck = " --pck " + q(d / "pckCert.pem") + " --pck " + q(d / "pckSignChain.pem");
  const std::string collateral = " --tcb-info " + q(d / "tcbInfo.json") + " --qe-identity " +
                                 q(d / "qeIdentity.json") + " --tcb-signing-chain " +
                                 q(d / "tcbSignChain.pem");
  auto without = run_cli("verify sgx " + q(quote) + pck + " --at 2020-01-01");
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_NE(without.err.find("PCK chain"), std::string::npos) << without.err;

  auto with = run_cli("verify sgx " + q(quote) + pck + collateral + " --root " +
                      q(d / "trustedRootCaCert.pem") + " --at 2020-01-01 --json");
  ASSERT_EQ(with.exit_code, 0) << with.err;
  const auto j = nlohmann::json::parse(with.out);
  for (const char* name : {"mrenclave", "mrsigner", "isvprodid", "isvsvn", "attributes",
                           "report_data", "fmspc", "tcb_status"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
  EXPECT_EQ(j["tcb_status"], "UpToDate");
  EXPECT_EQ(j["fmspc"], "00707f000000");
}

}  // namespace
}  // namespace concierge

namespace concierge {
namespace {

TEST(DcapCli, CcelLogReplaysToTheQuoteAndReferencesNameTheFirstUnknownEvent) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
  CONCIERGE_REQUIRE_VECTOR(log, "tdx/go-tdx-guest/ccel/ccel_data.dat");
  CONCIERGE_REQUIRE_VECTOR(table, "tdx/go-tdx-guest/ccel/ccel_table.dat");
  TempDir dir;
  auto refs = run_cli("tdx ccel " + q(log) + " --table " + q(table) + " --reference-out " +
                      q(dir / "refs.json") + " --json");
  ASSERT_EQ(refs.exit_code, 0) << refs.err;
  const auto j = nlohmann::json::parse(refs.out);
  EXPECT_EQ(j["table"]["cc_type_name"], "TDX");
  EXPECT_EQ(j["replay"]["rtmr_events"], nlohmann::json({16, 7, 20, 0}));

  const std::string base = "verify tdx " + q(quote) + " --at 2025-01-01 --ccel " + q(log);
  auto ok = run_cli(base + " --ccel-reference " + q(dir / "refs.json") + " --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto claims = nlohmann::json::parse(ok.out);
  EXPECT_EQ(claims["ccel"]["rtmr1"], claims["rtmr1"]);

  // A reference set that lacks one event's digest: the event is named.
  auto ref = nlohmann::json::parse(as_chars(read_file(dir / "refs.json")));
  auto& digests = ref["digests"]["sha384"];
  ASSERT_FALSE(digests.empty());
  const std::string dropped = digests[0].get<std::string>();
  digests.erase(digests.begin());
  const std::string partial_text = ref.dump();
  write_file(dir / "partial.json", as_bytes(partial_text));
  auto partial = run_cli(base + " --ccel-reference " + q(dir / "partial.json"));
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_NE(partial.err.find("RTMR"), std::string::npos) << partial.err;
  EXPECT_NE(partial.err.find("not among the reference digests"), std::string::npos) << partial.err;

  // A TPM's reference values (sha256) compare nothing with RTMRs: an error
  // (2), never "verified".
  write_file(dir / "tpm-ref.json",
             as_bytes(R"({"pcrs": {"sha256": {"0": ")" + std::string(64, '0') + R"("}}})"));
  auto tpm_ref = run_cli(base + " --ccel-reference " + q(dir / "tpm-ref.json"));
  EXPECT_EQ(tpm_ref.exit_code, 2) << tpm_ref.out << tpm_ref.err;
  EXPECT_NE(tpm_ref.err.find("nothing to compare"), std::string::npos) << tpm_ref.err;
  EXPECT_EQ(tpm_ref.out.find("verified"), std::string::npos) << tpm_ref.out;

  // Another TD's quote: its RTMRs are not this log's.
  CONCIERGE_REQUIRE_VECTOR(other, "tdx/go-tdx-guest/quote_v5_sample.dat");
  auto mismatch = run_cli("verify tdx " + q(other) + " --at 2026-02-15 --ccel " + q(log));
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("RTMR0 differs"), std::string::npos) << mismatch.err;
}

TEST(DcapCli, SimulatedQuoteVerifiesOnlyWithItsRootAndCollateral) {
  TempDir dir;
  const std::string sim = q(dir / "sim");
  auto init = run_cli("tdx simulate init " + sim);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto quote = run_cli("tdx simulate quote --dir " + sim + " --report-data 0a0b --mrtd 42 -o " +
                       q(dir / "q.dat"));
  ASSERT_EQ(quote.exit_code, 0) << quote.err;
  const std::string base = "verify tdx " + q(dir / "q.dat") + " --collateral " + sim;
  auto intel = run_cli(base);
  EXPECT_EQ(intel.exit_code, 1);
  auto ok = run_cli(base + " --root " + q(dir / "sim" / "root.pem") + " --report-data 0a0b --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["tcb_status"], "UpToDate");
  auto sgx = run_cli("sgx simulate init " + q(dir / "sgx"));
  ASSERT_EQ(sgx.exit_code, 0) << sgx.err;
  auto sgx_quote =
      run_cli("sgx simulate quote --dir " + q(dir / "sgx") + " -o " + q(dir / "s.dat"));
  ASSERT_EQ(sgx_quote.exit_code, 0) << sgx_quote.err;
  auto sgx_ok = run_cli("verify sgx " + q(dir / "s.dat") + " --collateral " + q(dir / "sgx") +
                        " --root " + q(dir / "sgx" / "root.pem"));
  EXPECT_EQ(sgx_ok.exit_code, 0) << sgx_ok.err;
}

}  // namespace
}  // namespace concierge
