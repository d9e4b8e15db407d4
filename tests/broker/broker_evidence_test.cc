// The negative cases of each evidence kind, through the key broker: a guest
// whose TPM quote or TD quote must not be trusted gets no secret, and the
// refusal says why.
#include <gtest/gtest.h>

#include "concierge/broker/broker.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/tpm/soft_quoter.h"
#include "concierge/verifier/binding.h"
#include "support/broker_harness.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
constexpr const char* kSecret = "tpm-guarded secret";
constexpr const char* kPath = "default/disk/key";

Bytes pcr_value(std::uint8_t fill) { return Bytes(32, fill); }

std::string ak_reference(const evidence::tpm::SoftQuoter& q) {
  const Bytes spki = q.ak().value().to_der().value();
  return "ak:" + hex_encode(digest(HashAlg::kSha256, spki).value());
}

// A TPM quote of PCR 0 (= `pcr0`) by `quoter`, bound to `runtime`.
Json tpm_evidence(const evidence::tpm::SoftQuoter& quoter, const Json& runtime, ByteView pcr0) {
  const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha256, 32).value();
  const std::map<unsigned, Bytes> pcrs = {{0, Bytes(pcr0.begin(), pcr0.end())}};
  const auto q = quoter.quote(HashAlg::kSha256, pcrs, rd).value();
  return {{"evidence", base64_encode(q.attest)},
          {"endorsements",
           {{"signature", base64_encode(q.signature)},
            {"ak", quoter.ak().value().to_pem().value()},
            {"pcrs", {{"sha256", {{"0", hex_encode(pcr0)}}}}}}}};
}

class TpmThroughTheBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.register_measurement = false;
    h = std::make_unique<BrokerHarness>(o);
    ASSERT_EQ(h->admin("PUT", std::string("/admin/v0/resources/") + kPath, kSecret).status, 200);
    const Json refs = {{"reference_values",
                        {{{"name", "tpm.ak"}, {"value", ak_reference(enrolled)}},
                         {{"name", "tpm.pcr0"}, {"value", hex_encode(pcr_value(0x11))}}}}};
    ASSERT_EQ(h->admin("POST", "/admin/v0/reference-values", refs.dump()).status, 200);
  }
  // attest then resource; returns the resource response (or attest's refusal).
  broker::HttpResponse exchange(const std::function<Json(const Json& runtime)>& evidence) {
    Guest g;
    EXPECT_EQ(g.auth(*h, "tpm").status, 200);
    const Json rt = g.runtime_data();
    const auto a = g.attest(*h, rt, evidence(rt));
    if (a.status != 200) return a;
    auto r = g.resource(*h, kPath);
    if (r.status == 200) released = g.decrypt(r);
    return r;
  }
  std::unique_ptr<BrokerHarness> h;
  evidence::tpm::SoftQuoter enrolled = evidence::tpm::SoftQuoter::create().value();
  std::string released;
};

TEST_F(TpmThroughTheBroker, AnEnrolledAkQuotingKnownPcrsGetsTheSecret) {
  const auto r =
      exchange([&](const Json& rt) { return tpm_evidence(enrolled, rt, pcr_value(0x11)); });
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(released, kSecret);
}

TEST_F(TpmThroughTheBroker, AnUnenrolledAkIsRefused) {
  const auto stranger = evidence::tpm::SoftQuoter::create().value();
  const auto r =
      exchange([&](const Json& rt) { return tpm_evidence(stranger, rt, pcr_value(0x11)); });
  EXPECT_TRUE(r.status == 401 || r.status == 403) << r.body;
  EXPECT_NE(problem_detail(r).find("tpm.ak"), std::string::npos) << r.body;
  EXPECT_TRUE(released.empty());
}

TEST_F(TpmThroughTheBroker, AnUnknownPcrIsRefused) {
  const auto r =
      exchange([&](const Json& rt) { return tpm_evidence(enrolled, rt, pcr_value(0x22)); });
  EXPECT_TRUE(r.status == 401 || r.status == 403) << r.body;
  EXPECT_NE(problem_detail(r).find("pcr0"), std::string::npos) << r.body;
  EXPECT_TRUE(released.empty());
}

TEST_F(TpmThroughTheBroker, PcrValuesThatAreNotTheQuotedOnesAreRefused) {
  const auto r = exchange([&](const Json& rt) {
    Json ev = tpm_evidence(enrolled, rt, pcr_value(0x22));                    // quote over 0x22...
    ev["endorsements"]["pcrs"]["sha256"]["0"] = hex_encode(pcr_value(0x11));  // ...claims 0x11
    return ev;
  });
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_TRUE(released.empty());
}

TEST_F(TpmThroughTheBroker, ASignatureByAnotherKeyIsRefused) {
  const auto other = evidence::tpm::SoftQuoter::create().value();
  const auto r = exchange([&](const Json& rt) {
    Json ev = tpm_evidence(enrolled, rt, pcr_value(0x11));
    ev["endorsements"]["signature"] =
        tpm_evidence(other, rt, pcr_value(0x11))["endorsements"]["signature"];
    return ev;
  });
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(problem_detail(r).find("evidence rejected"), std::string::npos) << r.body;
}

TEST_F(TpmThroughTheBroker, AQuoteOfAnotherNonceIsRefused) {
  const auto r = exchange([&](const Json& rt) {
    Json stale = rt;
    stale["nonce"] = "an earlier challenge";
    return tpm_evidence(enrolled, stale, pcr_value(0x11));
  });
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(problem_detail(r).find("bind"), std::string::npos) << r.body;
}

// Intel TDX: a simulated quoting enclave; its root is trusted only when
// configured, and its collateral decides the TCB status.
struct TdxPlatform {
  evidence::dcap::DcapSimulator sim = evidence::dcap::DcapSimulator::create().value();
  TempDir collateral;
  explicit TdxPlatform(evidence::dcap::TcbStatus status) {
    evidence::dcap::CollateralOptions o;
    o.tcb_status = status;
    EXPECT_TRUE(sim.write_collateral(collateral.path(), evidence::dcap::TeeType::kTdx, o));
  }
  Json evidence(const Json& runtime) const {
    evidence::dcap::TdQuoteInput input;
    const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha384, 64).value();
    std::copy(rd.begin(), rd.end(), input.report_data.begin());
    return {{"evidence", base64_encode(sim.tdx_quote(input).value())}};
  }
};

broker::HttpResponse tdx_exchange(BrokerHarness& h, const TdxPlatform& p,
                                  const std::function<void(Json&)>& tamper = nullptr) {
  EXPECT_EQ(h.admin("PUT", std::string("/admin/v0/resources/") + kPath, kSecret).status, 200);
  Guest g;
  EXPECT_EQ(g.auth(h, "tdx").status, 200);
  const Json rt = g.runtime_data();
  Json ev = p.evidence(rt);
  if (tamper) tamper(ev);
  const auto a = g.attest(h, rt, ev);
  if (a.status != 200) return a;
  return g.resource(h, kPath);
}

TEST(TdxThroughTheBroker, AnUntrustedRootIsRefused) {
  TdxPlatform p(evidence::dcap::TcbStatus::kUpToDate);
  HarnessOptions o;
  o.dcap_collateral_dir = p.collateral.path();  // but no intel_root: Intel's only
  BrokerHarness h(o);
  const auto r = tdx_exchange(h, p);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(problem_detail(r).find("evidence rejected"), std::string::npos) << r.body;
}

TEST(TdxThroughTheBroker, ATamperedQuoteIsRefused) {
  TdxPlatform p(evidence::dcap::TcbStatus::kUpToDate);
  HarnessOptions o;
  o.intel_root = p.sim.root();
  o.dcap_collateral_dir = p.collateral.path();
  BrokerHarness h(o);
  const auto r = tdx_exchange(h, p, [](Json& ev) {
    Bytes q = base64_decode(ev["evidence"].get<std::string>()).value();
    q[48 + 136] ^= 1;  // MRTD, inside the signed body
    ev["evidence"] = base64_encode(q);
  });
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST(TdxThroughTheBroker, AnOutOfDateTcbIsRefused) {
  TdxPlatform p(evidence::dcap::TcbStatus::kOutOfDate);
  HarnessOptions o;
  o.intel_root = p.sim.root();
  o.dcap_collateral_dir = p.collateral.path();
  BrokerHarness h(o);
  const auto r = tdx_exchange(h, p);
  EXPECT_TRUE(r.status == 401 || r.status == 403) << r.body;
  EXPECT_NE(r.body.find("OutOfDate"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace concierge::testing
