// verify_dcap on real quotes (go-tdx-guest) and Intel's QVL samples.
#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/verify.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using concierge::testing::read_file;

TimePoint at(const char* t) { return parse_rfc3339(t).value(); }

#define REQUIRE_BYTES(var, relative)              \
  CONCIERGE_REQUIRE_VECTOR(var##_path, relative); \
  const Bytes var = read_file(var##_path);        \
  ASSERT_FALSE(var.empty()) << relative

DcapVerification verified(ByteView quote, const DcapVerifyOptions& o) {
  auto v = verify_dcap(quote, o);
  EXPECT_TRUE(v) << v.error().to_string();
  if (!v) return {};
  return std::move(*v);
}

Certificate pem_cert(const std::filesystem::path& path) {
  const Bytes text = read_file(path);
  return Certificate::from_pem(
             std::string_view(reinterpret_cast<const char*>(text.data()), text.size()))
      .value();
}

std::vector<Certificate> pem_certs(const std::filesystem::path& path) {
  const Bytes text = read_file(path);
  return Certificate::from_pem_bundle(
             std::string_view(reinterpret_cast<const char*>(text.data()), text.size()))
      .value();
}

// ---- go-tdx-guest: real quotes from Intel hardware, real Intel chain ----

// The vector file has 39 bytes of text appended after the quote ("extra
// bytes(only for testing purpose)"); parsing the whole file is malformed (only
// zero padding may follow a quote), the quote itself verifies.
constexpr std::size_t kSprE4QuoteSize = 4935;

TEST(DcapVerifyReal, TdxV4QuoteVerifiesToTheBuiltInIntelRoot) {
  REQUIRE_BYTES(file, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  DcapVerifyOptions o;
  o.at = at("2024-01-01T00:00:00Z");
  auto whole = verify_dcap(file, o);
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().code, Errc::kTrailingData);

  const ByteView quote = ByteView(file).first(kSprE4QuoteSize);
  DcapVerification v = verified(quote, o);
  EXPECT_TRUE(v.verdict) << v.verdict.reason;
  EXPECT_EQ(v.claims["tee"], "tdx");
  EXPECT_EQ(v.claims["tcb_status"], "unknown");
  EXPECT_EQ(v.claims["fmspc"], "50806f000000");
  EXPECT_EQ(v.claims["pck"]["ca"], "platform");
  EXPECT_TRUE(v.claims["verified"].get<bool>());
  EXPECT_FALSE(v.collateral_checked);
}

TEST(DcapVerifyReal, V5AndCosQuotesVerify) {
  for (const char* name :
       {"tdx/go-tdx-guest/quote_v5_sample.dat", "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat"}) {
    SCOPED_TRACE(name);
    REQUIRE_BYTES(data, name);
    DcapVerifyOptions o;
    o.at = at("2026-02-15T00:00:00Z");
    o.expected_tee = TeeType::kTdx;
    DcapVerification v = verified(data, o);
    EXPECT_TRUE(v.verdict) << v.verdict.reason;
  }
}

TEST(DcapVerifyReal, CosQuoteBindsItsNonce) {
  REQUIRE_BYTES(quote, "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
  REQUIRE_BYTES(nonce, "tdx/go-tdx-guest/ccel/nonce.dat");
  DcapVerifyOptions o;
  o.at = at("2025-01-01T00:00:00Z");
  o.expected_report_data = nonce;
  EXPECT_TRUE(verified(quote, o).verdict);
  Bytes other = nonce;
  other[0] ^= 1;
  o.expected_report_data = other;
  DcapVerification v = verified(quote, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_NE(v.verdict.reason.find("REPORT_DATA"), std::string::npos) << v.verdict.reason;
}

TEST(DcapVerifyReal, WrongTeeAndExpiredChainAreRejected) {
  REQUIRE_BYTES(file, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  const ByteView quote = ByteView(file).first(kSprE4QuoteSize);
  DcapVerifyOptions o;
  o.at = at("2024-01-01T00:00:00Z");
  o.expected_tee = TeeType::kSgx;
  DcapVerification v = verified(quote, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason, "quote is TDX, not SGX");
  o.expected_tee.reset();
  o.at = at("2030-01-01T00:00:00Z");  // the PCK certificate ends in 2029
  v = verified(quote, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_NE(v.verdict.reason.find("expired"), std::string::npos) << v.verdict.reason;
}

TEST(DcapVerifyReal, IntelRootCrlAndPckCrlAreChecked) {
  REQUIRE_BYTES(file, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  REQUIRE_BYTES(root_crl, "tdx/go-tdx-guest/rootcrl.der");
  REQUIRE_BYTES(pck_crl, "tdx/go-tdx-guest/pckcrl");
  DcapVerifyOptions o;
  auto root = Crl::from_der(root_crl);
  ASSERT_TRUE(root) << root.error().to_string();
  o.crls.push_back(*root);
  // pckcrl is the PCS response: DER, or hex of DER.
  auto pck = Crl::from_der(pck_crl);
  if (!pck) {
    auto der =
        hex_decode(std::string_view(reinterpret_cast<const char*>(pck_crl.data()), pck_crl.size()));
    ASSERT_TRUE(der);
    pck = Crl::from_der(*der);
  }
  ASSERT_TRUE(pck) << pck.error().to_string();
  o.crls.push_back(*pck);
  o.at = std::max(root->this_update(), pck->this_update()) + std::chrono::hours(1);
  DcapVerification v = verified(ByteView(file).first(kSprE4QuoteSize), o);
  EXPECT_TRUE(v.verdict) << v.verdict.reason;
}

// The go-tdx-guest collateral was saved without its TCB-Info-Issuer-Chain
// header, so its signatures cannot be checked here (the Intel TCB Signing
// certificate is not among the vectors): verify_dcap says so, naming it.
// Its TCB levels still apply to the real quote's platform.
TEST(DcapVerifyReal, GoTdxGuestCollateralWithoutItsSigningChainIsNotFound) {
  REQUIRE_BYTES(file, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  CONCIERGE_REQUIRE_VECTOR(tcb, "tdx/go-tdx-guest/sample_tcbInfo_response");
  CONCIERGE_REQUIRE_VECTOR(qe, "tdx/go-tdx-guest/sample_qeIdentity_response");
  concierge::testing::TempDir dir;
  std::filesystem::create_directories(dir / "tcb");
  std::filesystem::create_directories(dir / "qe");
  std::filesystem::copy_file(tcb, dir.path() / "tcb" / "50806f000000.json");
  std::filesystem::copy_file(qe, dir.path() / "qe" / "identity.json");
  DcapVerifyOptions o;
  o.at = at("2023-07-01T00:00:00Z");
  o.collateral_dir = dir.path();
  auto v = verify_dcap(ByteView(file).first(kSprE4QuoteSize), o);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kNotFound);
  EXPECT_NE(v.error().message.find("TCB signing chain"), std::string::npos);
}

PlatformTcb platform_of(const Quote& quote) {
  auto certs = Certificate::from_pem_bundle(*quote.pck_chain_pem()).value();
  auto ext = parse_pck_extension(certs.front()).value();
  PlatformTcb p;
  p.fmspc = ext.fmspc;
  p.pce_id = ext.pceid;
  p.sgx_components = ext.tcb_components;
  p.pcesvn = ext.pcesvn;
  p.tee_tcb_svn = quote.td()->tee_tcb_svn;
  p.mrsignerseam = quote.td()->mr_signer_seam;
  p.seam_attributes = std::array<std::uint8_t, 8>{};
  return p;
}

TcbInfo tcb_info_of(const std::filesystem::path& path) {
  const Bytes text = read_file(path);
  auto info = parse_tcb_info_response(
      std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  EXPECT_TRUE(info) << info.error().to_string();
  return info ? info->info : TcbInfo{};
}

// The TCB levels of the saved collateral, matched as Intel's QVL does: the
// v5 quote's platform (FMSPC 90c06f000000) meets the v5 TCB info's first
// level; the SPR E4 quote's TEE_TCB_SVN (03 00 04) is below every level of
// the 2023 TCB info for its FMSPC, which QVL reports as "TCB level not
// supported".
TEST(DcapVerifyReal, SavedTcbInfoGivesTheRealPlatformsTheirStatus) {
  REQUIRE_BYTES(v5, "tdx/go-tdx-guest/quote_v5_sample.dat");
  CONCIERGE_REQUIRE_VECTOR(v5_tcb, "tdx/go-tdx-guest/sample_tcbinfo_response_v5");
  const Quote q5 = parse_quote(v5).value();
  TcbMatch m = match_tcb_level(tcb_info_of(v5_tcb), platform_of(q5));
  EXPECT_TRUE(m) << m.reason;
  EXPECT_EQ(m.platform_status, TcbStatus::kUpToDate);
  EXPECT_EQ(m.level_index, 0u);

  REQUIRE_BYTES(e4, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  CONCIERGE_REQUIRE_VECTOR(e4_tcb, "tdx/go-tdx-guest/sample_tcbInfo_response");
  const Quote q4 = parse_quote(ByteView(e4).first(kSprE4QuoteSize)).value();
  m = match_tcb_level(tcb_info_of(e4_tcb), platform_of(q4));
  EXPECT_FALSE(m);
  EXPECT_NE(m.reason.find("TCB level not supported"), std::string::npos) << m.reason;

  CONCIERGE_REQUIRE_VECTOR(qe_path, "tdx/go-tdx-guest/sample_qeIdentity_response");
  const Bytes qe_text = read_file(qe_path);
  auto identity = parse_qe_identity_response(
      std::string_view(reinterpret_cast<const char*>(qe_text.data()), qe_text.size()));
  ASSERT_TRUE(identity) << identity.error().to_string();
  QeReportFields f;
  f.mrsigner = q4.sig.qe_report.mr_signer;
  f.isvprodid = q4.sig.qe_report.isv_prod_id;
  f.isvsvn = q4.sig.qe_report.isv_svn;
  f.miscselect = q4.sig.qe_report.miscselect;
  for (int i = 0; i < 8; ++i) {
    f.attributes[i] = static_cast<std::uint8_t>(q4.sig.qe_report.attributes_flags >> (8 * i));
    f.attributes[8 + i] = static_cast<std::uint8_t>(q4.sig.qe_report.attributes_xfrm >> (8 * i));
  }
  QeMatch qm = match_qe_identity(identity->identity, f);
  EXPECT_TRUE(qm) << qm.reason;
  EXPECT_EQ(qm.status, TcbStatus::kUpToDate);
}

// ---- Intel's QVL samples: synthetic, under Intel's *test* root ----

struct QvlSample {
  const char* dir;
  TeeType tee;
  const char* when;
  // Empty: the collateral gives a status. Otherwise the collateral's
  // rejection, as Intel's QVL reports it too.
  const char* collateral_rejection;
};

class DcapVerifyQvl : public ::testing::TestWithParam<QvlSample> {};

TEST_P(DcapVerifyQvl, VerifiesWithItsTestRootOnlyAndYieldsATcbStatus) {
  const QvlSample s = GetParam();
  const std::string d = s.dir;
  REQUIRE_BYTES(quote, d + "/quote.dat");
  CONCIERGE_REQUIRE_VECTOR(root_path, d + "/trustedRootCaCert.pem");
  const auto p = root_path.parent_path();
  DcapVerifyOptions o;
  o.at = at(s.when);
  o.expected_tee = s.tee;
  o.pck_chain = pem_certs(p / "pckCert.pem");
  for (Certificate& c : pem_certs(p / "pckSignChain.pem")) o.pck_chain.push_back(c);

  // The built-in (production) root does not anchor Intel's test chain.
  DcapVerification v = verified(quote, o);
  EXPECT_FALSE(v.verdict);

  o.root = pem_cert(root_path);
  v = verified(quote, o);
  EXPECT_TRUE(v.verdict) << v.verdict.reason;
  EXPECT_EQ(v.claims["tcb_status"], "unknown");

  auto collateral =
      load_collateral_files(p / "tcbInfo.json", p / "qeIdentity.json", p / "tcbSignChain.pem");
  ASSERT_TRUE(collateral) << collateral.error().to_string();
  o.collateral = std::make_shared<const Collateral>(std::move(*collateral));
  o.acceptable_tcb = {TcbStatus::kUpToDate,
                      TcbStatus::kSWHardeningNeeded,
                      TcbStatus::kConfigurationNeeded,
                      TcbStatus::kConfigurationAndSWHardeningNeeded,
                      TcbStatus::kOutOfDate,
                      TcbStatus::kOutOfDateConfigurationNeeded};
  v = verified(quote, o);
  EXPECT_TRUE(v.claims.contains("collateral"));
  if (std::string(s.collateral_rejection).empty()) {
    EXPECT_TRUE(v.verdict) << v.verdict.reason;
    EXPECT_TRUE(v.collateral_checked);
    EXPECT_NE(v.claims["tcb_status"], "unknown");
  } else {
    EXPECT_FALSE(v.verdict);
    EXPECT_EQ(v.verdict.reason, s.collateral_rejection);
    EXPECT_EQ(v.claims["tcb_status"], "unknown");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Samples, DcapVerifyQvl,
    ::testing::Values(QvlSample{"sgx/intel-qvl-sample", TeeType::kSgx, "2020-01-01T00:00:00Z", ""},
                      // The synthetic TD report's TEE_TCB_SVN[1] is 0xC1 and the
                      // sample TCB info has no TDX module identities: QVL's
                      // STATUS_TDX_MODULE_MISMATCH.
                      QvlSample{"tdx/intel-qvl-sample", TeeType::kTdx, "2022-01-01T00:00:00Z",
                                "TDX module identity TDX_C1 (TEE_TCB_SVN[1] = 193) is not "
                                "in the TCB info"}));

}  // namespace
}  // namespace concierge::evidence::dcap
