// `concierge tdx|sgx simulate init|quote`: quotes and collateral that verify
// with `verify tdx|sgx` only under the simulator's root; exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::TempDir;

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(DcapSimulateCli, TdxQuoteVerifiesOnlyWithTheTestRoot) {
  TempDir tmp;
  const auto state = tmp / "sim";
  auto init = run_cli("tdx simulate init " + q(state));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_TRUE(std::filesystem::exists(state / "root.pem"));
  EXPECT_TRUE(std::filesystem::exists(state / "qe" / "identity.json"));
  const std::string report_data(128, 'a');
  auto made = run_cli("tdx simulate quote --dir " + q(state) + " --report-data " + report_data +
                      " --mrtd 1234 --rtmr3 ff --debug -o " + q(tmp / "q.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;

  const std::string verify = "verify tdx " + q(tmp / "q.bin") + " --collateral " + q(state);
  auto intel_root = run_cli(verify);
  EXPECT_EQ(intel_root.exit_code, 1) << intel_root.err;
  auto trusted =
      run_cli(verify + " --root " + q(state / "root.pem") + " --crl " + q(state / "root_crl.der") +
              " --crl " + q(state / "pck_crl.der") + " --report-data " + report_data + " --json");
  ASSERT_EQ(trusted.exit_code, 0) << trusted.err;
  const auto j = nlohmann::json::parse(trusted.out);
  EXPECT_EQ(j["tee"], "tdx");
  EXPECT_EQ(j["tcb_status"], "UpToDate");
  EXPECT_EQ(j["mrtd"].get<std::string>().substr(0, 4), "1234");
  EXPECT_EQ(j["td_attributes"]["debug"], true);

  auto show = run_cli("tdx show " + q(tmp / "q.bin") + " --json");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["quote_version"], 4);
}

TEST(DcapSimulateCli, SgxOutOfDateCollateralNeedsToBeAllowed) {
  TempDir tmp;
  const auto state = tmp / "sim";
  auto init = run_cli("sgx simulate init " + q(state) +
                      " --tcb-status OutOfDate --advisory INTEL-SA-00001");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto made =
      run_cli("sgx simulate quote --dir " + q(state) +
              " --mrenclave 01 --mrsigner 02 --isvprodid 3 --isvsvn 4 -o " + q(tmp / "q.bin"));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string verify = "verify sgx " + q(tmp / "q.bin") + " --collateral " + q(state) +
                             " --root " + q(state / "root.pem");
  auto strict = run_cli(verify);
  EXPECT_EQ(strict.exit_code, 1) << strict.err;
  auto allowed = run_cli(verify + " --allow-tcb OutOfDate --json");
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  const auto j = nlohmann::json::parse(allowed.out);
  EXPECT_EQ(j["tcb_status"], "OutOfDate");
  EXPECT_EQ(j["advisory_ids"], nlohmann::json::array({"INTEL-SA-00001"}));
  EXPECT_EQ(j["isvprodid"], 3);
}

TEST(DcapSimulateCli, BadInputExitsTwoWithOneLine) {
  TempDir tmp;
  for (const std::string& args :
       {"tdx simulate quote --dir " + q(tmp / "none") + " -o " + q(tmp / "q.bin"),
        "tdx simulate init " + q(tmp / "s") + " --tcb-status Fine",
        "tdx simulate init " + q(tmp / "s") + " --fmspc 0011", std::string("sgx simulate quote")}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto init = run_cli("tdx simulate init " + q(tmp / "sim"));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto long_data = run_cli("tdx simulate quote --dir " + q(tmp / "sim") + " --report-data " +
                           std::string(130, 'a') + " -o " + q(tmp / "q.bin"));
  EXPECT_EQ(long_data.exit_code, 2);
  EXPECT_NE(long_data.err.find("--report-data"), std::string::npos) << long_data.err;
  auto not_hex = run_cli("tdx simulate quote --dir " + q(tmp / "sim") + " --mrtd xyz");
  EXPECT_EQ(not_hex.exit_code, 2);
}

}  // namespace
}  // namespace concierge
