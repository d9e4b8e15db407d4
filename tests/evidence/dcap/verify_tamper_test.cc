// verify_dcap rejects a real quote with any signed byte changed: one bit flip
// in each region, each rejected by the check that covers it.
#include <gtest/gtest.h>

#include "concierge/core/time.h"
#include "concierge/evidence/dcap/verify.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using concierge::testing::read_file;

constexpr const char* kQuote = "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat";

DcapVerifyOptions options() {
  DcapVerifyOptions o;
  o.at = parse_rfc3339("2025-01-01T00:00:00Z").value();
  return o;
}

struct Region {
  const char* name;
  ByteRange QuoteLayout::*range;
  const char* reason;  // the start of the rejection
};

class DcapVerifyTamper : public ::testing::TestWithParam<Region> {};

TEST_P(DcapVerifyTamper, EveryBitFlipInARegionIsRejected) {
  CONCIERGE_REQUIRE_VECTOR(path, kQuote);
  const Bytes good = read_file(path);
  const Quote q = parse_quote(good).value();
  const Region r = GetParam();
  const ByteRange range = q.layout.*(r.range);
  ASSERT_GT(range.size, 0u);
  // First, last and a middle byte, each bit; more would only repeat the check.
  // The PCK chain is PEM text: its first bytes are the BEGIN line (a flip
  // there is malformed) and its last the NUL Intel QEs append (not signed),
  // so bytes inside the leaf's base64 are flipped instead.
  const bool pem = r.range == &QuoteLayout::certification_data;
  const std::size_t last = pem ? 300 : range.size - 1;
  for (std::size_t at : {pem ? std::size_t{100} : std::size_t{0}, range.size / 2, last}) {
    for (int bit = 0; bit < 8; bit += 3) {
      Bytes bad = good;
      bad[range.offset + at] ^= static_cast<std::uint8_t>(1u << bit);
      auto v = verify_dcap(bad, options());
      if (!v) continue;  // a flip that breaks the structure is malformed: fine
      EXPECT_FALSE(v->verdict) << r.name << " byte " << at << " bit " << bit;
      EXPECT_EQ(v->verdict.reason.rfind(r.reason, 0), 0u)
          << r.name << " byte " << at << ": " << v->verdict.reason;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Regions, DcapVerifyTamper,
    ::testing::Values(
        Region{"header and body", &QuoteLayout::signed_data, "quote signature does not verify"},
        Region{"signature", &QuoteLayout::signature, "quote signature does not verify"},
        Region{"attestation key", &QuoteLayout::attestation_key, "QE report data does not bind"},
        Region{"QE report", &QuoteLayout::qe_report, "QE report signature does not verify"},
        Region{"QE report signature", &QuoteLayout::qe_report_signature,
               "QE report signature does not verify"},
        Region{"QE authentication data", &QuoteLayout::qe_auth_data,
               "QE report data does not bind"},
        Region{"PCK chain", &QuoteLayout::certification_data, "PCK "}),
    [](const auto& param_info) {
      std::string name = param_info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(DcapVerifyTamperRoot, AnotherRootRejectsTheRealChain) {
  CONCIERGE_REQUIRE_VECTOR(path, kQuote);
  CONCIERGE_REQUIRE_VECTOR(test_root, "tdx/intel-qvl-sample/trustedRootCaCert.pem");
  const Bytes pem = read_file(test_root);
  DcapVerifyOptions o = options();
  o.root = Certificate::from_pem(as_chars(pem)).value();
  auto v = verify_dcap(read_file(path), o);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->verdict);
  EXPECT_EQ(v->verdict.reason.rfind("PCK chain: certificate chain rejected", 0), 0u)
      << v->verdict.reason;
}

}  // namespace
}  // namespace concierge::evidence::dcap
