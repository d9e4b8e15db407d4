// verify_snp end to end: the real Milan report with its VCEK to AMD's built-in
// roots, and simulated reports under generated test roots.
#include "concierge/evidence/snp/verify.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "concierge/core/time.h"
#include "concierge/evidence/snp/simulator.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::read_file;
using concierge::testing::vector_path;

struct RealVector {
  Bytes report;
  Certificate vcek;
};

std::optional<RealVector> real_vector() {
  const auto report = vector_path("snp/go-sev-guest/attestation.bin");
  const auto vcek = vector_path("snp/go-sev-guest/vcek.der");
  if (report.empty() || vcek.empty()) return std::nullopt;
  auto cert = Certificate::from_der(read_file(vcek));
  if (!cert) return std::nullopt;
  return RealVector{read_file(report), *cert};
}

#define REQUIRE_REAL_VECTOR(var)                                                 \
  const auto var = real_vector();                                                \
  if (!var)                                                                      \
  GTEST_SKIP() << "snp/go-sev-guest/{attestation.bin,vcek.der} not found under " \
                  "CONCIERGE_VECTORS ("                                          \
               << concierge::testing::vectors_dir() << ")"

bool accepted(const Result<SnpVerification>& r) { return r && r->verdict.accepted; }

TEST(SnpVerify, RealMilanReportVerifiesToTheBuiltInArk) {
  REQUIRE_REAL_VECTOR(v);
  SnpVerifyOptions o;
  o.endorsement_key = v->vcek;
  auto r = verify_snp(v->report, o);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->verdict.accepted) << r->verdict.reason;
  EXPECT_EQ(r->product, Product::kMilan);
  EXPECT_EQ(r->claims["product"], "Milan");
  EXPECT_EQ(r->claims["signing_key"], "vcek");
  EXPECT_EQ(r->claims["verified"], true);
  EXPECT_EQ(r->claims["reported_tcb"]["microcode"], 0x44);
  EXPECT_EQ(r->claims["policy"]["debug"], true);
  EXPECT_TRUE(r->claims.contains("endorsement"));
}

TEST(SnpVerify, RealReportAsOfATimeAndWithExpectedReportData) {
  REQUIRE_REAL_VECTOR(v);
  SnpVerifyOptions o;
  o.endorsement_key = v->vcek;
  o.at = *parse_rfc3339("2023-06-01T00:00:00Z");
  o.expected_report_data = Bytes{1, 2, 3, 4, 5};
  auto r = verify_snp(v->report, o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  o.expected_report_data = Bytes{1, 2, 3, 4, 6};
  r = verify_snp(v->report, o);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("REPORT_DATA"), std::string::npos) << r->verdict.reason;
  // Before the VCEK existed (notBefore 2022-09-24), the chain does not verify.
  o.expected_report_data.reset();
  o.at = *parse_rfc3339("2021-01-01T00:00:00Z");
  r = verify_snp(v->report, o);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->verdict.accepted);
}

TEST(SnpVerify, EverySingleBitFlipIsRejected) {
  REQUIRE_REAL_VECTOR(v);
  AmdChainCache cache;
  SnpVerifyOptions o;
  o.endorsement_key = v->vcek;
  o.cache = &cache;
  ASSERT_TRUE(accepted(verify_snp(v->report, o)));
  // The signed area 0x000-0x29F and the signature's r and s (0x2A0-0x32F),
  // split over two threads (verify_snp and the cache are thread-safe).
  constexpr std::size_t kEnd = kSignatureOffset + 2 * kSignatureComponentSize;
  std::atomic<std::size_t> malformed{0}, rejected{0};
  std::mutex mu;
  std::vector<std::string> accepted_flips;
  auto flip_range = [&](std::size_t from, std::size_t to) {
    for (std::size_t byte = from; byte < to; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes flipped = v->report;
        flipped[byte] ^= static_cast<std::uint8_t>(1u << bit);
        auto r = verify_snp(flipped, o);
        if (accepted(r)) {
          std::lock_guard<std::mutex> lock(mu);
          accepted_flips.push_back("bit " + std::to_string(bit) + " of byte " +
                                   std::to_string(byte));
        }
        (r ? rejected : malformed) += 1;
      }
    }
  };
  std::thread half(flip_range, 0, kEnd / 2);
  flip_range(kEnd / 2, kEnd);
  half.join();
  EXPECT_TRUE(accepted_flips.empty())
      << accepted_flips.size() << " flips accepted, e.g. " << accepted_flips.front();
  // Both kinds occur: reserved fields make some flips malformed, the rest fail
  // the signature (or the VCEK match, for CHIP_ID and REPORTED_TCB).
  EXPECT_GT(malformed, 0u);
  EXPECT_GT(rejected, 4000u);
  EXPECT_EQ(cache.verifications(), 1u) << "the chain is verified once";
}

TEST(SnpVerify, WrongProductRootIsRejected) {
  REQUIRE_REAL_VECTOR(v);
  SnpVerifyOptions o;
  o.endorsement_key = v->vcek;
  o.trusted_roots = {*builtin_amd_root_set(Product::kGenoa)};
  auto r = verify_snp(v->report, o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_FALSE(r->verdict.reason.empty());
}

TEST(SnpVerify, NoEndorsementKeyIsAnError) {
  REQUIRE_REAL_VECTOR(v);
  auto r = verify_snp(v->report, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNotFound);
}

class SnpVerifySimulated : public ::testing::Test {
 protected:
  // Two independent platforms, made once per build of the test binary
  // (support/test_cache.h): these tests verify their evidence, not their making.
  static void SetUpTestSuite() {
    SimulatorOptions options;
    options.product = Product::kGenoa;
    options.vlek_csp_id = "example-cloud";
    sim_ = new SnpSimulator(concierge::testing::cached_snp_simulator(options));
    SimulatorOptions other;
    other.product = Product::kGenoa;
    other_ = new SnpSimulator(concierge::testing::cached_snp_simulator(other, "other"));
  }
  static void TearDownTestSuite() {
    delete sim_;
    delete other_;
  }

  static SnpVerifyOptions trusting(const SnpSimulator& sim, SigningKey key = SigningKey::kVcek) {
    SnpVerifyOptions o;
    o.trusted_roots = {*sim.root_set()};
    o.cert_table = *parse_cert_table(*sim.cert_table(key));
    return o;
  }

  static SnpSimulator* sim_;
  static SnpSimulator* other_;
};
SnpSimulator* SnpVerifySimulated::sim_ = nullptr;
SnpSimulator* SnpVerifySimulated::other_ = nullptr;

TEST_F(SnpVerifySimulated, AcceptedOnlyWhenItsRootIsConfigured) {
  for (std::uint32_t version : {2u, 3u, 5u}) {
    ReportRequest req;
    req.version = version;
    req.measurement.fill(0xAB);
    auto report = sim_->issue(req);
    ASSERT_TRUE(report) << report.error().to_string();
    SnpVerifyOptions o = trusting(*sim_);
    auto r = verify_snp(*report, o);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->verdict.accepted) << "v" << version << ": " << r->verdict.reason;
    EXPECT_EQ(r->product, Product::kGenoa);
    // By default only AMD's roots are trusted: an unknown root.
    o.trusted_roots.clear();
    r = verify_snp(*report, o);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_FALSE(r->verdict.accepted) << "simulated evidence accepted under AMD's roots";
  }
}

TEST_F(SnpVerifySimulated, VlekReportsCarryTheCspId) {
  ReportRequest req;
  req.signing_key = SigningKey::kVlek;
  auto report = sim_->issue(req);
  ASSERT_TRUE(report) << report.error().to_string();
  auto r = verify_snp(*report, trusting(*sim_, SigningKey::kVlek));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->verdict.accepted) << r->verdict.reason;
  EXPECT_EQ(r->claims["signing_key"], "vlek");
  EXPECT_EQ(r->claims["csp_id"], "example-cloud");
  // A VLEK-signed report with only the VCEK available is not verifiable.
  SnpVerifyOptions vcek_only = trusting(*sim_, SigningKey::kVcek);
  auto missing = verify_snp(*report, vcek_only);
  EXPECT_FALSE(accepted(missing));
}

TEST_F(SnpVerifySimulated, AnotherChipsVcekIsRejected) {
  auto report = sim_->issue({});
  ASSERT_TRUE(report);
  SnpVerifyOptions o = trusting(*sim_);
  o.cert_table.clear();
  o.endorsement_key = other_->vcek();  // genuine, under its own (trusted) roots
  o.trusted_roots = {*other_->root_set()};
  auto r = verify_snp(*report, o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("hwID"), std::string::npos) << r->verdict.reason;
}

TEST_F(SnpVerifySimulated, ReportedTcbOtherThanTheVcekIsRejected) {
  ReportRequest req;
  TcbVersion tcb = sim_->tcb();
  tcb.microcode = static_cast<std::uint8_t>(tcb.microcode + 1);
  req.reported_tcb = encode_tcb(tcb, Product::kGenoa);
  auto report = sim_->issue(req);
  ASSERT_TRUE(report);
  auto r = verify_snp(*report, trusting(*sim_));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("ucodeSPL"), std::string::npos) << r->verdict.reason;
}

TEST_F(SnpVerifySimulated, MaskedChipIdSkipsTheHwIdCheck) {
  ReportRequest req;
  req.mask_chip_id = true;
  auto report = sim_->issue(req);
  ASSERT_TRUE(report);
  auto r = verify_snp(*report, trusting(*sim_));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  EXPECT_EQ(r->claims["chip_id"], std::string(128, '0'));
}

TEST_F(SnpVerifySimulated, MaskedChipKeyIsAnUnsignedReport) {
  ReportRequest req;
  req.mask_chip_key = true;
  auto report = sim_->issue(req);
  ASSERT_TRUE(report);
  auto r = verify_snp(*report, trusting(*sim_));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("MASK_CHIP_KEY"), std::string::npos) << r->verdict.reason;
}

TEST_F(SnpVerifySimulated, TamperedReportSignedByAnotherKeyIsRejected) {
  auto model = sim_->build_report({});
  ASSERT_TRUE(model);
  model->measurement.fill(0x66);
  auto forged = other_->sign(*model);  // the other chip's VCEK signs it
  ASSERT_TRUE(forged);
  auto r = verify_snp(*forged, trusting(*sim_));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_NE(r->verdict.reason.find("signature"), std::string::npos) << r->verdict.reason;
}

TEST_F(SnpVerifySimulated, ChainIsVerifiedOncePerVcek) {
  AmdChainCache cache;
  SnpVerifyOptions o = trusting(*sim_);
  o.cache = &cache;
  for (int i = 0; i < 5; ++i) {
    ReportRequest req;
    req.report_data[0] = static_cast<std::uint8_t>(i);
    auto report = sim_->issue(req);
    ASSERT_TRUE(report);
    EXPECT_TRUE(accepted(verify_snp(*report, o)));
  }
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 4u);
}

}  // namespace
}  // namespace concierge::evidence::snp
