// `concierge ima show|replay` end to end, through the built program.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;

std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(ImaCli, ReplayJsonHasExactlyPcrsAndWarnings) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/keylime-ima-log-sha1");
  auto r = run_cli("ima replay " + quote(path) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 2u);
  ASSERT_TRUE(j.contains("pcrs"));
  ASSERT_TRUE(j.contains("warnings"));
  EXPECT_TRUE(j["warnings"].is_array());
  const auto& pcrs = j["pcrs"];
  ASSERT_EQ(pcrs.size(), 4u);
  for (const auto& [bank, hex_len] : std::vector<std::pair<std::string, std::size_t>>{
           {"sha1", 40}, {"sha256", 64}, {"sha384", 96}, {"sha512", 128}}) {
    ASSERT_TRUE(pcrs.contains(bank)) << bank;
    ASSERT_EQ(pcrs[bank].size(), 1u);
    const std::string value = pcrs[bank]["10"].get<std::string>();
    EXPECT_EQ(value.size(), hex_len);
    EXPECT_EQ(value.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  // Independently computed (Python hashlib): violation 0xff.., then /data.
  EXPECT_EQ(pcrs["sha1"]["10"], "62e5bdf4783228f7deec959f0a89a4739af79ac5");
  EXPECT_EQ(pcrs["sha256"]["10"],
            "37c153b0a390c91993992d79eb0b9b05b5cb9085c6179528e1b71694ed19896c");
}

TEST(ImaCli, ReplayBankSelectionAndWarnings) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/keylime-ima-log-unknown");
  auto r = run_cli("ima replay --bank sha256 " + quote(path) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["pcrs"].size(), 1u);
  EXPECT_EQ(j["pcrs"]["sha256"]["10"],
            "e1ad7bbe06ed3195058cd98b7074740fc52c3fc7729ef09e99051d921badcf2b");
  const std::string warnings = j["warnings"].dump();
  EXPECT_NE(warnings.find("unknown file digest algorithm 'unknown'"), std::string::npos);
  EXPECT_NE(warnings.find("mismatch"), std::string::npos);

  auto two = run_cli("ima replay --bank sha1 --bank sha512 " + quote(path) + " --json");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  auto j2 = nlohmann::json::parse(two.out);
  EXPECT_EQ(j2["pcrs"].size(), 2u);
  EXPECT_TRUE(j2["pcrs"].contains("sha512"));

  auto text = run_cli("ima replay " + quote(path));
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("sha384"), std::string::npos);
  EXPECT_NE(text.out.find("warning: "), std::string::npos);
}

TEST(ImaCli, ShowListsEveryEntry) {
  CONCIERGE_REQUIRE_VECTOR(path, "ima/ascii_runtime_measurements");
  auto r = run_cli("ima show " + quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 826u + 2u);  // summary, header, entries
  EXPECT_NE(r.out.find("826 verified"), std::string::npos);
  EXPECT_NE(r.out.find("boot_aggregate"), std::string::npos);
  EXPECT_EQ(r.out.find("mismatch "), std::string::npos);
}

TEST(ImaCli, MalformedInputExitsTwoWithOneLine) {
  testing::TempDir tmp;
  const auto bad = tmp / "bad";
  testing::write_file(bad, as_bytes("10 abc ima-ng sha1:00 /a\n"));
  auto r = run_cli("ima replay " + quote(bad) + " --json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("template_hash"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;

  const Bytes truncated = {10, 0, 0, 0, 1, 2, 3};
  testing::write_file(tmp / "trunc", truncated);
  auto t = run_cli("ima show " + quote(tmp / "trunc"));
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_EQ(count_lines(t.err), 1u) << t.err;
  EXPECT_NE(t.err.find("template_hash"), std::string::npos) << t.err;

  testing::write_file(tmp / "empty", {});
  EXPECT_EQ(run_cli("ima replay " + quote(tmp / "empty")).exit_code, 2);
  EXPECT_EQ(run_cli("ima replay " + quote(tmp / "missing")).exit_code, 2);
  EXPECT_EQ(run_cli("ima replay --bank md5 " + quote(bad)).exit_code, 2);
  EXPECT_EQ(run_cli("ima replay").exit_code, 2);
}

}  // namespace
}  // namespace concierge
