// TDX quote collection: configfs-tsm through a stand-in folder (see
// tsm_test.cc for the hook that plays the kernel), the quote checks, and the
// CCEL table and log read from stand-in ACPI files.
#include "concierge/attester/tdx/collect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <string>

#include "concierge/evidence/dcap/quote.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "support/vectors.h"

namespace concierge::attester::tdx {
namespace {

namespace fs = std::filesystem;
namespace dcap = evidence::dcap;
using concierge::testing::TempDir;
using concierge::testing::write_file;

using ReportData = std::array<std::uint8_t, kReportDataSize>;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

ReportData make_report_data(std::uint8_t seed) {
  ReportData d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(seed + i * 7);
  return d;
}

// A v4 quote (TD 1.0 body, or SGX) carrying `data` as its REPORTDATA.
Bytes make_quote(const ReportData& data, bool td = true) {
  dcap::Quote q;
  q.header.version = 4;
  q.header.tee_type = td ? dcap::kTeeTypeTdx : dcap::kTeeTypeSgx;
  q.kind = td ? dcap::BodyKind::kTd10 : dcap::BodyKind::kSgx;
  if (td) {
    dcap::TdReportBody b;
    b.report_data = data;
    b.rtmr[0][0] = 0x11;
    q.body = b;
  } else {
    dcap::SgxReportBody b;
    b.report_data = data;
    q.body = b;
  }
  q.sig.signature[0] = 1;
  const std::string pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
  q.sig.certification.data.assign(pem.begin(), pem.end());
  auto bytes = dcap::serialize_quote(q);
  EXPECT_TRUE(bytes.has_value()) << bytes.error().to_string();
  return bytes ? *bytes : Bytes{};
}

void put_le(Bytes& b, std::size_t at, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A CCEL table (56 bytes, checksum fixed) for a log area of `laml` bytes.
Bytes make_table(std::uint64_t laml, std::uint8_t cc_type = dcap::kCcTypeTdx) {
  Bytes t(dcap::kCcelTableSize, 0);
  const std::string sig = "CCEL";
  std::copy(sig.begin(), sig.end(), t.begin());
  put_le(t, 4, t.size(), 4);
  t[8] = 1;
  t[36] = cc_type;
  put_le(t, 40, laml, 8);
  put_le(t, 48, 0x7f000000, 8);
  unsigned sum = 0;
  for (std::uint8_t b : t) sum += b;
  t[9] = static_cast<std::uint8_t>(0x100 - (sum & 0xff));
  return t;
}

// A small CCEL log padded with 0xFF to `laml` bytes, as TDVF leaves it.
Bytes make_log_area(std::size_t laml) {
  measure::EventLogWriter w({HashAlg::kSha384});
  EXPECT_TRUE(w.add(1, measure::event_type::kSeparator, Bytes(4, 0)).has_value());
  EXPECT_TRUE(w.add(2, measure::event_type::kSeparator, Bytes(4, 0)).has_value());
  Bytes area = w.bytes();
  area.resize(laml, 0xff);
  return area;
}

// The kernel's side of configfs-tsm for a "tdx_guest" (or other) provider.
class FakeTsm {
 public:
  explicit FakeTsm(std::string provider) : provider_(std::move(provider)) {}
  fs::path root() const { return dir_.path(); }
  TsmHook hook() {
    return [this](TsmEvent e, std::string_view attr, const fs::path& entry) {
      if (e == TsmEvent::kCreated) {
        write_file(entry / "generation", as_bytes("0\n"));
        write_file(entry / "provider", as_bytes(provider_ + "\n"));
        write_file(entry / "inblob", {});
        write_file(entry / "outblob", outblob);
        generation_ = 0;
      } else if (e == TsmEvent::kWrote) {
        if (attr == "inblob") inblob = concierge::testing::read_file(entry / "inblob");
        written.emplace_back(attr);
        write_file(entry / "generation", as_bytes(std::to_string(++generation_) + "\n"));
      } else if (e == TsmEvent::kRemoving) {
        for (const auto& f : fs::directory_iterator(entry)) fs::remove(f.path());
      }
    };
  }

  Bytes outblob;
  std::optional<Bytes> inblob;
  std::vector<std::string> written;

 private:
  TempDir dir_;
  std::string provider_;
  unsigned generation_ = 0;
};

constexpr std::size_t kLaml = 0x2000;

struct Td {
  explicit Td(std::string provider = kTdxGuestProvider) : fake(std::move(provider)) {
    options.tsm_root = fake.root();
    options.tsm_test_hook = fake.hook();
    options.ccel_table = acpi / "CCEL";
    options.ccel_data = acpi / "data" / "CCEL";
    fs::create_directories(acpi / "data");
    write_file(options.ccel_table, table);
    write_file(options.ccel_data, log);
  }
  FakeTsm fake;
  TempDir acpi;
  Bytes table = make_table(kLaml);
  Bytes log = make_log_area(kLaml);
  CollectOptions options;
};

TEST(TdxCollect, QuoteAndCcelFromATdxGuest) {
  Td td;
  const ReportData data = make_report_data(1);
  td.fake.outblob = make_quote(data);
  auto r = collect_tdx_quote(data, td.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->quote, td.fake.outblob);
  ASSERT_TRUE(r->ccel.has_value()) << r->ccel_detail;
  EXPECT_TRUE(r->ccel_detail.empty());
  EXPECT_EQ(r->ccel->table, td.table);
  EXPECT_EQ(r->ccel->log, td.log);
  EXPECT_EQ(r->ccel->parsed.laml, kLaml);
  // inblob gets exactly the 64 bytes of REPORTDATA, and nothing else is written.
  ASSERT_TRUE(td.fake.inblob.has_value());
  EXPECT_EQ(*td.fake.inblob, Bytes(data.begin(), data.end()));
  EXPECT_EQ(td.fake.written, std::vector<std::string>{"inblob"});
  EXPECT_TRUE(fs::is_empty(td.fake.root()));

  auto q = dcap::parse_quote(r->quote);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->td()->report_data, data);
}

TEST(TdxCollect, TrimsZeroPaddingAndRefusesOtherTrailingBytes) {
  Td td;
  const ReportData data = make_report_data(2);
  const Bytes quote = make_quote(data);
  td.fake.outblob = quote;
  td.fake.outblob.resize(quote.size() + 4096, 0);
  auto r = collect_tdx_quote(data, td.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->quote, quote);

  td.fake.outblob.back() = 1;
  r = collect_tdx_quote(data, td.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTrailingData) << r.error().to_string();
  EXPECT_TRUE(contains(r.error().message, "not a DCAP quote")) << r.error().message;

  td.fake.outblob = Bytes(100, 0x42);
  r = collect_tdx_quote(data, td.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().code, Errc::kDevice) << r.error().to_string();
}

TEST(TdxCollect, RefusesAQuoteThatIsNotTheOneAskedFor) {
  Td td;
  const ReportData data = make_report_data(3);
  td.fake.outblob = make_quote(make_report_data(4));
  auto r = collect_tdx_quote(data, td.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice);
  EXPECT_TRUE(contains(r.error().message, "REPORTDATA")) << r.error().message;

  td.fake.outblob = make_quote(data, /*td=*/false);
  r = collect_tdx_quote(data, td.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice);
  EXPECT_TRUE(contains(r.error().message, "SGX quote")) << r.error().message;
}

TEST(TdxCollect, SevGuestProviderIsNotATdxInterface) {
  Td td("sev_guest");
  const ReportData data = make_report_data(5);
  td.fake.outblob = make_quote(data);
  auto r = collect_tdx_quote(data, td.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound) << r.error().to_string();
  EXPECT_TRUE(contains(r.error().message, "no TDX guest interface")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "sev_guest")) << r.error().message;
  EXPECT_FALSE(td.fake.inblob.has_value());  // no SNP report was asked for
  EXPECT_TRUE(fs::is_empty(td.fake.root()));
}

TEST(TdxCollect, NoConfigfsTsmIsNotFound) {
  TempDir dir;
  CollectOptions o;
  o.tsm_root = dir / "tsm";
  o.ccel_table = dir / "CCEL";
  o.ccel_data = dir / "data" / "CCEL";
  auto r = collect_tdx_quote(make_report_data(6), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(r.error().message, (dir / "tsm").string())) << r.error().message;
}

TEST(TdxCollect, ATdWithoutCcelStillGivesAQuote) {
  Td td;
  const ReportData data = make_report_data(7);
  td.fake.outblob = make_quote(data);
  fs::remove(td.options.ccel_table);
  auto r = collect_tdx_quote(data, td.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->ccel.has_value());
  EXPECT_TRUE(contains(r->ccel_detail, "no CCEL table at " + td.options.ccel_table.string()))
      << r->ccel_detail;

  td.options.ccel = false;
  write_file(td.options.ccel_table, as_bytes("garbage"));  // not even looked at
  r = collect_tdx_quote(data, td.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->ccel.has_value());
  EXPECT_EQ(r->ccel_detail, "not asked for");
}

TEST(TdxCollect, BadCcelFilesFailBeforeAQuoteIsAskedFor) {
  const ReportData data = make_report_data(8);
  struct Case {
    const char* what;
    Bytes table;
    std::optional<Bytes> log;  // nullopt: the log area file is absent
    Errc code;
    bool names_data;  // the error names the log file (else the table)
    const char* message;
  };
  Bytes bad_checksum = make_table(kLaml);
  bad_checksum[9] ^= 1;
  Bytes unreplayable = make_log_area(kLaml);
  unreplayable[0] = 0x55;  // pcrIndex of the header out of range
  const Case cases[] = {
      {"bad checksum", bad_checksum, make_log_area(kLaml), Errc::kMalformed, false, "checksum"},
      {"SEV table", make_table(kLaml, dcap::kCcTypeSev), make_log_area(kLaml), Errc::kMalformed,
       false, "not TDX"},
      {"log over LAML", make_table(kLaml), make_log_area(kLaml + 1), Errc::kMalformed, true,
       "more than the table's LAML"},
      {"log absent", make_table(kLaml), std::nullopt, Errc::kNotFound, true, "no log area"},
      {"log garbage", make_table(kLaml), unreplayable, Errc::kMalformed, true, "pcrIndex"},
  };
  for (const Case& c : cases) {
    Td td;
    td.fake.outblob = make_quote(data);
    write_file(td.options.ccel_table, c.table);
    if (c.log) {
      write_file(td.options.ccel_data, *c.log);
    } else {
      fs::remove(td.options.ccel_data);
    }
    auto r = collect_tdx_quote(data, td.options);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().to_string();
    const fs::path& named = c.names_data ? td.options.ccel_data : td.options.ccel_table;
    EXPECT_TRUE(contains(r.error().to_string(), named.string()))
        << c.what << ": " << r.error().to_string();
    EXPECT_TRUE(contains(r.error().to_string(), c.message))
        << c.what << ": " << r.error().to_string();
    EXPECT_FALSE(td.fake.inblob.has_value()) << c.what;
  }
}

TEST(TdxCollect, ReadsTheRealCcelFiles) {
  CONCIERGE_REQUIRE_VECTOR(table, "tdx/go-tdx-guest/ccel/ccel_table.dat");
  CONCIERGE_REQUIRE_VECTOR(data, "tdx/go-tdx-guest/ccel/ccel_data.dat");
  std::string detail = "unchanged?";
  auto r = read_ccel(table, data, &detail);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->log.size(), (*r)->parsed.laml);
  EXPECT_TRUE(detail.empty());
}

// `concierge tdx report` (skipped until the `tdx` family registers it).
TEST(TdxCollect, CliExitsTwoWithoutATdxInterface) {
  auto help = concierge::testing::run_cli("tdx report --help");
  if (help.exit_code != 0 || !contains(help.out, "--report-data")) {
    GTEST_SKIP() << "`concierge tdx report` is not registered yet";
  }
  TempDir dir;
  const std::string where = " --tsm-root '" + (dir / "tsm").string() + "' --acpi-tables '" +
                            (dir / "acpi").string() + "'";
  auto r = concierge::testing::run_cli("tdx report --report-data 00112233" + where);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "no TDX guest interface")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = concierge::testing::run_cli("tdx report --report-data " + std::string(130, 'a') + where);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "at most 64")) << r.err;
}

}  // namespace
}  // namespace concierge::attester::tdx
