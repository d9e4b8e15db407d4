// The CCEL table, the replay of CCEL logs into RTMRs, and their appraisal:
// the real go-tdx-guest table, log and quote of one TD (the replay must equal
// the quote's RTMRs), and generated tables and logs for every error path.
#include "concierge/evidence/dcap/ccel.h"

#include <gtest/gtest.h>

#include <string>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/reference.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

namespace et = measure::event_type;
using concierge::testing::read_file;
using Rtmr = std::array<std::uint8_t, kRtmrSize>;

constexpr const char* kTable = "tdx/go-tdx-guest/ccel/ccel_table.dat";
constexpr const char* kLog = "tdx/go-tdx-guest/ccel/ccel_data.dat";
constexpr const char* kQuote = "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat";

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string hex_of(const Rtmr& r) { return hex_encode(ByteView(r.data(), r.size())); }

// RTMR := SHA-384(RTMR || digest), computed here independently of PcrBank.
void extend(Rtmr& rtmr, ByteView digest) {
  Bytes both(rtmr.begin(), rtmr.end());
  both.resize(rtmr.size() + digest.size());
  std::copy(digest.begin(), digest.end(), both.begin() + static_cast<std::ptrdiff_t>(rtmr.size()));
  auto d = concierge::digest(HashAlg::kSha384, both);
  ASSERT_TRUE(d.has_value());
  std::copy(d->begin(), d->end(), rtmr.begin());
}

Bytes sha384(const std::string& s) { return *concierge::digest(HashAlg::kSha384, as_bytes(s)); }

// --- the real vectors --------------------------------------------------------

struct RealTd {
  Bytes table;
  Bytes log;
  Quote quote;
};

#define REQUIRE_REAL_TD(var)                                    \
  CONCIERGE_REQUIRE_VECTOR(var##_table, kTable);                \
  CONCIERGE_REQUIRE_VECTOR(var##_log, kLog);                    \
  CONCIERGE_REQUIRE_VECTOR(var##_quote, kQuote);                \
  RealTd var{read_file(var##_table), read_file(var##_log), {}}; \
  {                                                             \
    auto q = parse_quote(read_file(var##_quote));               \
    ASSERT_TRUE(q.has_value()) << q.error().to_string();        \
    ASSERT_TRUE(q->td() != nullptr);                            \
    var.quote = std::move(*q);                                  \
  }

TEST(Ccel, RealTableParses) {
  CONCIERGE_REQUIRE_VECTOR(path, kTable);
  const Bytes data = read_file(path);
  auto t = parse_ccel_table(data);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_TRUE(t->checksum_ok);  // the real table's bytes sum to zero
  EXPECT_EQ(t->cc_type, kCcTypeTdx);
  EXPECT_EQ(t->cc_subtype, 0);
  EXPECT_EQ(t->length, kCcelTableSize);
  EXPECT_EQ(t->revision, 1);
  EXPECT_EQ(t->laml, 0x40000u);
  EXPECT_EQ(t->lasa, 0xbedbf000u);
  const auto j = ccel_table_json(*t);
  EXPECT_EQ(j["cc_type_name"], "TDX");
  EXPECT_EQ(j["oem_id"], "INTEL ");
  EXPECT_EQ(j["oem_table_id"], "EDK2    ");
  EXPECT_EQ(j["lasa"], "0xbedbf000");
}

TEST(Ccel, RealLogReplaysToTheRealQuotesRtmrs) {
  REQUIRE_REAL_TD(td);
  auto t = parse_ccel_table(td.table);
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(td.log.size(), t->laml);  // the whole log area, padding included

  auto r = replay_ccel(td.log);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  const TdReportBody& body = *td.quote.td();
  for (std::size_t i = 0; i < kRtmrCount; ++i) {
    EXPECT_EQ(hex_of(r->rtmr[i]), hex_of(body.rtmr[i])) << "RTMR" << i;
  }
  EXPECT_TRUE(check_rtmrs(*r, body).accepted) << check_rtmrs(*r, body).reason;
  EXPECT_EQ(hex_of(r->rtmr[3]), std::string(96, '0'));  // nothing extends RTMR3 here

  // 44 records: the Spec ID header, 16 events for RTMR0 (firmware), 7 for
  // RTMR1 (boot loader), 20 for RTMR2 (GRUB's commands); 0xFF up to LAML.
  EXPECT_EQ(r->events, 44u);
  EXPECT_EQ(r->rtmr_events, (std::array<std::size_t, 4>{16, 7, 20, 0}));
  EXPECT_EQ(r->mrtd_events, 0u);
  EXPECT_EQ(r->no_action_events, 1u);
  EXPECT_EQ(r->log.size, 0x46b5u);
  EXPECT_EQ(r->log.padding, td.log.size() - 0x46b5u);

  const auto j = rtmr_replay_json(*r);
  EXPECT_EQ(j["rtmr0"], hex_of(body.rtmr[0]));
  EXPECT_EQ(j["rtmr_events"][2], 20);
  EXPECT_EQ(j["padding"], td.log.size() - 0x46b5u);
  EXPECT_TRUE(j["warnings"].is_array());
}

TEST(Ccel, RealQuoteWithADifferentRtmrIsRejectedNamingIt) {
  REQUIRE_REAL_TD(td);
  auto r = replay_ccel(td.log);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  TdReportBody body = *td.quote.td();
  const Rtmr original = body.rtmr[2];
  body.rtmr[2][47] ^= 1;
  const Verdict v = check_rtmrs(*r, body);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(contains(v.reason, "RTMR2 differs")) << v.reason;
  EXPECT_TRUE(contains(v.reason, "the quote has " + hex_of(body.rtmr[2]))) << v.reason;
  EXPECT_TRUE(contains(v.reason, "replays to " + hex_of(original))) << v.reason;
  EXPECT_TRUE(contains(v.reason, "(20 events)")) << v.reason;
}

TEST(Ccel, RealLogTamperedIsCaughtByTheQuoteAndByTheReferences) {
  REQUIRE_REAL_TD(td);
  auto good = replay_ccel(td.log);
  ASSERT_TRUE(good.has_value()) << good.error().to_string();
  const measure::ReferenceValues ref = rtmr_reference_values(*good);
  EXPECT_TRUE(appraise_rtmrs(*good, ref).accepted) << appraise_rtmrs(*good, ref).reason;

  // The reference numbers RTMRs (0-2 here), not CC MR indices (1-3).
  const auto j = measure::reference_values_json(ref);
  EXPECT_TRUE(j["pcrs"]["sha384"].contains("0"));
  EXPECT_TRUE(j["pcrs"]["sha384"].contains("2"));
  EXPECT_FALSE(j["pcrs"]["sha384"].contains("3"));
  EXPECT_EQ(j["pcrs"]["sha384"]["1"], hex_of(good->rtmr[1]));
  auto again = measure::parse_reference_values(j.dump());
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_TRUE(appraise_rtmrs(*good, *again).accepted);

  // Flip one byte of the SHA-384 digest of the last RTMR1 event.
  const measure::Event* target = nullptr;
  for (const auto& e : good->log.events) {
    if (e.pcr == 2 && e.type != et::kNoAction) target = &e;
  }
  ASSERT_NE(target, nullptr);
  const auto* d = target->digest_for(static_cast<std::uint16_t>(HashAlg::kSha384));
  ASSERT_NE(d, nullptr);
  Bytes tampered = td.log;
  tampered[static_cast<std::size_t>(d->value.data() - good->log.storage->data())] ^= 0x80;

  auto bad = replay_ccel(tampered);
  ASSERT_TRUE(bad.has_value()) << bad.error().to_string();
  const Verdict quote_check = check_rtmrs(*bad, *td.quote.td());
  EXPECT_FALSE(quote_check.accepted);
  EXPECT_TRUE(contains(quote_check.reason, "RTMR1 differs")) << quote_check.reason;

  const Verdict appraisal = appraise_rtmrs(*bad, ref);
  EXPECT_FALSE(appraisal.accepted);
  EXPECT_TRUE(contains(appraisal.reason, "RTMR1 differs from the reference value"))
      << appraisal.reason;
  EXPECT_TRUE(contains(appraisal.reason, "#" + std::to_string(target->index) + " EV_"))
      << appraisal.reason;
}

// --- generated tables --------------------------------------------------------

void put_le(Bytes& b, std::size_t at, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void fix_checksum(Bytes& t) {
  t[9] = 0;
  unsigned sum = 0;
  for (std::uint8_t b : t) sum += b;
  t[9] = static_cast<std::uint8_t>(0x100 - (sum & 0xff));
}

Bytes make_table(std::uint8_t cc_type = kCcTypeTdx, std::uint64_t laml = 0x10000,
                 std::uint64_t lasa = 0x7f000000) {
  Bytes t(kCcelTableSize, 0);
  const std::string head = "CCEL";
  std::copy(head.begin(), head.end(), t.begin());
  put_le(t, 4, kCcelTableSize, 4);
  t[8] = 1;
  const std::string oem = "TESTOEMTESTTABLE";
  std::copy(oem.begin(), oem.end(), t.begin() + 10);
  t[36] = cc_type;
  put_le(t, 40, laml, 8);
  put_le(t, 48, lasa, 8);
  fix_checksum(t);
  return t;
}

void expect_error(const Result<CcelTable>& r, Errc code, const std::string& field,
                  std::size_t offset) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, code) << r.error().to_string();
  EXPECT_EQ(r.error().field, field) << r.error().to_string();
  ASSERT_TRUE(r.error().offset.has_value()) << r.error().to_string();
  EXPECT_EQ(*r.error().offset, offset) << r.error().to_string();
}

TEST(CcelTable, GeneratedTableParses) {
  auto t = parse_ccel_table(make_table(kCcTypeSev, 0x2000, 0x1234));
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ(t->cc_type, kCcTypeSev);
  EXPECT_EQ(t->laml, 0x2000u);
  EXPECT_EQ(t->lasa, 0x1234u);
  EXPECT_TRUE(t->checksum_ok);
  EXPECT_EQ(cc_type_name(kCcTypeSev), "SEV");
  EXPECT_EQ(cc_type_name(7), "unknown (7)");

  // A later revision may be longer: the extra bytes are not interpreted.
  Bytes longer = make_table();
  longer.resize(64, 0xab);
  put_le(longer, 4, 64, 4);
  fix_checksum(longer);
  auto l = parse_ccel_table(longer);
  ASSERT_TRUE(l.has_value()) << l.error().to_string();
  EXPECT_EQ(l->length, 64u);
}

TEST(CcelTable, TruncationsNameTheFieldAndOffset) {
  const Bytes good = make_table();
  expect_error(parse_ccel_table(ByteView(good).first(0)), Errc::kTruncated, "signature", 0);
  expect_error(parse_ccel_table(ByteView(good).first(6)), Errc::kTruncated, "length", 4);
  expect_error(parse_ccel_table(ByteView(good).first(36)), Errc::kTruncated, "cc_type", 36);
  expect_error(parse_ccel_table(ByteView(good).first(44)), Errc::kTruncated, "laml", 40);
  expect_error(parse_ccel_table(ByteView(good).first(55)), Errc::kTruncated, "lasa", 48);

  Bytes claims_more = good;
  put_le(claims_more, 4, 60, 4);
  expect_error(parse_ccel_table(claims_more), Errc::kTruncated, "length", 4);
}

TEST(CcelTable, MalformedTablesAreRejected) {
  Bytes t = make_table();
  t[0] = 'X';
  expect_error(parse_ccel_table(t), Errc::kMalformed, "signature", 0);
  expect_error(parse_ccel_table(as_bytes(std::string(56, '\xff'))), Errc::kMalformed, "signature",
               0);

  t = make_table();
  put_le(t, 4, 36, 4);
  fix_checksum(t);
  expect_error(parse_ccel_table(t), Errc::kMalformed, "length", 4);

  t = make_table();
  t[39] = 1;
  fix_checksum(t);
  expect_error(parse_ccel_table(t), Errc::kMalformed, "reserved", 38);

  t = make_table();
  t.push_back(0);
  expect_error(parse_ccel_table(t), Errc::kTrailingData, "table", 56);
}

TEST(CcelTable, ABadChecksumIsRejectedUnlessToleratedThenFlagged) {
  Bytes t = make_table();
  t[9] ^= 0x10;
  auto r = parse_ccel_table(t);
  expect_error(r, Errc::kMalformed, "checksum", 9);
  EXPECT_TRUE(contains(r.error().message, "sum to 0x10")) << r.error().message;

  CcelParseOptions tolerant;
  tolerant.accept_bad_checksum = true;
  auto ok = parse_ccel_table(t, tolerant);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_FALSE(ok->checksum_ok);
  EXPECT_EQ(ccel_table_json(*ok)["checksum_ok"], false);
  auto fine = parse_ccel_table(make_table(), tolerant);
  ASSERT_TRUE(fine.has_value());
  EXPECT_TRUE(fine->checksum_ok);
}

// --- generated logs ----------------------------------------------------------

// A TD's boot as TDVF and a boot loader log it (indices are CC MR indices):
// firmware in RTMR0, the boot loader in RTMR1, the kernel command line in
// RTMR2, an application event in RTMR3, and one informational MRTD event.
struct GeneratedTd {
  Bytes log;
  std::array<Rtmr, 4> expected{};
};

GeneratedTd generated_td(const std::string& kernel = "vmlinuz-6.8") {
  GeneratedTd td;
  measure::EventLogWriter w({HashAlg::kSha384});
  auto add = [&](std::uint32_t mr, std::uint32_t type, const std::string& measured,
                 const std::string& data) {
    auto d = w.add_measured(mr, type, as_bytes(measured), as_bytes(data));
    ASSERT_TRUE(d.has_value());
    if (mr >= 1 && mr <= 4) extend(td.expected[mr - 1], (*d)[0].value);
  };
  add(0, et::kEfiPlatformFirmwareBlob, "tdvf image", "TDVF");  // MRTD: not replayed
  add(1, et::kEfiPlatformFirmwareBlob2, "cfv", "Fv(CFV)");
  add(1, et::kEfiVariableDriverConfig, "SecureBoot", "SecureBoot");
  add(1, et::kSeparator, std::string(4, '\0'), std::string(4, '\0'));
  w.add_raw(2, et::kNoAction, {{static_cast<std::uint16_t>(HashAlg::kSha384), sha384("x")}},
            as_bytes("not extended"));
  add(2, et::kEfiBootServicesApplication, "shim", "shimx64.efi");
  add(2, et::kEfiBootServicesApplication, kernel, "linux");
  add(3, et::kIpl, "console=ttyS0", "kernel_cmdline: console=ttyS0");
  add(4, et::kEventTag, "app", "application");
  td.log = w.bytes();
  return td;
}

TEST(CcelReplay, GeneratedLogReplaysWithEitherPadding) {
  const GeneratedTd td = generated_td();
  for (std::uint8_t pad : {std::uint8_t{0xff}, std::uint8_t{0x00}}) {
    Bytes area = td.log;
    area.resize(0x4000, pad);  // the whole log area, as sysfs gives it
    auto r = replay_ccel(area);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    for (std::size_t i = 0; i < kRtmrCount; ++i) {
      EXPECT_EQ(hex_of(r->rtmr[i]), hex_of(td.expected[i])) << "RTMR" << i;
    }
    EXPECT_EQ(r->events, 10u);
    EXPECT_EQ(r->rtmr_events, (std::array<std::size_t, 4>{3, 2, 1, 1}));
    EXPECT_EQ(r->mrtd_events, 1u);
    EXPECT_EQ(r->no_action_events, 2u);
    EXPECT_EQ(r->log.padding, 0x4000 - td.log.size());
  }
  auto exact = replay_ccel(td.log);  // no padding at all
  ASSERT_TRUE(exact.has_value()) << exact.error().to_string();
  EXPECT_EQ(exact->rtmr, td.expected);
}

TEST(CcelReplay, PaddingThatIsNotUniformIsMalformedAtTheEndOfTheRecords) {
  const GeneratedTd td = generated_td();
  Bytes area = td.log;
  area.resize(td.log.size() + 64, 0xff);
  area[td.log.size() + 40] = 0x00;
  auto r = replay_ccel(area);
  ASSERT_FALSE(r.has_value());
  ASSERT_TRUE(r.error().offset.has_value()) << r.error().to_string();
  EXPECT_GE(*r.error().offset, td.log.size()) << r.error().to_string();
}

TEST(CcelReplay, TamperedEventIsNamedByRtmrAndEvent) {
  const GeneratedTd good = generated_td();
  const GeneratedTd evil = generated_td("vmlinuz-evil");
  auto g = replay_ccel(good.log);
  auto e = replay_ccel(evil.log);
  ASSERT_TRUE(g.has_value() && e.has_value());

  TdReportBody body;
  body.rtmr = good.expected;
  EXPECT_TRUE(check_rtmrs(*g, body).accepted);
  const Verdict v = check_rtmrs(*e, body);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(contains(v.reason, "RTMR1 differs: the quote has " + hex_of(good.expected[1])))
      << v.reason;
  EXPECT_TRUE(contains(v.reason, "(2 events)")) << v.reason;

  const measure::ReferenceValues ref = rtmr_reference_values(*g);
  EXPECT_TRUE(appraise_rtmrs(*g, ref).accepted) << appraise_rtmrs(*g, ref).reason;
  Verdict a = appraise_rtmrs(*e, ref);
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.reason.rfind("RTMR1 differs from the reference value", 0), 0u) << a.reason;
  EXPECT_TRUE(contains(a.reason, "#7 EV_EFI_BOOT_SERVICES_APPLICATION")) << a.reason;

  // Digests only: the event is named all the same.
  measure::ReferenceValues digests_only = ref;
  digests_only.pcrs.clear();
  a = appraise_rtmrs(*e, digests_only);
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.reason.rfind("RTMR1: event #7 EV_EFI_BOOT_SERVICES_APPLICATION", 0), 0u) << a.reason;
  EXPECT_TRUE(contains(a.reason, "is not among the reference digests")) << a.reason;
}

TEST(CcelReplay, ReferenceValuesUseRtmrNumbers) {
  const GeneratedTd td = generated_td();
  auto r = replay_ccel(td.log);
  ASSERT_TRUE(r.has_value());
  const measure::ReferenceValues ref = rtmr_reference_values(*r);
  ASSERT_EQ(ref.pcrs.count(HashAlg::kSha384), 1u);
  const auto& values = ref.pcrs.at(HashAlg::kSha384);
  ASSERT_EQ(values.size(), 4u);
  for (unsigned i = 0; i < 4; ++i) {
    EXPECT_EQ(values.at(i), Bytes(td.expected[i].begin(), td.expected[i].end())) << i;
  }
  // The MRTD event's digest is not a reference digest; the others are.
  const auto& known = ref.digests.at(HashAlg::kSha384);
  EXPECT_EQ(known.size(), 7u);
  EXPECT_EQ(known.count(sha384("tdvf image")), 0u);
  EXPECT_EQ(known.count(sha384("app")), 1u);

  // A reference value for RTMR3 that differs names RTMR3, not "PCR 4".
  measure::ReferenceValues wrong = ref;
  wrong.pcrs[HashAlg::kSha384][3] = Bytes(48, 0);
  const Verdict v = appraise_rtmrs(*r, wrong);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "RTMR3 differs from the reference value") << v.reason;

  // References for other banks (a TPM's) compare nothing with RTMRs: that
  // is a refusal, never a silent "verified".
  measure::ReferenceValues sha256_only;
  sha256_only.pcrs[HashAlg::kSha256][1] = Bytes(32, 1);
  const Verdict none = appraise_rtmrs(*r, sha256_only);
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(none.reason.rfind("nothing was compared", 0), 0u) << none.reason;
}

TEST(CcelReplay, LogsThatCannotBeCcelLogsAreRejected) {
  // No SHA-384 bank.
  measure::EventLogWriter sha256({HashAlg::kSha256});
  ASSERT_TRUE(sha256.add(1, et::kSeparator, Bytes(4, 0)).has_value());
  auto r = replay_ccel(sha256.bytes());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported) << r.error().to_string();
  EXPECT_EQ(r.error().field, "SpecIdEvent.digestSizes");

  // An extended event without a SHA-384 digest.
  measure::EventLogWriter both({HashAlg::kSha256, HashAlg::kSha384});
  ASSERT_TRUE(both.add(1, et::kSeparator, Bytes(4, 0)).has_value());
  const std::size_t at = both.bytes().size();
  both.add_raw(3, et::kIpl,
               {{static_cast<std::uint16_t>(HashAlg::kSha256),
                 *concierge::digest(HashAlg::kSha256, as_bytes("x"))}},
               as_bytes("x"));
  r = replay_ccel(both.bytes());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed) << r.error().to_string();
  EXPECT_EQ(r.error().field, "digests");
  EXPECT_EQ(r.error().offset, at);
  EXPECT_TRUE(contains(r.error().message, "event #2 EV_IPL is for RTMR2")) << r.error().message;

  // An index beyond RTMR3.
  measure::EventLogWriter beyond({HashAlg::kSha384});
  ASSERT_TRUE(beyond.add(1, et::kSeparator, Bytes(4, 0)).has_value());
  const std::size_t at5 = beyond.bytes().size();
  ASSERT_TRUE(beyond.add(5, et::kSeparator, Bytes(4, 0)).has_value());
  r = replay_ccel(beyond.bytes());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "MrIndex");
  EXPECT_EQ(r.error().offset, at5);
  EXPECT_TRUE(contains(r.error().message, "CC MR index 5")) << r.error().message;

  // A legacy SHA-1 log (no Spec ID header).
  Bytes legacy(32 + 4, 0);
  put_le(legacy, 0, 1, 4);
  put_le(legacy, 4, et::kSeparator, 4);
  put_le(legacy, 28, 4, 4);
  r = replay_ccel(legacy);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "SpecIdEvent");

  // Garbage and nothing.
  EXPECT_FALSE(replay_ccel(Bytes{}).has_value());
  r = replay_ccel(as_bytes("this is not an event log at all, not even close to one"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().offset.has_value()) << r.error().to_string();
}

TEST(CcelReplay, ATruncatedLogNamesTheOffset) {
  const GeneratedTd td = generated_td();
  auto r = replay_ccel(ByteView(td.log).first(td.log.size() - 5));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTruncated) << r.error().to_string();
  ASSERT_TRUE(r.error().offset.has_value());
  EXPECT_LT(*r.error().offset, td.log.size());
}

}  // namespace
}  // namespace concierge::evidence::dcap
