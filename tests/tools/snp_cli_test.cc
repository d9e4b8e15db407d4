// `concierge snp show`, `snp simulate` and `verify snp`: exit codes, reasons
// and the JSON claim names.
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

TEST(SnpCli, RealReportVerifiesShowsAndRejects) {
  CONCIERGE_REQUIRE_VECTOR(report, "snp/go-sev-guest/attestation.bin");
  CONCIERGE_REQUIRE_VECTOR(vcek, "snp/go-sev-guest/vcek.der");
  auto ok = run_cli("verify snp " + q(report) + " --vcek " + q(vcek) + " --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = nlohmann::json::parse(ok.out);
  for (const char* name : {"measurement", "host_data", "report_data", "id_key_digest",
                           "author_key_digest", "chip_id", "vmpl", "policy", "reported_tcb",
                           "committed_tcb", "launch_tcb", "product", "signing_key"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
  EXPECT_EQ(j["product"], "Milan");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["measurement"].get<std::string>().substr(0, 8), "b07af962");

  auto text = run_cli("verify snp " + q(report) + " --vcek " + q(vcek) + " --at 2024-01-01");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("report verified (Milan"), std::string::npos) << text.out;

  auto show = run_cli("snp show " + q(report) + " --product Milan --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["reported_tcb"]["snp"], 5);

  auto wrong_data =
      run_cli("verify snp " + q(report) + " --vcek " + q(vcek) + " --report-data 0102030406");
  EXPECT_EQ(wrong_data.exit_code, 1);
  EXPECT_NE(wrong_data.err.find("REPORT_DATA"), std::string::npos) << wrong_data.err;

  auto no_vcek = run_cli("verify snp " + q(report));
  EXPECT_EQ(no_vcek.exit_code, 2);
}

TEST(SnpCli, MalformedReportsExitTwoWithTheOffset) {
  CONCIERGE_REQUIRE_VECTOR(report, "snp/go-sev-guest/attestation.bin");
  CONCIERGE_REQUIRE_VECTOR(vcek, "snp/go-sev-guest/vcek.der");
  TempDir tmp;
  const Bytes good = read_file(report);
  Bytes truncated(good.begin(), good.end() - 1);
  Bytes oversized = good;
  oversized.push_back(0);
  Bytes reserved = good;
  reserved[0x4C] = 1;
  write_file(tmp / "truncated", truncated);
  write_file(tmp / "oversized", oversized);
  write_file(tmp / "reserved", reserved);
  for (const char* name : {"truncated", "oversized", "reserved"}) {
    auto r = run_cli("verify snp " + q(tmp / name) + " --vcek " + q(vcek));
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.err;
    EXPECT_NE(r.err.find("offset"), std::string::npos) << name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto r = run_cli("snp show " + q(tmp / "reserved"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("reserved_04c"), std::string::npos) << r.err;
}

TEST(SnpCli, SimulatedEvidenceNeedsItsRootTrustedExplicitly) {
  TempDir tmp;
  const auto state = tmp / "sim";
  auto init = run_cli("snp simulate init --dir " + q(state) + " --product Turin");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto made = run_cli("snp simulate report --dir " + q(state) + " --version 5 --report-data " +
                      std::string(128, 'a') + " --measurement 1234 --debug --out " +
                      q(tmp / "r.bin") + " --certs-out " + q(tmp / "certs.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string verify = "verify snp " + q(tmp / "r.bin") + " --certs " + q(tmp / "certs.bin");
  auto unknown_root = run_cli(verify);
  EXPECT_EQ(unknown_root.exit_code, 1) << unknown_root.err;
  auto trusted = run_cli(verify + " --root " + q(state / "roots.pem") + " --json");
  ASSERT_EQ(trusted.exit_code, 0) << trusted.err;
  const auto j = nlohmann::json::parse(trusted.out);
  EXPECT_EQ(j["product"], "Turin");
  EXPECT_EQ(j["version"], 5);
  EXPECT_EQ(j["policy"]["debug"], true);
  EXPECT_TRUE(j["reported_tcb"].contains("fmc"));
  EXPECT_EQ(j["measurement"].get<std::string>().substr(0, 4), "1234");
  // The VCEK from a folder laid out like AMD's KDS instead of the table
  // (Turin: the hwID is the first 8 bytes of CHIP_ID).
  const std::string hwid = j["chip_id"].get<std::string>().substr(0, 16);
  const auto kds = tmp / "kds" / "vcek" / "v1" / "Turin";
  std::filesystem::create_directories(kds);
  std::filesystem::copy_file(state / "vcek.pem", kds / hwid);
  auto from_kds = run_cli("verify snp " + q(tmp / "r.bin") + " --certs " + q(tmp / "kds") +
                          " --root " + q(state / "roots.pem"));
  EXPECT_EQ(from_kds.exit_code, 0) << from_kds.err;
}

}  // namespace
}  // namespace concierge
