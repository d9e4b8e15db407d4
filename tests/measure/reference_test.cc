#include "concierge/measure/reference.h"

#include <gtest/gtest.h>

#include <string>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/replay.h"

namespace concierge::measure {
namespace {

namespace et = event_type;

using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;
using Selection = std::vector<std::pair<HashAlg, std::vector<unsigned>>>;

// A parsed log with its replay, kept together (events view into the log).
struct Boot {
  EventLog log;
  ReplayResult replayed;
  PcrValues pcrs;  // every PCR of every bank, as a quote would report them
};

Boot boot(const Bytes& bytes) {
  Boot b;
  auto log = parse_event_log(ByteView(bytes));
  EXPECT_TRUE(log.has_value()) << log.error().to_string();
  b.log = std::move(*log);
  auto r = replay(b.log);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  b.replayed = std::move(*r);
  for (const PcrBank& bank : b.replayed.banks) {
    for (unsigned pcr = 0; pcr < kPcrCount; ++pcr) {
      ByteView v = bank.value(pcr);
      b.pcrs[bank.alg()][pcr] = Bytes(v.begin(), v.end());
    }
  }
  return b;
}

Bytes ipl(const std::string& path) {
  Bytes out(path.begin(), path.end());
  out.push_back(0);
  return out;
}

// A small boot: firmware in PCR 0, a boot application in PCR 4, separators,
// and GRUB's EV_IPL events for the kernel and initrd in PCR 9. `kernel` is
// the measured kernel image; `swap` measures the initrd before the kernel.
Bytes boot_log(const std::string& kernel, bool swap = false) {
  EventLogWriter w({HashAlg::kSha256, HashAlg::kSha384});
  w.add_startup_locality(0);
  EXPECT_TRUE(w.add(0, et::kSCrtmVersion, as_bytes("firmware 1.0")).has_value());
  EXPECT_TRUE(
      w.add_measured(4, et::kEfiBootServicesApplication, as_bytes("shim"), as_bytes("shimx64"))
          .has_value());
  for (std::uint32_t pcr : {0u, 4u, 7u}) {
    EXPECT_TRUE(w.add(pcr, et::kSeparator, Bytes(4, 0)).has_value());
  }
  auto kernel_event = [&] {
    EXPECT_TRUE(w.add_measured(9, et::kIpl, as_bytes(kernel), ipl("/boot/vmlinuz")).has_value());
  };
  auto initrd_event = [&] {
    EXPECT_TRUE(
        w.add_measured(9, et::kIpl, as_bytes("initrd"), ipl("/boot/initrd.img")).has_value());
  };
  if (swap) {
    initrd_event();
    kernel_event();
  } else {
    kernel_event();
    initrd_event();
  }
  return w.bytes();
}

const Selection kSelection = {{HashAlg::kSha256, {0, 4, 7, 9}}};

TEST(Reference, FromLogHasTouchedPcrsAndExtendedDigests) {
  Boot good = boot(boot_log("kernel 6.1"));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  ASSERT_EQ(ref.pcrs.size(), 2u);
  const auto& sha256 = ref.pcrs[HashAlg::kSha256];
  ASSERT_EQ(sha256.size(), 4u);  // 0, 4, 7, 9
  EXPECT_EQ(sha256.count(1), 0u);
  EXPECT_EQ(hex_encode(sha256.at(9)), hex_encode(good.pcrs[HashAlg::kSha256][9]));
  // 7 extended events, three of them the same separator: 5 distinct digests.
  // The EV_NO_ACTION header and StartupLocality events are left out.
  EXPECT_EQ(ref.digests[HashAlg::kSha256].size(), 5u);
  EXPECT_EQ(ref.digests[HashAlg::kSha384].size(), 5u);
  EXPECT_EQ(ref.digests[HashAlg::kSha256].count(Bytes(32, 0)), 0u);
  EXPECT_TRUE(appraise_pcrs(kSelection, good.pcrs, ref, &good.log).accepted);
  EXPECT_TRUE(appraise_pcrs(kSelection, good.pcrs, ref, nullptr).accepted);
  EXPECT_EQ(first_unknown_event(good.log, HashAlg::kSha256, 9, ref), nullptr);
}

TEST(Reference, SubstitutedKernelIsNamed) {
  Boot good = boot(boot_log("kernel 6.1"));
  Boot evil = boot(boot_log("kernel with a rootkit"));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  Verdict v = appraise_pcrs(kSelection, evil.pcrs, ref, &evil.log);
  EXPECT_FALSE(v.accepted);
  // Events: 0 header, 1 locality, 2 CRTM, 3 shim, 4-6 separators, 7 kernel.
  EXPECT_EQ(v.reason,
            "sha256 PCR 9 differs from the reference value; first event not among the reference "
            "digests: #7 EV_IPL /boot/vmlinuz");
  const Event* e = first_unknown_event(evil.log, HashAlg::kSha384, 9, ref);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->index, 7u);
  EXPECT_EQ(first_unknown_event(evil.log, HashAlg::kSha256, 4, ref), nullptr);
  // Without the log there is nothing to explain the mismatch with.
  EXPECT_EQ(appraise_pcrs(kSelection, evil.pcrs, ref, nullptr).reason,
            "sha256 PCR 9 differs from the reference value");
}

TEST(Reference, UnknownEventWithDigestsOnly) {
  Boot good = boot(boot_log("kernel 6.1"));
  Boot evil = boot(boot_log("kernel with a rootkit"));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  ref.pcrs.clear();
  Verdict v = appraise_pcrs(kSelection, evil.pcrs, ref, &evil.log);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason,
            "sha256 PCR 9: event #7 EV_IPL /boot/vmlinuz is not among the reference digests");
  EXPECT_EQ(describe_event(evil.log.events[8]), "#8 EV_IPL /boot/initrd.img");
  // Digests alone cannot judge quoted values without a log: nothing is
  // compared, which is a refusal, never a silent success.
  Verdict none = appraise_pcrs(kSelection, evil.pcrs, ref, nullptr);
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(none.reason.rfind("nothing was compared", 0), 0u) << none.reason;
  // Nor a bank they do not cover.
  ref.digests.erase(HashAlg::kSha256);
  EXPECT_EQ(first_unknown_event(evil.log, HashAlg::kSha256, 9, ref), nullptr);
  none = appraise_pcrs({{HashAlg::kSha256, {0, 4, 7, 9}}}, evil.pcrs, ref, &evil.log);
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(none.reason.rfind("nothing was compared", 0), 0u) << none.reason;
}

TEST(Reference, ReorderedEventsDifferWithoutAnUnknownDigest) {
  Boot good = boot(boot_log("kernel 6.1"));
  Boot swapped = boot(boot_log("kernel 6.1", /*swap=*/true));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  Verdict v = appraise_pcrs(kSelection, swapped.pcrs, ref, &swapped.log);
  EXPECT_EQ(v.reason, "sha256 PCR 9 differs from the reference value");
}

TEST(Reference, PcrMismatchWithoutDigests) {
  Boot good = boot(boot_log("kernel 6.1"));
  Boot evil = boot(boot_log("kernel with a rootkit"));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  ref.digests.clear();
  EXPECT_EQ(appraise_pcrs(kSelection, evil.pcrs, ref, &evil.log).reason,
            "sha256 PCR 9 differs from the reference value");
  // The selection's order decides which PCR is reported.
  ref.pcrs[HashAlg::kSha256][0] = Bytes(32, 0xab);
  EXPECT_EQ(appraise_pcrs(kSelection, evil.pcrs, ref, &evil.log).reason,
            "sha256 PCR 0 differs from the reference value");
  EXPECT_EQ(appraise_pcrs({{HashAlg::kSha384, {0, 4, 7, 9}}}, evil.pcrs, ref, &evil.log).reason,
            "sha384 PCR 9 differs from the reference value");
  // A PCR with a reference value that the quote did not select is refused:
  // the reference values decide what must be covered, not the attester.
  EXPECT_EQ(appraise_pcrs({{HashAlg::kSha256, {4, 7}}}, evil.pcrs, ref, &evil.log).reason,
            "sha256 PCR 0 has a reference value but the evidence does not report it");
  // A referenced PCR without an actual value fails closed.
  ReferenceValues fresh = reference_from_log(good.log, good.replayed);
  PcrValues missing = good.pcrs;
  missing[HashAlg::kSha256].erase(7);
  EXPECT_EQ(appraise_pcrs(kSelection, missing, fresh, nullptr).reason,
            "sha256 PCR 7 has no value to compare with the reference value");
}

TEST(ReferenceJson, RoundTrip) {
  Boot good = boot(boot_log("kernel 6.1"));
  ReferenceValues ref = reference_from_log(good.log, good.replayed);
  nlohmann::json j = reference_values_json(ref);
  EXPECT_EQ(j["pcrs"]["sha256"].size(), 4u);
  EXPECT_EQ(j["digests"]["sha384"].size(), 5u);
  auto again = parse_reference_values(j.dump(2));
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(again->pcrs, ref.pcrs);
  EXPECT_EQ(again->digests, ref.digests);
  EXPECT_EQ(reference_values_json(*again), j);

  // Either key alone; upper-case hex; duplicate digests collapse.
  const std::string d = std::string(64, 'A');
  auto only_digests = parse_reference_values(R"({"digests": {"sha256": [")" + d + R"(", ")" + d +
                                             R"("], "sha1": []}})");
  ASSERT_TRUE(only_digests.has_value()) << only_digests.error().to_string();
  EXPECT_TRUE(only_digests->pcrs.empty());
  EXPECT_EQ(only_digests->digests[HashAlg::kSha256].size(), 1u);
  EXPECT_TRUE(only_digests->digests[HashAlg::kSha1].empty());
  EXPECT_FALSE(reference_values_json(*only_digests).contains("pcrs"));
  auto only_pcrs =
      parse_reference_values(R"({"pcrs": {"sha1": {"23": ")" + std::string(40, '0') + R"("}}})");
  ASSERT_TRUE(only_pcrs.has_value()) << only_pcrs.error().to_string();
  EXPECT_EQ(only_pcrs->pcrs[HashAlg::kSha1].count(23), 1u);
}

TEST(ReferenceJson, StrictRejectionsNameThePath) {
  const std::string h256 = std::string(64, '0');
  const std::string h1 = std::string(40, '0');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"pcrs": {"md5": {"0": ")" + h256 + R"("}}})", "pcrs.md5"},
      {R"({"digests": {"sha512": []}, "pcrs": {"sha256": {"24": ")" + h256 + R"("}}})",
       "pcrs.sha256.24"},
      {R"({"pcrs": {"sha256": {"07": ")" + h256 + R"("}}})", "pcrs.sha256.07"},
      {R"({"pcrs": {"sha256": {"-1": ")" + h256 + R"("}}})", "pcrs.sha256.-1"},
      {R"({"pcrs": {"sha256": {"": ")" + h256 + R"("}}})", "pcrs.sha256."},
      {R"({"pcrs": {"sha256": {"9": ")" + h1 + R"("}}})", "pcrs.sha256.9"},
      {R"({"pcrs": {"sha256": {"9": 17}}})", "pcrs.sha256.9"},
      {R"({"pcrs": {"sha256": [")" + h256 + R"("]}})", "pcrs.sha256"},
      {R"({"pcrs": []})", "pcrs"},
      {R"({"digests": {"sha256": [")" + h256 + R"(", ")" + h256 + R"(", ")" + h256 +
           R"(", "zz"]}})",
       "digests.sha256[3]"},
      {R"({"digests": {"sha256": [")" + h256 + R"(", ")" + h1 + R"("]}})", "digests.sha256[1]"},
      {R"({"digests": {"sha256": [")" + h256.substr(1) + R"("]}})", "digests.sha256[0]"},
      {R"({"digests": {"sha256": {"0": ")" + h256 + R"("}}})", "digests.sha256"},
      {R"({"digests": {"SHA256": []}})", "digests.SHA256"},
      {R"({"digests": {"sha256": []}, "policy": 1})", "policy"},
      {"{\"pcrs\": {\"sha256\": {}}, \"x\\n\": 1}", "x\\x0a"},
  };
  for (const auto& [text, field] : cases) {
    auto r = parse_reference_values(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, Errc::kMalformed) << text;
    EXPECT_EQ(r.error().field, field) << text << ": " << r.error().to_string();
    EXPECT_EQ(r.error().to_string().find('\n'), std::string::npos);
  }
}

TEST(ReferenceJson, ShapeAndSyntaxErrors) {
  for (const char* text :
       {"{}", R"({"pcrs": {}})", R"({"pcrs": {"sha256": {}}})", "[]", "\"x\"", "null"}) {
    auto r = parse_reference_values(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, Errc::kMalformed) << text;
  }
  auto syntax = parse_reference_values("{\"pcrs\": {\"sha256\": {\"0\": \"00\",}}}");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code, Errc::kMalformed);
  ASSERT_TRUE(syntax.error().offset.has_value());
  EXPECT_EQ(*syntax.error().offset, 31u);  // the '}' after the trailing comma
  EXPECT_NE(syntax.error().message.find("not valid JSON"), std::string::npos);
  auto trailing = parse_reference_values(R"({"digests": {"sha1": []}} x)");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_EQ(trailing.error().offset, std::optional<std::size_t>(26));
  auto empty = parse_reference_values("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().offset, std::optional<std::size_t>(0));
}

}  // namespace
}  // namespace concierge::measure
