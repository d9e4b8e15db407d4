// `concierge tpm verify-quote` on a real TPM quote (a Windows GCP Shielded
// VM, see the vectors' SOURCES.tsv): exit codes 0 / 1 / 2 and the JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/encoding.h"
#include "concierge/evidence/tpm/quote.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::TempDir;

class TpmVerifyQuoteCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto path = testing::vector_path("tpm/quote/windows_gcp_shielded_vm.json");
    if (path.empty()) GTEST_SKIP() << "vector tpm/quote/windows_gcp_shielded_vm.json not found";
    auto j = nlohmann::json::parse(as_chars(testing::read_file(path)));
    auto b64 = [&](const nlohmann::json& v) { return *base64_decode(v.get<std::string>()); };
    auto ak = evidence::tpm::parse_ak_public(b64(j["AK"]["Public"]));
    ASSERT_TRUE(ak.has_value()) << ak.error().to_string();
    testing::write_file(dir_ / "ak.pem", as_bytes(*ak->to_pem()));
    quote_ = b64(j["Quote"]["Quote"]);
    testing::write_file(dir_ / "quote.msg", quote_);
    testing::write_file(dir_ / "quote.sig", b64(j["Quote"]["Signature"]));
    testing::write_file(dir_ / "log.bin", b64(j["Log"]["Raw"]));
    nlohmann::json pcrs = nlohmann::json::object();
    for (const auto& p : j["Log"]["PCRs"]) {
      ASSERT_EQ(p["DigestAlg"], 3);  // Go's crypto.SHA1
      pcrs[std::to_string(p["Index"].get<int>())] = hex_encode(b64(p["Digest"]));
    }
    pcrs_ = nlohmann::json{{"pcrs", {{"sha1", pcrs}}}};
    write_pcrs(pcrs_);
  }

  void write_pcrs(const nlohmann::json& j) {
    testing::write_file(dir_ / "pcrs.json", as_bytes(j.dump()));
  }

  std::string args(const std::string& extra) {
    auto q = [&](const char* name) { return "'" + (dir_ / name).string() + "'"; };
    return "tpm verify-quote --ak " + q("ak.pem") + " --msg " + q("quote.msg") + " --sig " +
           q("quote.sig") + " " + extra;
  }
  std::string file(const char* name) { return "'" + (dir_ / name).string() + "'"; }

  TempDir dir_;
  Bytes quote_;
  nlohmann::json pcrs_;
};

TEST_F(TpmVerifyQuoteCli, RealQuoteVerifiesWithPcrsAndEventLog) {
  auto r = run_cli(
      args("--nonce '' --json --pcrs " + file("pcrs.json") + " --eventlog " + file("log.bin")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["verified"].get<bool>());
  EXPECT_EQ(j["claims"]["pcr_selection"]["sha1"].size(), 24u);
  auto log_only = run_cli(args("--nonce '' --eventlog " + file("log.bin")));
  EXPECT_EQ(log_only.exit_code, 0) << log_only.err;
}

TEST_F(TpmVerifyQuoteCli, WrongNonceOrPcrIsRejected) {
  auto r = run_cli(args("--nonce 00"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nonce"), std::string::npos) << r.err;
  std::string pcr7 = pcrs_["pcrs"]["sha1"]["7"];
  pcrs_["pcrs"]["sha1"]["7"] = std::string(40, '0');
  write_pcrs(pcrs_);
  auto p = run_cli(args("--nonce '' --pcrs " + file("pcrs.json")));
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("PCR digest"), std::string::npos) << p.err;
}

TEST_F(TpmVerifyQuoteCli, TamperedQuoteIsRejectedAndGarbageIsMalformed) {
  Bytes bad = quote_;
  bad[bad.size() - 1] ^= 1;
  testing::write_file(dir_ / "quote.msg", bad);
  EXPECT_EQ(run_cli(args("--nonce ''")).exit_code, 1);
  testing::write_file(dir_ / "quote.msg", as_bytes("not a quote"));
  auto g = run_cli(args("--nonce ''"));
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_EQ(std::count(g.err.begin(), g.err.end(), '\n'), 1) << g.err;
  EXPECT_EQ(run_cli(args("--nonce zz")).exit_code, 2);
}

TEST_F(TpmVerifyQuoteCli, ForgedEventLogIsRejectedNamingThePcr) {
  Bytes log = testing::read_file(dir_ / "log.bin");
  log[8] ^= 1;  // the first record's SHA-1 digest (TCG_PCClientPCREvent)
  testing::write_file(dir_ / "log.bin", log);
  auto r =
      run_cli(args("--nonce '' --pcrs " + file("pcrs.json") + " --eventlog " + file("log.bin")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sha1 PCR 0 differs from the event log"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace concierge
