// `concierge eventlog reference`, run as a process: the JSON it prints (or
// writes with --out) parses back as reference values whose PCRs are the log's
// replay; malformed logs exit 2 with one line on stderr.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "concierge/core/bytes.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/reference.h"
#include "support/vectors.h"

namespace concierge {
namespace {

namespace et = measure::event_type;
using testing::run_cli;
using testing::TempDir;

std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

Bytes generated_log() {
  measure::EventLogWriter w({HashAlg::kSha1, HashAlg::kSha256});
  w.add_startup_locality(0);
  EXPECT_TRUE(w.add(0, et::kSCrtmVersion, as_bytes("firmware 1.0")).has_value());
  EXPECT_TRUE(w.add(7, et::kSeparator, Bytes(4, 0)).has_value());
  EXPECT_TRUE(
      w.add_measured(9, et::kIpl, as_bytes("kernel"), as_bytes("/boot/vmlinuz")).has_value());
  return w.bytes();
}

TEST(EventlogReferenceCli, GeneratedLogPrintsItsReplayAndDigests) {
  TempDir tmp;
  testing::write_file(tmp / "good.log", generated_log());
  auto r = run_cli("eventlog reference " + quote(tmp / "good.log"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out.rfind("{\n  \"", 0), 0u) << "2-space indentation expected:\n" << r.out;

  auto ref = measure::parse_reference_values(r.out);
  ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
  EXPECT_EQ(ref->digests[HashAlg::kSha1].size(), 3u);
  EXPECT_EQ(ref->digests[HashAlg::kSha256].size(), 3u);

  auto replayed = run_cli("eventlog replay --json " + quote(tmp / "good.log"));
  ASSERT_EQ(replayed.exit_code, 0) << replayed.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["pcrs"], nlohmann::json::parse(replayed.out)["pcrs"]);

  auto written = run_cli("eventlog reference " + quote(tmp / "good.log") + " --out " +
                         quote(tmp / "ref.json"));
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_TRUE(written.out.empty());
  EXPECT_EQ(as_chars(testing::read_file(tmp / "ref.json")), r.out);
}

TEST(EventlogReferenceCli, MalformedLogAndUsageExitTwo) {
  TempDir tmp;
  testing::write_file(tmp / "garbage.log", as_bytes("garbage"));
  auto bad = run_cli("eventlog reference " + quote(tmp / "garbage.log"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(bad.out.empty());
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_EQ(run_cli("eventlog reference").exit_code, 2);
  EXPECT_EQ(run_cli("eventlog reference /nonexistent/log").exit_code, 2);
  testing::write_file(tmp / "good.log", generated_log());
  auto unwritable =
      run_cli("eventlog reference " + quote(tmp / "good.log") + " --out /nonexistent/dir/ref.json");
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_EQ(std::count(unwritable.err.begin(), unwritable.err.end(), '\n'), 1) << unwritable.err;
}

TEST(EventlogReferenceCli, RealLogReferenceMatchesTheMachine) {
  CONCIERGE_REQUIRE_VECTOR(log, "tpm/eventlog/gce-ubuntu-2104-log.bin");
  CONCIERGE_REQUIRE_VECTOR(expected, "tpm/eventlog/gce-ubuntu-2104-log.expected.json");
  auto r = run_cli("eventlog reference " + quote(log));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = nlohmann::json::parse(r.out);
  auto want = nlohmann::json::parse(as_chars(testing::read_file(expected)));
  EXPECT_EQ(got["pcrs"], want["pcrs"]);

  auto ref = measure::parse_reference_values(r.out);
  ASSERT_TRUE(ref.has_value()) << ref.error().to_string();
  EXPECT_GT(ref->digests[HashAlg::kSha256].size(), 10u);
  EXPECT_EQ(ref->digests[HashAlg::kSha1].size(), ref->digests[HashAlg::kSha256].size());

  // The log appraised against its own reference is accepted.
  auto bytes = testing::read_file(log);
  auto parsed = measure::parse_event_log(ByteView(bytes));
  ASSERT_TRUE(parsed.has_value());
  std::map<HashAlg, std::map<unsigned, Bytes>> actual = ref->pcrs;
  std::vector<std::pair<HashAlg, std::vector<unsigned>>> selection;
  for (const auto& [bank, values] : actual) {
    selection.push_back({bank, {}});
    for (const auto& [pcr, value] : values) selection.back().second.push_back(pcr);
  }
  EXPECT_TRUE(measure::appraise_pcrs(selection, actual, *ref, &*parsed).accepted);
}

}  // namespace
}  // namespace concierge
