#include "concierge/measure/boot_chain.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_diff.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/replay.h"
#include "support/vectors.h"

namespace concierge::measure {
namespace {

constexpr const char* kManifest = R"({
  "name": "test chain",
  "banks": ["sha256", "sha384"],
  "startup_locality": 3,
  "root_of_trust": {"name": "rot", "content": "rot v1", "pcr": 0, "event_type": "EV_S_CRTM_VERSION"},
  "stages": [
    {"name": "loader", "content": "loader v1", "pcr": 4,
     "event_type": "EV_EFI_BOOT_SERVICES_APPLICATION", "path": "\\EFI\\BOOT\\BOOTX64.EFI"},
    {"name": "sep", "pcr": 4, "event_type": "EV_SEPARATOR"},
    {"name": "kernel", "content": "kernel v1", "pcr": 9, "event_type": "EV_IPL", "path": "/vmlinuz"},
    {"name": "cmdline", "content": "root=/dev/vda1", "pcr": 8, "event_type": "EV_IPL"}
  ]
})";

BootManifest manifest() {
  auto m = parse_boot_manifest(kManifest, ".");
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return *m;
}

TEST(BootChain, EachStageIsMeasuredByThePreviousOne) {
  BootManifest m = manifest();
  SoftwarePcrSink sink(m.banks);
  auto record = run_boot_chain(m, sink);
  ASSERT_TRUE(record.has_value()) << record.error().to_string();
  ASSERT_EQ(record->stages.size(), 5u);
  EXPECT_EQ(record->stages[0].measured_by, "rot");
  EXPECT_EQ(record->stages[1].measured_by, "rot");
  EXPECT_EQ(record->stages[2].measured_by, "loader");
  EXPECT_EQ(record->stages[4].measured_by, "kernel");
  EXPECT_EQ(hex_encode(record->stages[3].digests[0].value),
            hex_encode(*digest(HashAlg::kSha256, as_bytes("kernel v1"))));
}

TEST(BootChain, LogReplaysToTheMeasuredPcrsWithoutWarnings) {
  BootManifest m = manifest();
  SoftwarePcrSink sink(m.banks);
  auto record = run_boot_chain(m, sink);
  ASSERT_TRUE(record.has_value());
  auto log = parse_event_log(ByteView(record->event_log));
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  auto r = replay(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0].to_string();
  EXPECT_EQ(r->startup_locality, 3);
  ASSERT_EQ(r->banks.size(), sink.banks().size());
  for (std::size_t b = 0; b < r->banks.size(); ++b) {
    for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) {
      EXPECT_EQ(hex_encode(r->banks[b].value(pcr)), hex_encode(sink.banks()[b].value(pcr)));
    }
  }
  // PCR0 started at the locality-3 reset value.
  Bytes reset(32, 0);
  reset[31] = 3;
  Bytes in = reset;
  Bytes d = *digest(HashAlg::kSha256, as_bytes("rot v1"));
  in.insert(in.end(), d.begin(), d.end());
  EXPECT_EQ(hex_encode(sink.banks()[0].value(0)), hex_encode(*digest(HashAlg::kSha256, in)));
}

TEST(BootChain, SubstitutingAnyStageChangesItsPcrAndTheDiffNamesIt) {
  BootManifest good = manifest();
  SoftwarePcrSink good_sink(good.banks);
  auto good_record = run_boot_chain(good, good_sink);
  ASSERT_TRUE(good_record.has_value());
  auto good_log = parse_event_log(ByteView(good_record->event_log));
  ASSERT_TRUE(good_log.has_value());

  std::vector<std::string> names = {"rot", "loader", "sep", "kernel", "cmdline"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    BootManifest bad = manifest();
    ASSERT_TRUE(replace_stage(bad, names[i], Bytes{'e', 'v', 'i', 'l'}).has_value());
    SoftwarePcrSink bad_sink(bad.banks);
    auto bad_record = run_boot_chain(bad, bad_sink);
    ASSERT_TRUE(bad_record.has_value());
    const BootStage& stage = i == 0 ? bad.root_of_trust : bad.stages[i - 1];
    for (std::size_t b = 0; b < good_sink.banks().size(); ++b) {
      EXPECT_NE(hex_encode(good_sink.banks()[b].value(stage.pcr)),
                hex_encode(bad_sink.banks()[b].value(stage.pcr)))
          << names[i];
    }
    auto bad_log = parse_event_log(ByteView(bad_record->event_log));
    ASSERT_TRUE(bad_log.has_value());
    LogDiff d = diff_event_logs(*good_log, *bad_log);
    ASSERT_FALSE(d.identical);
    // Events: 0 header, 1 StartupLocality, then the stages in order.
    EXPECT_EQ(d.index, i + 2) << names[i];
    EXPECT_NE(std::find(d.differing_pcrs.begin(), d.differing_pcrs.end(),
                        "sha256:" + std::to_string(stage.pcr)),
              d.differing_pcrs.end());
  }
  EXPECT_FALSE(replace_stage(good, "nonexistent", {}).has_value());
}

TEST(BootChain, ManifestErrorsAreReported) {
  const char* bad[] = {
      "not json",
      R"({"root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_IPL"}})",
      R"({"stages": []})",
      R"({"root_of_trust": {"name": "r", "content": "x", "pcr": 24, "event_type": "EV_IPL"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_BOGUS"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_NO_ACTION"}, "stages": []})",
      R"({"banks": ["md5"], "root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"startup_locality": 2, "root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"name": 5, "root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "file": "/nonexistent/file", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "file": "/dev/zero", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      // A misspelt key would change what is measured without a word.
      R"({"root_of_trust": {"name": "r", "content": "x", "contnet": "y", "pcr": 0, "event_type": "EV_IPL"}, "stages": []})",
      R"({"root_of_trust": {"name": "r", "content": "x", "pcr": 0, "event_type": "EV_IPL"}, "stages": [], "bank": ["sha1"]})",
  };
  for (const char* text : bad) {
    auto m = parse_boot_manifest(text, ".");
    EXPECT_FALSE(m.has_value()) << text;
  }
}

TEST(BootChain, ShippedExampleManifestRuns) {
  std::filesystem::path dir = std::filesystem::path(CONCIERGE_SOURCE_DIR) / "examples/boot-chain";
  Bytes text = concierge::testing::read_file(dir / "manifest.json");
  auto m = parse_boot_manifest(as_chars(text), dir);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  SoftwarePcrSink sink(m->banks);
  auto record = run_boot_chain(*m, sink);
  ASSERT_TRUE(record.has_value());
  auto log = parse_event_log(ByteView(record->event_log));
  ASSERT_TRUE(log.has_value());
  auto r = replay(*log);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->warnings.empty());
}

}  // namespace
}  // namespace concierge::measure
