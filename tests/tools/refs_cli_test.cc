// `concierge refs add|list|rm|import|export` end to end, through the built
// program.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::run_shell;

std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

const std::string kMeasurement(96, 'a');

class RefsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // Skip, rather than fail on every assertion, until the command is
    // registered in the program.
    auto help = run_cli("refs --help");
    if (help.exit_code != 0 || help.out.find("import") == std::string::npos) {
      GTEST_SKIP() << "`concierge refs` is not registered in tools/concierge/main.cc";
    }
  }
  std::string file() const { return " --file " + quote(dir_ / "refs.json"); }
  testing::TempDir dir_;
};

TEST_F(RefsCli, AddListExportRemove) {
  auto r = run_cli("refs add snp.measurement " + kMeasurement +
                   " --expires 2099-01-01T00:00:00Z --provenance 'build pipeline run 42'" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("refs add tdx.mrtd BB --note 'from the vendor'" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = run_cli("refs list" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("snp.measurement " + kMeasurement + " expires 2099-01-01T00:00:00Z"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("build pipeline run 42"), std::string::npos);
  EXPECT_NE(r.out.find("tdx.mrtd BB"), std::string::npos);

  r = run_cli("refs list tdx.mrtd --json" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["reference_values"].size(), 1u);
  EXPECT_EQ(j["reference_values"][0]["value"], "BB");
  EXPECT_EQ(j["reference_values"][0]["note"], "from the vendor");
  EXPECT_EQ(j["reference_values"][0]["provenance"], "concierge refs add");
  EXPECT_TRUE(j["reference_values"][0].contains("added"));

  r = run_cli("refs export" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["reference_values"].size(), 2u);

  r = run_cli("refs rm tdx.mrtd bb" + file());  // hex compares without case
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("refs rm tdx.mrtd bb" + file());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  r = run_cli("refs rm snp.measurement" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli("refs list --json" + file());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(r.out)["reference_values"].empty());
}

TEST_F(RefsCli, ImportMergesAndExpiredValuesAreMarked) {
  const auto doc = dir_ / "import.json";
  {
    std::ofstream out(doc);
    out << R"({"reference_values": [
      {"name": "tpm.pcr7", "value": "77", "expires": "2020-01-01T00:00:00Z"},
      {"name": "tpm.pcr0", "value": "00", "provenance": "golden image"}]})";
  }
  auto r = run_cli("refs import " + quote(doc) + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 2"), std::string::npos) << r.out;
  r = run_cli("refs list" + file());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tpm.pcr7 77 EXPIRED 2020-01-01T00:00:00Z"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("imported from"), std::string::npos);
  EXPECT_NE(r.out.find("golden image"), std::string::npos);
}

TEST_F(RefsCli, TheEnvironmentNamesTheDefaultFile) {
  const auto path = dir_ / "env-refs.json";
  auto r = run_shell("CONCIERGE_REFS=" + quote(path) +
                     " '" CONCIERGE_CLI_PATH "' refs add sgx.mrsigner 00ff");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(path));
  r = run_cli("refs list --file " + quote(path));
  EXPECT_NE(r.out.find("sgx.mrsigner 00ff"), std::string::npos);
}

TEST_F(RefsCli, MalformedInputIsExitTwoWithOneLine) {
  auto r = run_cli("refs add snp.measurement aa --expires tomorrow" + file());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run_cli("refs add 'bad name' aa" + file());
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli("refs add snp.measurement" + file());
  EXPECT_EQ(r.exit_code, 2);

  const auto bad = dir_ / "bad.json";
  {
    std::ofstream out(bad);
    out << R"({"reference_values": [{"name": "x"}]})";
  }
  r = run_cli("refs import " + quote(bad) + file());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("reference_values[0].value"), std::string::npos) << r.err;
  r = run_cli("refs list --file " + quote(bad));
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli("refs import " + quote(dir_ / "missing.json") + file());
  EXPECT_EQ(r.exit_code, 2);
  // A failed command leaves the store as it was.
  r = run_cli("refs list --json" + file());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(r.out)["reference_values"].empty());
}

}  // namespace
}  // namespace concierge
