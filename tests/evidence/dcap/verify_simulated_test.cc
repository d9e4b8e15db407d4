// verify_dcap on quotes and collateral from the simulator: trust only in an
// explicitly configured root, TCB statuses and advisories, collateral that
// belongs to another platform or is stale, the caches.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/dcap/verify.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

class DcapVerifySimulated : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto sim = DcapSimulator::create();
    ASSERT_TRUE(sim) << sim.error().to_string();
    sim_ = new DcapSimulator(std::move(*sim));
    TdQuoteInput td;
    td.mr_td.fill(0x42);
    td.report_data.fill(0x07);
    tdx_ = new Bytes(sim_->tdx_quote(td).value());
    SgxQuoteInput sgx;
    sgx.mr_enclave.fill(0x11);
    sgx.isv_prod_id = 3;
    sgx_ = new Bytes(sim_->sgx_quote(sgx).value());
  }
  static void TearDownTestSuite() {
    delete sim_;
    delete tdx_;
    delete sgx_;
  }

  static DcapVerifyOptions trusting(TeeType tee, const CollateralOptions& c = {}) {
    DcapVerifyOptions o;
    o.expected_tee = tee;
    o.root = sim_->root();
    auto collateral = sim_->collateral(tee, c);
    EXPECT_TRUE(collateral) << collateral.error().to_string();
    if (collateral) o.collateral = std::make_shared<const Collateral>(std::move(*collateral));
    return o;
  }

  static DcapVerification verify(const Bytes& quote, const DcapVerifyOptions& o) {
    auto v = verify_dcap(quote, o);
    EXPECT_TRUE(v) << v.error().to_string();
    return v ? std::move(*v) : DcapVerification{};
  }

  static DcapSimulator* sim_;
  static Bytes* tdx_;
  static Bytes* sgx_;
};

DcapSimulator* DcapVerifySimulated::sim_ = nullptr;
Bytes* DcapVerifySimulated::tdx_ = nullptr;
Bytes* DcapVerifySimulated::sgx_ = nullptr;

TEST_F(DcapVerifySimulated, TdxAndSgxQuotesVerifyOnlyUnderTheTestRoot) {
  for (TeeType tee : {TeeType::kTdx, TeeType::kSgx}) {
    const Bytes& quote = tee == TeeType::kTdx ? *tdx_ : *sgx_;
    DcapVerifyOptions o = trusting(tee);
    DcapVerification v = verify(quote, o);
    EXPECT_TRUE(v.verdict) << v.verdict.reason;
    EXPECT_EQ(v.tcb_status, TcbStatus::kUpToDate);
    EXPECT_EQ(v.claims["tcb_status"], "UpToDate");
    EXPECT_EQ(v.claims["fmspc"], hex_encode(sim_->fmspc()));

    o.root.reset();  // the built-in Intel root
    v = verify(quote, o);
    EXPECT_FALSE(v.verdict);
    EXPECT_EQ(v.verdict.reason.rfind("PCK chain: certificate chain rejected", 0), 0u)
        << v.verdict.reason;
  }
  const Quote q = parse_quote(*tdx_).value();
  EXPECT_EQ(q.header.version, 4);
  EXPECT_EQ(parse_quote(*sgx_).value().header.version, 3);
}

TEST_F(DcapVerifySimulated, OutOfDateIsReportedWithAdvisoriesAndRejectedUnlessAllowed) {
  CollateralOptions c;
  c.tcb_status = TcbStatus::kOutOfDate;
  c.advisory_ids = {"INTEL-SA-00837", "INTEL-SA-01036"};
  DcapVerifyOptions o = trusting(TeeType::kTdx, c);
  DcapVerification v = verify(*tdx_, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason,
            "TCB status OutOfDate is not acceptable (advisories: INTEL-SA-00837 INTEL-SA-01036)");
  EXPECT_EQ(v.claims["tcb_status"], "OutOfDate");
  EXPECT_EQ(v.claims["advisory_ids"], nlohmann::json({"INTEL-SA-00837", "INTEL-SA-01036"}));

  o.acceptable_tcb.push_back(TcbStatus::kOutOfDate);
  v = verify(*tdx_, o);
  EXPECT_TRUE(v.verdict) << v.verdict.reason;
  EXPECT_EQ(v.tcb_status, TcbStatus::kOutOfDate);
}

TEST_F(DcapVerifySimulated, StatusesConvergeAcrossPlatformModuleAndQe) {
  CollateralOptions c;
  c.tcb_status = TcbStatus::kSWHardeningNeeded;
  c.qe_status = TcbStatus::kOutOfDate;
  DcapVerification v = verify(*tdx_, trusting(TeeType::kTdx, c));
  EXPECT_EQ(v.tcb_status, TcbStatus::kOutOfDate);

  c = {};
  c.tcb_status = TcbStatus::kConfigurationNeeded;
  v = verify(*sgx_, trusting(TeeType::kSgx, c));
  EXPECT_TRUE(v.verdict) << v.verdict.reason;
  EXPECT_EQ(v.claims["tcb_status"], "ConfigurationNeeded");

  c = {};
  c.tcb_status = TcbStatus::kRevoked;
  DcapVerifyOptions o = trusting(TeeType::kSgx, c);
  o.acceptable_tcb.push_back(TcbStatus::kRevoked);  // never acceptable
  v = verify(*sgx_, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason, "TCB status is Revoked (TCB level 0)");
  EXPECT_EQ(v.claims["tcb_status"], "Revoked");
}

TEST_F(DcapVerifySimulated, CollateralOfTheWrongKindTimeOrSignerIsRejected) {
  // SGX collateral for a TDX quote.
  DcapVerifyOptions o = trusting(TeeType::kTdx);
  o.collateral = trusting(TeeType::kSgx).collateral;
  DcapVerification v = verify(*tdx_, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason, "collateral is SGX TCB info, the quote is TDX");

  // Expired collateral.
  CollateralOptions stale;
  stale.issue_date = std::chrono::system_clock::now() - std::chrono::hours(24 * 60);
  stale.next_update = std::chrono::system_clock::now() - std::chrono::hours(24 * 30);
  v = verify(*tdx_, trusting(TeeType::kTdx, stale));
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason.rfind("TCB info collateral expired", 0), 0u) << v.verdict.reason;

  // Collateral signed under another simulator's TCB Signing key.
  auto other = DcapSimulator::create();
  ASSERT_TRUE(other);
  auto foreign = other->collateral(TeeType::kTdx);
  ASSERT_TRUE(foreign);
  o = trusting(TeeType::kTdx);
  o.collateral = std::make_shared<const Collateral>(std::move(*foreign));
  v = verify(*tdx_, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason.rfind("collateral: TCB Signing chain", 0), 0u) << v.verdict.reason;
}

// TCB info for another FMSPC, properly signed by the same TCB Signing key:
// the platform in the PCK certificate is not the one the collateral covers.
TEST_F(DcapVerifySimulated, CollateralForAnotherFmspcIsRejected) {
  concierge::testing::TempDir dir;
  ASSERT_TRUE(sim_->save(dir.path()));
  const Bytes key_pem = concierge::testing::read_file(dir / "tcb_signing.key");
  auto key = PrivateKey::from_pem(as_chars(key_pem));
  ASSERT_TRUE(key) << key.error().to_string();

  auto collateral = sim_->collateral(TeeType::kTdx);
  ASSERT_TRUE(collateral);
  std::string body = collateral->tcb_info.signed_body;
  const std::string ours = hex_encode(sim_->fmspc());
  auto at = body.find(ours);
  if (at == std::string::npos) {
    std::string upper = ours;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    at = body.find(upper);
  }
  ASSERT_NE(at, std::string::npos) << body;
  body.replace(at, ours.size(), "00906ed50000");
  auto signature = key->sign_ecdsa_raw(
      HashAlg::kSha256, ByteView(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  ASSERT_TRUE(signature);
  auto reparsed = parse_tcb_info_response("{\"tcbInfo\":" + body + ",\"signature\":\"" +
                                          hex_encode(*signature) + "\"}");
  ASSERT_TRUE(reparsed) << reparsed.error().to_string();
  collateral->tcb_info = std::move(*reparsed);

  DcapVerifyOptions o = trusting(TeeType::kTdx);
  o.collateral = std::make_shared<const Collateral>(std::move(*collateral));
  DcapVerification v = verify(*tdx_, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_NE(v.verdict.reason.find("FMSPC"), std::string::npos) << v.verdict.reason;
  EXPECT_EQ(v.claims["tcb_status"], "unknown");
}

TEST_F(DcapVerifySimulated, TamperedQeAuthenticationDataIsRejectedEvenWhenResigned) {
  // The QE report binds SHA-256(attestation key || auth data); changing the
  // auth data after the QE signed its report breaks the binding.
  Quote q = sim_->build_tdx_quote(TdQuoteInput{}).value();
  Bytes signed_quote = sim_->sign_quote(q).value();
  Quote parsed = parse_quote(signed_quote).value();
  parsed.sig.qe_auth_data.push_back(0x99);  // longer: sizes are recomputed
  Bytes tampered = serialize_quote(parsed).value();
  DcapVerification v = verify(tampered, trusting(TeeType::kTdx));
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason.rfind("QE report data does not bind the attestation key", 0), 0u)
      << v.verdict.reason;
}

TEST_F(DcapVerifySimulated, RevokedPckIsRejectedWithTheCrl) {
  DcapSimulatorOptions options;
  options.revoke_pck = true;
  auto revoked = DcapSimulator::create(options);
  ASSERT_TRUE(revoked) << revoked.error().to_string();
  const Bytes quote = revoked->tdx_quote(TdQuoteInput{}).value();
  DcapVerifyOptions o;
  o.root = revoked->root();
  EXPECT_TRUE(verify(quote, o).verdict);  // no CRL given: not checked
  o.crls = {revoked->root_crl(), revoked->pck_crl()};
  DcapVerification v = verify(quote, o);
  EXPECT_FALSE(v.verdict);
  EXPECT_NE(v.verdict.reason.find("revoked"), std::string::npos) << v.verdict.reason;
}

TEST_F(DcapVerifySimulated, CachesServeRepeatedQuotesAndNeverRejections) {
  DcapVerifyCache cache;
  DcapVerifyOptions o = trusting(TeeType::kTdx);
  o.cache = &cache;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(verify(*tdx_, o).verdict);
  EXPECT_EQ(cache.pck().size(), 1u);
  EXPECT_EQ(cache.collateral().size(), 1u);
  EXPECT_EQ(cache.pck().hits(), 2u);
  EXPECT_EQ(cache.collateral().hits(), 2u);

  // A cached chain does not make a tampered quote pass.
  Bytes bad = *tdx_;
  bad[100] ^= 1;
  EXPECT_FALSE(verify(bad, o).verdict);
  // Another root misses the cache and rejects.
  DcapVerifyOptions intel = o;
  intel.root.reset();
  EXPECT_FALSE(verify(*tdx_, intel).verdict);
  EXPECT_EQ(cache.pck().size(), 1u);
  // The same signatures over another body: a lookup by signature finds the
  // entry, the body comparison refuses it, and the signature check rejects.
  auto altered = std::make_shared<Collateral>(*o.collateral);
  altered->tcb_info.signed_body.replace(altered->tcb_info.signed_body.find("\"version\""), 1, " ");
  DcapVerifyOptions forged = o;
  forged.collateral = altered;
  DcapVerification v = verify(*tdx_, forged);
  EXPECT_FALSE(v.verdict);
  EXPECT_EQ(v.verdict.reason.rfind("collateral: TCB info signature", 0), 0u) << v.verdict.reason;
  // Past the collateral's and chain's windows, nothing is served from the cache.
  o.at = std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 40);
  EXPECT_FALSE(verify(*tdx_, o).verdict);
}

}  // namespace
}  // namespace concierge::evidence::dcap
