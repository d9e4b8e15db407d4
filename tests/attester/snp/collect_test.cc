// SEV-SNP report collection: configfs-tsm through a stand-in folder (see
// tsm_test.cc for the hook that plays the kernel), the sev-guest ioctl path
// where no SNP guest is available (absent device, a file that refuses the
// ioctl), and the MSG_REPORT_RSP and certificate-table readers.
#include "concierge/attester/snp/collect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/vectors.h"

namespace concierge::attester::snp {
namespace {

namespace fs = std::filesystem;
using concierge::testing::TempDir;
using concierge::testing::write_file;

using ReportData = std::array<std::uint8_t, kReportDataSize>;

ReportData make_report_data(std::uint8_t seed) {
  ReportData d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(seed + i * 3);
  return d;
}

void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// 1184 bytes carrying the given VMPL and REPORT_DATA; the rest is filler.
Bytes fake_report(const ReportData& data, std::uint32_t vmpl) {
  Bytes r(0x4A0);
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(i * 13 + 5);
  put_u32(r, 0x30, vmpl);
  std::memcpy(r.data() + 0x50, data.data(), data.size());
  return r;
}

// A GHCB certificate table: one entry (VCEK GUID), terminator, certificate.
Bytes fake_cert_table() {
  Bytes t(48 + 10, 0);
  const std::uint8_t guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  std::memcpy(t.data(), guid, 16);
  put_u32(t, 16, 48);
  put_u32(t, 20, 10);
  for (std::size_t i = 48; i < t.size(); ++i) t[i] = 0x30;
  return t;
}

// The kernel's side of configfs-tsm, as in tsm_test.cc (trimmed).
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
        write_file(entry / "privlevel", {});
        write_file(entry / "privlevel_floor", as_bytes("0\n"));
        write_file(entry / "outblob", outblob);
        if (auxblob) write_file(entry / "auxblob", *auxblob);
        generation_ = 0;
      } else if (e == TsmEvent::kWrote) {
        if (attr == "inblob") inblob = concierge::testing::read_file(entry / "inblob");
        if (attr == "privlevel") {
          std::ifstream in(entry / "privlevel");
          std::getline(in, privlevel);
        }
        write_file(entry / "generation", as_bytes(std::to_string(++generation_) + "\n"));
      } else if (e == TsmEvent::kRemoving) {
        for (const auto& f : fs::directory_iterator(entry)) fs::remove(f.path());
      }
    };
  }

  Bytes outblob;
  std::optional<Bytes> auxblob;
  std::optional<Bytes> inblob;
  std::string privlevel;

 private:
  TempDir dir_;
  std::string provider_;
  unsigned generation_ = 0;
};

struct Guest {
  explicit Guest(std::string provider) : fake(std::move(provider)) {
    options.tsm_root = fake.root();
    options.device = devices / "sev-guest";  // absent
    options.tsm_test_hook = fake.hook();
  }
  FakeTsm fake;
  TempDir devices;
  CollectOptions options;
};

TEST(SnpCollect, UsesConfigfsTsmWhenItsProviderIsSevGuest) {
  Guest s("sev_guest");
  const ReportData data = make_report_data(1);
  s.fake.outblob = fake_report(data, 1);
  s.fake.auxblob = fake_cert_table();
  auto r = collect_snp_report(data, 1, s.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->mechanism, Mechanism::kConfigfsTsm);
  EXPECT_EQ(r->report, s.fake.outblob);
  ASSERT_TRUE(r->certificates.has_value());
  EXPECT_EQ(*r->certificates, fake_cert_table());
  // inblob gets exactly the 64 bytes of REPORT_DATA; privlevel the VMPL.
  ASSERT_TRUE(s.fake.inblob.has_value());
  EXPECT_EQ(*s.fake.inblob, Bytes(data.begin(), data.end()));
  EXPECT_EQ(s.fake.privlevel, "1");
  EXPECT_TRUE(fs::is_empty(s.fake.root()));
}

TEST(SnpCollect, CertificatesCanBeLeftOut) {
  Guest s("sev_guest");
  const ReportData data = make_report_data(2);
  s.fake.outblob = fake_report(data, 0);
  s.fake.auxblob = fake_cert_table();
  s.options.certificates = false;
  auto r = collect_snp_report(data, 0, s.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->certificates.has_value());
  EXPECT_EQ(s.fake.privlevel, "0");
}

TEST(SnpCollect, TrimsZeroPaddingOnly) {
  Guest s("sev_guest");
  const ReportData data = make_report_data(3);
  const Bytes report = fake_report(data, 0);
  s.fake.outblob = report;
  s.fake.outblob.resize(report.size() + 96, 0);
  auto r = collect_snp_report(data, 0, s.options);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->report, report);

  s.fake.outblob.back() = 1;
  r = collect_snp_report(data, 0, s.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed) << r.error().to_string();

  s.fake.outblob.assign(report.begin(), report.end() - 1);
  r = collect_snp_report(data, 0, s.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTruncated) << r.error().to_string();
}

TEST(SnpCollect, RefusesAReportThatIsNotTheOneAskedFor) {
  Guest s("sev_guest");
  const ReportData data = make_report_data(4);
  s.fake.outblob = fake_report(make_report_data(5), 0);
  auto r = collect_snp_report(data, 0, s.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice);
  EXPECT_NE(r.error().message.find("REPORT_DATA"), std::string::npos) << r.error().message;

  s.fake.outblob = fake_report(data, 2);
  r = collect_snp_report(data, 0, s.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice);
  EXPECT_NE(r.error().message.find("VMPL 2"), std::string::npos) << r.error().message;
}

TEST(SnpCollect, TdxProviderIsNotAnSnpInterface) {
  Guest s("tdx_guest");
  const ReportData data = make_report_data(6);
  s.fake.outblob = fake_report(data, 0);
  auto r = collect_snp_report(data, 0, s.options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound) << r.error().to_string();
  EXPECT_NE(r.error().message.find("tdx_guest"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(s.options.device.string()), std::string::npos);
  EXPECT_FALSE(s.fake.inblob.has_value());  // no TDX quote was asked for
  EXPECT_TRUE(fs::is_empty(s.fake.root()));
}

TEST(SnpCollect, NoInterfaceAtAllIsNotFound) {
  TempDir dir;
  CollectOptions o;
  o.tsm_root = dir / "tsm";
  o.device = dir / "sev-guest";
  auto r = collect_snp_report(make_report_data(7), 0, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find("no SEV-SNP guest interface"), std::string::npos);
  EXPECT_NE(r.error().message.find((dir / "tsm").string()), std::string::npos);
  EXPECT_NE(r.error().message.find((dir / "sev-guest").string()), std::string::npos);
  EXPECT_EQ(collect_snp_report(make_report_data(7), 4, o).error().code, Errc::kInvalidArgument);
}

TEST(SnpCollect, FallsBackToTheDeviceAndReportsItsFailure) {
  TempDir dir;
  write_file(dir / "sev-guest", {});  // opens, but refuses the ioctl (ENOTTY)
  CollectOptions o;
  o.tsm_root = dir / "tsm";
  o.device = dir / "sev-guest";
  auto r = collect_snp_report(make_report_data(8), 0, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice) << r.error().to_string();
  EXPECT_NE(r.error().message.find("SNP_GET_EXT_REPORT"), std::string::npos);
}

// `concierge snp report` (needs the program to register the command).
TEST(SnpCollect, CliExitsTwoWithoutAnSnpInterface) {
  TempDir dir;
  const std::string where = " --tsm-root '" + (dir / "tsm").string() + "' --device '" +
                            (dir / "sev-guest").string() + "'";
  auto r = concierge::testing::run_cli("snp report --report-data 00112233" + where);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("no SEV-SNP guest interface"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = concierge::testing::run_cli("snp report --report-data " + std::string(130, 'a') + where);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at most 64"), std::string::npos) << r.err;
  r = concierge::testing::run_cli("snp report --report-data 00 --vmpl 4" + where);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(SnpCollect, MechanismNames) {
  EXPECT_EQ(mechanism_name(Mechanism::kConfigfsTsm), "configfs-tsm");
  EXPECT_EQ(mechanism_name(Mechanism::kSevGuestIoctl), "sev-guest-ioctl");
}

TEST(SevGuest, AbsentDeviceIsNotFound) {
  TempDir dir;
  auto r = sev_guest_report(make_report_data(9), 0, true, dir / "sev-guest");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_NE(r.error().message.find((dir / "sev-guest").string()), std::string::npos);
}

TEST(SevGuest, ADeviceThatRefusesIsADeviceError) {
  TempDir dir;
  write_file(dir / "sev-guest", {});
  auto r = sev_guest_report(make_report_data(9), 0, false, dir / "sev-guest");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kDevice);
  EXPECT_NE(r.error().message.find("SNP_GET_REPORT"), std::string::npos) << r.error().message;
  EXPECT_EQ(sev_guest_report(make_report_data(9), 4, false, dir / "sev-guest").error().code,
            Errc::kInvalidArgument);
}

TEST(SevGuest, ParsesMsgReportRsp) {
  const Bytes report = fake_report(make_report_data(10), 0);
  Bytes resp(4000, 0);
  put_u32(resp, 4, static_cast<std::uint32_t>(report.size()));
  std::memcpy(resp.data() + 32, report.data(), report.size());
  auto r = parse_report_response(resp);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, report);

  Bytes bad = resp;
  put_u32(bad, 0, 0x16);
  auto e = parse_report_response(bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, Errc::kDevice);
  EXPECT_NE(e.error().message.find("INVALID_PARAM"), std::string::npos) << e.error().message;

  bad = resp;
  put_u32(bad, 4, 0);
  EXPECT_EQ(parse_report_response(bad).error().code, Errc::kMalformed);
  put_u32(bad, 4, 4000);
  EXPECT_EQ(parse_report_response(bad).error().code, Errc::kTruncated);
  EXPECT_EQ(parse_report_response(Bytes(16, 0)).error().code, Errc::kTruncated);
}

TEST(SevGuest, CertificateTableSize) {
  Bytes table = fake_cert_table();
  table.resize(4096, 0);  // as the driver's buffer comes back
  auto n = certificate_table_size(table);
  ASSERT_TRUE(n.has_value()) << n.error().to_string();
  EXPECT_EQ(*n, 58u);

  EXPECT_EQ(*certificate_table_size(Bytes(4096, 0)), 0u);  // the host sent none

  Bytes past = table;
  put_u32(past, 20, 5000);
  EXPECT_EQ(certificate_table_size(past).error().code, Errc::kMalformed);

  Bytes unterminated(24, 0x11);  // one entry covering the buffer, no terminator
  put_u32(unterminated, 16, 0);
  put_u32(unterminated, 20, 24);
  auto u = certificate_table_size(unterminated);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, Errc::kMalformed);
  EXPECT_NE(u.error().message.find("terminating"), std::string::npos) << u.error().message;
}

}  // namespace
}  // namespace concierge::attester::snp
