// The `concierge eventlog` and `concierge boot` commands, run as a process:
// exit codes (0 ok, 1 differs/rejected, 2 malformed), JSON shapes, messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::TempDir;

std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

TEST(EventlogCli, ReplayJsonMatchesTheMachine) {
  CONCIERGE_REQUIRE_VECTOR(log, "tpm/eventlog/gce-ubuntu-2104-log.bin");
  CONCIERGE_REQUIRE_VECTOR(expected, "tpm/eventlog/gce-ubuntu-2104-log.expected.json");
  auto r = run_cli("eventlog replay " + quote(log) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = nlohmann::json::parse(r.out);
  auto want = nlohmann::json::parse(as_chars(testing::read_file(expected)));
  EXPECT_EQ(got["pcrs"], want["pcrs"]);
  EXPECT_TRUE(got["warnings"].is_array());
}

TEST(EventlogCli, BadLogsExitTwoWithOneLineNamingTheOffset) {
  for (const char* name : {"keylime-bogus.bin", "keylime-empty.bin"}) {
    CONCIERGE_REQUIRE_VECTOR(log, std::string("tpm/eventlog/bad/") + name);
    for (const char* cmd : {"replay", "show"}) {
      auto r = run_cli(std::string("eventlog ") + cmd + " " + quote(log));
      EXPECT_EQ(r.exit_code, 2) << name;
      EXPECT_NE(r.err.find("offset"), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
}

TEST(EventlogCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("eventlog").exit_code, 2);
  EXPECT_EQ(run_cli("eventlog replay").exit_code, 2);
  EXPECT_EQ(run_cli("eventlog replay /nonexistent/log").exit_code, 2);
  EXPECT_EQ(run_cli("eventlog frobnicate x").exit_code, 2);
  EXPECT_EQ(run_cli("--help").exit_code, 0);
}

TEST(EventlogCli, ShowListsDecodedEvents) {
  CONCIERGE_REQUIRE_VECTOR(log, "tpm/eventlog/arch-linux.bin");
  auto r = run_cli("eventlog show " + quote(log));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("EV_EFI_BOOT_SERVICES_APPLICATION"), std::string::npos);
  EXPECT_NE(r.out.find("BootOrder"), std::string::npos);
  auto j = run_cli("eventlog show --json " + quote(log));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_GT(parsed["events"].size(), 10u);
  EXPECT_EQ(parsed["events"][0]["type"], "EV_NO_ACTION");
}

TEST(EventlogCli, BootThenDiffNamesTheSubstitutedStage) {
  TempDir tmp;
  std::string manifest =
      quote(std::filesystem::path(CONCIERGE_SOURCE_DIR) / "examples/boot-chain/manifest.json");
  auto good =
      run_cli("boot --manifest " + manifest + " --log " + quote(tmp / "good.log") + " --json");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  auto booted = nlohmann::json::parse(good.out);

  auto replayed = run_cli("eventlog replay --json " + quote(tmp / "good.log"));
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_EQ(nlohmann::json::parse(replayed.out)["pcrs"], booted["pcrs"]);
  EXPECT_TRUE(nlohmann::json::parse(replayed.out)["warnings"].empty());

  testing::write_file(tmp / "evil", as_bytes("evil grub"));
  auto evil = run_cli("boot --manifest " + manifest + " --log " + quote(tmp / "evil.log") +
                      " --replace grub=" + quote(tmp / "evil"));
  ASSERT_EQ(evil.exit_code, 0) << evil.err;

  auto same = run_cli("eventlog diff " + quote(tmp / "good.log") + " " + quote(tmp / "good.log"));
  EXPECT_EQ(same.exit_code, 0);
  auto d =
      run_cli("eventlog diff --json " + quote(tmp / "good.log") + " " + quote(tmp / "evil.log"));
  ASSERT_EQ(d.exit_code, 1) << d.err;
  auto diff = nlohmann::json::parse(d.out);
  EXPECT_FALSE(diff["identical"].get<bool>());
  EXPECT_EQ(diff["a"]["pcr"], 4);
  EXPECT_NE(diff["a"]["summary"].get<std::string>().find("grubx64.efi"), std::string::npos);
  EXPECT_EQ(diff["differing_pcrs"], nlohmann::json::array({"sha256:4", "sha384:4"}));

  testing::write_file(tmp / "garbage.log", as_bytes("garbage"));
  auto bad_diff =
      run_cli("eventlog diff " + quote(tmp / "good.log") + " " + quote(tmp / "garbage.log"));
  EXPECT_EQ(bad_diff.exit_code, 2) << bad_diff.err;
  testing::write_file(tmp / "bad.json", as_bytes("{\"stages\": 3}"));
  auto bad_manifest =
      run_cli("boot --manifest " + quote(tmp / "bad.json") + " --log " + quote(tmp / "y.log"));
  EXPECT_EQ(bad_manifest.exit_code, 2) << bad_manifest.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "y.log"));

  auto missing = run_cli("boot --manifest " + manifest + " --log " + quote(tmp / "x.log") +
                         " --replace nosuchstage=" + quote(tmp / "evil"));
  EXPECT_EQ(missing.exit_code, 2);
}

}  // namespace
}  // namespace concierge

namespace concierge {
namespace {

TEST(JsonOutput, InvalidUtf8FromEvidenceIsReplacedNotFatal) {
  testing::TempDir tmp;
  std::string line = "10 " + std::string(40, '1') + " ima-ng sha256:" + std::string(64, 'a') +
                     " /bin/\xff\xfe" + "abc\n";
  testing::write_file(tmp / "log", as_bytes(line));
  auto r = testing::run_cli("ima show '" + (tmp / "log").string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = testing::run_cli("ima replay --json '" + (tmp / "log").string() + "'");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto parsed = nlohmann::json::parse(j.out);  // valid JSON, valid UTF-8
  EXPECT_EQ(parsed["warnings"].size(), 1u);
}

}  // namespace
}  // namespace concierge
