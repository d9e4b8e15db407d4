// PCK and TCB Signing chains: a real TDX quote's chain under the built-in
// Intel root (with Intel's CRLs of the time), Intel's synthetic samples under
// Intel's test root, and a synthetic Intel-shaped hierarchy (test PKI, P-256)
// for CA kinds, names, revocation, "as of" times, foreign roots and the cache.
#include "concierge/evidence/dcap/pck_chain.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using concierge::testing::CertOptions;
using concierge::testing::Issued;
using std::chrono::hours;

std::string read_text(const std::filesystem::path& p) {
  return std::string(as_chars(concierge::testing::read_file(p)));
}

TimePoint at(const char* rfc3339) { return parse_rfc3339(rfc3339).value(); }

ChainOptions as_of(TimePoint t, std::vector<Crl> crls = {}) {
  ChainOptions o;
  o.at = t;
  o.crls = std::move(crls);
  return o;
}

Crl crl_file(const std::filesystem::path& p) {
  return Crl::from_der(concierge::testing::read_file(p)).value();
}

// ---- a minimal valid SGX extension (DER), for synthetic PCK leaves ----

Bytes tlv(std::uint8_t tag, const Bytes& content) {
  const std::size_t n = content.size();
  const std::size_t head = n < 0x80 ? 2 : (n < 0x100 ? 3 : 4);
  Bytes out(head + n);
  out[0] = tag;
  if (head == 2) {
    out[1] = static_cast<std::uint8_t>(n);
  } else if (head == 3) {
    out[1] = 0x81;
    out[2] = static_cast<std::uint8_t>(n);
  } else {
    out[1] = 0x82;
    out[2] = static_cast<std::uint8_t>(n >> 8);
    out[3] = static_cast<std::uint8_t>(n);
  }
  std::copy(content.begin(), content.end(), out.begin() + static_cast<long>(head));
  return out;
}
Bytes seq(const std::vector<Bytes>& items) {
  Bytes all;
  for (const Bytes& b : items) {
    const std::size_t at = all.size();
    all.resize(at + b.size());
    std::copy(b.begin(), b.end(), all.begin() + static_cast<long>(at));
  }
  return tlv(0x30, all);
}
Bytes entry(std::vector<std::uint8_t> arcs, const Bytes& value) {
  Bytes oid{0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
  for (std::uint8_t a : arcs) {
    oid.resize(oid.size() + 1);
    oid.back() = a;
  }
  return seq({tlv(0x06, oid), value});
}
Bytes sgx_extension(std::uint8_t fmspc_last) {
  std::vector<Bytes> tcb;
  for (std::uint8_t i = 1; i <= 16; ++i) tcb.push_back(entry({2, i}, Bytes{0x02, 0x01, i}));
  tcb.push_back(entry({2, 17}, Bytes{0x02, 0x01, 0x0D}));
  tcb.push_back(entry({2, 18}, tlv(0x04, Bytes(16, 1))));
  return seq({entry({1}, tlv(0x04, Bytes(16, 0x11))), entry({2}, seq(tcb)),
              entry({3}, tlv(0x04, Bytes(2, 0))),
              entry({4}, tlv(0x04, Bytes{0, 0x90, 0x6E, 0xA1, 0, fmspc_last})),
              entry({5}, Bytes{0x0A, 0x01, 0x00})});
}

// ---- an Intel-shaped test hierarchy ----

CertOptions named(const std::string& cn) {
  CertOptions o;
  o.common_name = cn;
  o.validity = concierge::testing::valid_for(-hours(24 * 365), hours(24 * 365));
  return o;
}

struct FakeIntel {
  FakeIntel()
      : root(concierge::testing::make_root(named("Intel SGX Root CA"))),
        platform(concierge::testing::make_intermediate(root, named("Intel SGX PCK Platform CA"))),
        processor(concierge::testing::make_intermediate(root, named("Intel SGX PCK Processor CA"))),
        tcb_signing(concierge::testing::make_leaf(root, named("Intel SGX TCB Signing"))) {}

  Issued pck(const Issued& ca, CertOptions o = named("Intel SGX PCK Certificate")) const {
    if (o.extensions.empty()) o.extensions.push_back({"1.2.840.113741.1.13.1", sgx_extension(7)});
    return concierge::testing::make_leaf(ca, o);
  }

  Issued root;
  Issued platform;
  Issued processor;
  Issued tcb_signing;
};

const FakeIntel& fake() {
  static const FakeIntel f;
  return f;
}

PckChainVerdict check(const std::vector<Certificate>& certs, const Certificate& root,
                      const ChainOptions& options = {}) {
  auto r = verify_pck_chain(certs, root, options);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return r.has_value() ? std::move(r).value() : PckChainVerdict{};
}

// ---- the real TDX quote ----

std::string quote_chain(const std::filesystem::path& quote) {
  const std::string bytes = read_text(quote);
  const std::string end_line = "-----END CERTIFICATE-----";
  const std::size_t begin = bytes.find("-----BEGIN CERTIFICATE-----");
  const std::size_t end = bytes.rfind(end_line);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return bytes.substr(begin, end + end_line.size() - begin);
}

TEST(DcapPckChain, RealTdxQuoteChainVerifiesToBuiltinRoot) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  const std::string pem = quote_chain(quote);
  ASSERT_FALSE(pem.empty());
  // Inside every validity (leaf 2022-09-20 .. 2029-09-20).
  auto r = verify_pck_chain_pem(pem, intel_sgx_root_ca(), as_of(at("2023-06-20T00:00:00Z")));
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->accepted) << r->reason;
  EXPECT_EQ(r->ca, PckCa::kPlatform);
  EXPECT_EQ(pck_ca_name(*r->ca), "platform");
  ASSERT_EQ(r->chain.size(), 3u);
  EXPECT_EQ(r->chain[2].der(), intel_sgx_root_ca().der());
  EXPECT_EQ(hex_encode(r->extension.fmspc), "50806f000000");
  EXPECT_EQ(r->extension.sgx_type, SgxType::kScalable);

  // The default root is the built-in one.
  auto d = verify_pck_chain_pem(pem, intel_sgx_root_ca(), as_of(at("2024-01-01T00:00:00Z")));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->accepted) << d->reason;
  // Before the leaf was issued.
  auto early = verify_pck_chain_pem(pem, intel_sgx_root_ca(), as_of(at("2022-01-01T00:00:00Z")));
  ASSERT_TRUE(early.has_value());
  EXPECT_FALSE(early->accepted);
  EXPECT_NE(early->reason.find("not yet valid"), std::string::npos) << early->reason;
}

TEST(DcapPckChain, RealTdxQuoteChainWithIntelsCrls) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  CONCIERGE_REQUIRE_VECTOR(root_crl, "tdx/go-tdx-guest/rootcrl.der");
  CONCIERGE_REQUIRE_VECTOR(pck_crl, "tdx/go-tdx-guest/pckcrl");
  const std::string pem = quote_chain(quote);
  // Both CRLs are DER: the root CRL (2023-04-03 .. 2024-04-02, empty) and the
  // Platform CA's PCK CRL (2023-06-08 .. 2023-07-08, 44 entries, not this leaf).
  std::vector<Crl> crls{crl_file(root_crl), crl_file(pck_crl)};
  ChainOptions o = as_of(at("2023-06-20T00:00:00Z"), crls);
  o.require_crl_for_every_ca = true;
  auto r = verify_pck_chain_pem(pem, intel_sgx_root_ca(), o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->accepted) << r->reason;

  // After the PCK CRL's nextUpdate the CRL is stale: rejected.
  auto stale =
      verify_pck_chain_pem(pem, intel_sgx_root_ca(), as_of(at("2023-08-01T00:00:00Z"), crls));
  ASSERT_TRUE(stale.has_value());
  EXPECT_FALSE(stale->accepted);
  EXPECT_NE(stale->reason.find("CRL"), std::string::npos) << stale->reason;
}

TEST(DcapPckChain, RealTdxQuoteChainRejectedUnderIntelsTestRoot) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  CONCIERGE_REQUIRE_VECTOR(test_root, "tdx/intel-qvl-sample/trustedRootCaCert.pem");
  auto r =
      verify_pck_chain_pem(quote_chain(quote), Certificate::from_pem(read_text(test_root)).value(),
                           as_of(at("2023-06-20T00:00:00Z")));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->accepted);
  EXPECT_TRUE(r->chain.empty());
  EXPECT_FALSE(r->ca.has_value());
  EXPECT_EQ(hex_encode(r->extension.fmspc), "50806f000000");  // parsed regardless
}

// ---- Intel's samples (Intel's test root) ----

TEST(DcapPckChain, IntelSamplesVerifyUnderTheTestRootOnly) {
  for (const std::string dir : {"sgx/intel-qvl-sample/", "tdx/intel-qvl-sample/"}) {
    SCOPED_TRACE(dir);
    CONCIERGE_REQUIRE_VECTOR(leaf, dir + "pckCert.pem");
    CONCIERGE_REQUIRE_VECTOR(chain, dir + "pckSignChain.pem");
    CONCIERGE_REQUIRE_VECTOR(root, dir + "trustedRootCaCert.pem");
    CONCIERGE_REQUIRE_VECTOR(root_crl, dir + "rootCaCrl.der");
    CONCIERGE_REQUIRE_VECTOR(ca_crl, dir + "intermediateCaCrl.der");
    const std::string bundle = read_text(leaf) + read_text(chain);
    const Certificate test_root = Certificate::from_pem(read_text(root)).value();
    ChainOptions o = as_of(at("2024-01-01T00:00:00Z"), {crl_file(root_crl), crl_file(ca_crl)});
    o.require_crl_for_every_ca = true;

    auto ok = verify_pck_chain_pem(bundle, test_root, o);
    ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
    EXPECT_TRUE(ok->accepted) << ok->reason;
    EXPECT_EQ(ok->ca, PckCa::kProcessor);
    EXPECT_EQ(ok->extension.sgx_type, SgxType::kStandard);

    auto real = verify_pck_chain_pem(bundle, intel_sgx_root_ca(), o);
    ASSERT_TRUE(real.has_value());
    EXPECT_FALSE(real->accepted);
    EXPECT_NE(real->reason.find("PCK chain"), std::string::npos) << real->reason;
  }
}

TEST(DcapPckChain, IntelSampleTcbSigningChains) {
  for (const std::string dir : {"sgx/intel-qvl-sample/", "tdx/intel-qvl-sample/"}) {
    SCOPED_TRACE(dir);
    CONCIERGE_REQUIRE_VECTOR(chain, dir + "tcbSignChain.pem");
    CONCIERGE_REQUIRE_VECTOR(root, dir + "trustedRootCaCert.pem");
    CONCIERGE_REQUIRE_VECTOR(root_crl, dir + "rootCaCrl.der");
    const Certificate test_root = Certificate::from_pem(read_text(root)).value();
    // The TDX sample puts the root first: the leaf is found anyway.
    auto ok = verify_tcb_signing_chain(read_text(chain), test_root,
                                       as_of(at("2024-01-01T00:00:00Z"), {crl_file(root_crl)}));
    ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
    EXPECT_TRUE(ok->accepted) << ok->reason;
    ASSERT_TRUE(ok->key.has_value());
    EXPECT_EQ(ok->key->curve(), EcCurve::kP256);
    ASSERT_EQ(ok->chain.size(), 2u);
    EXPECT_NE(ok->chain[0].subject().find("Intel SGX TCB Signing"), std::string::npos);

    auto real = verify_tcb_signing_chain(read_text(chain), intel_sgx_root_ca(),
                                         as_of(at("2024-01-01T00:00:00Z")));
    ASSERT_TRUE(real.has_value());
    EXPECT_FALSE(real->accepted);
    EXPECT_FALSE(real->key.has_value());
  }
}

// ---- synthetic ----

TEST(DcapPckChain, SyntheticPlatformAndProcessorChains) {
  const FakeIntel& f = fake();
  for (const Issued* ca : {&f.platform, &f.processor}) {
    const Issued pck = f.pck(*ca);
    // Leaf first; the supplied root copy is ignored, the trusted one anchors.
    const PckChainVerdict v = check({pck.cert, f.root.cert, ca->cert}, f.root.cert);
    EXPECT_TRUE(v.accepted) << v.reason;
    EXPECT_EQ(v.ca, ca == &f.platform ? PckCa::kPlatform : PckCa::kProcessor);
    ASSERT_EQ(v.chain.size(), 3u);
    EXPECT_EQ(v.chain[1].der(), ca->cert.der());
    EXPECT_EQ(hex_encode(v.extension.fmspc), "00906ea10007");
  }
  // The same through PEM.
  const Issued pck = f.pck(f.platform);
  auto r = verify_pck_chain_pem(
      concierge::testing::to_pem(pck.cert) + concierge::testing::to_pem(f.platform.cert),
      f.root.cert);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->accepted) << r->reason;
}

TEST(DcapPckChain, SyntheticWrongRootAndSuppliedRootIgnored) {
  const FakeIntel& f = fake();
  const Issued pck = f.pck(f.platform);
  // A different root with the same name.
  const Issued other = concierge::testing::make_root(named("Intel SGX Root CA"));
  PckChainVerdict v = check({pck.cert, f.platform.cert, f.root.cert}, other.cert);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(v.chain.empty());
  // The real Intel root does not anchor a test chain either.
  v = check({pck.cert, f.platform.cert, f.root.cert}, intel_sgx_root_ca());
  EXPECT_FALSE(v.accepted);
  // An attacker's hierarchy supplying its own root: the trusted root decides.
  const Issued evil_root = concierge::testing::make_root(named("Intel SGX Root CA"));
  const Issued evil_ca =
      concierge::testing::make_intermediate(evil_root, named("Intel SGX PCK Platform CA"));
  const Issued evil_pck = f.pck(evil_ca);
  v = check({evil_pck.cert, evil_ca.cert, evil_root.cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
}

TEST(DcapPckChain, SyntheticNamesAndShapeAreChecked) {
  const FakeIntel& f = fake();
  // Leaf CN.
  PckChainVerdict v =
      check({f.pck(f.platform, named("Some Leaf")).cert, f.platform.cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("Intel SGX PCK Certificate"), std::string::npos) << v.reason;
  // Issuer CN.
  const Issued odd_ca = concierge::testing::make_intermediate(f.root, named("Intel SGX Other CA"));
  v = check({f.pck(odd_ca).cert, odd_ca.cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("is neither"), std::string::npos) << v.reason;
  // An extra level: root -> platform -> sub -> leaf.
  const Issued sub =
      concierge::testing::make_intermediate(f.platform, named("Intel SGX PCK Platform CA"));
  v = check({f.pck(sub).cert, sub.cert, f.platform.cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("leaf, CA, root"), std::string::npos) << v.reason;
  // The intermediate missing from the bundle.
  v = check({f.pck(f.platform).cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
}

TEST(DcapPckChain, SyntheticErrors) {
  const FakeIntel& f = fake();
  auto empty = verify_pck_chain({}, f.root.cert);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
  // Not a PCK certificate (no SGX extension).
  auto plain = verify_pck_chain({f.platform.cert}, f.root.cert);
  ASSERT_FALSE(plain.has_value());
  EXPECT_EQ(plain.error().code, Errc::kNotFound);
  // Malformed extension: an Error, whatever the chain.
  CertOptions o = named("Intel SGX PCK Certificate");
  o.extensions.push_back({"1.2.840.113741.1.13.1", Bytes{0x30, 0x00}});
  auto bad = verify_pck_chain({f.pck(f.platform, o).cert, f.platform.cert}, f.root.cert);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kMalformed);
  EXPECT_EQ(bad.error().field, "PPID");
  // Bad PEM.
  auto pem = verify_pck_chain_pem("no certificates here", f.root.cert);
  ASSERT_FALSE(pem.has_value());
  EXPECT_EQ(pem.error().code, Errc::kMalformed);
}

TEST(DcapPckChain, SyntheticRevokedPck) {
  const FakeIntel& f = fake();
  const Issued pck = f.pck(f.processor);
  const Issued other = f.pck(f.processor);
  const Crl pck_crl =
      concierge::testing::make_crl(f.processor, {concierge::testing::serial_of(pck.cert)});
  const Crl root_crl = concierge::testing::make_crl(f.root, {});
  ChainOptions o;
  o.crls = {root_crl, pck_crl};
  PckChainVerdict v = check({pck.cert, f.processor.cert}, f.root.cert, o);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("revoked"), std::string::npos) << v.reason;
  v = check({other.cert, f.processor.cert}, f.root.cert, o);
  EXPECT_TRUE(v.accepted) << v.reason;
  // The CA revoked by the root CRL.
  const Crl root_revokes =
      concierge::testing::make_crl(f.root, {concierge::testing::serial_of(f.processor.cert)});
  o.crls = {root_revokes, pck_crl};
  v = check({other.cert, f.processor.cert}, f.root.cert, o);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("revoked"), std::string::npos) << v.reason;
}

TEST(DcapPckChain, SyntheticExpiredChainAcceptedAsOfInsideValidity) {
  const FakeIntel& f = fake();
  CertOptions o = named("Intel SGX PCK Certificate");
  o.validity = concierge::testing::valid_for(-hours(24 * 60), -hours(24 * 30));
  const Issued old = f.pck(f.platform, o);
  PckChainVerdict v = check({old.cert, f.platform.cert}, f.root.cert);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("expired"), std::string::npos) << v.reason;
  v = check({old.cert, f.platform.cert}, f.root.cert,
            as_of(std::chrono::system_clock::now() - hours(24 * 45)));
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(DcapPckChain, SyntheticTcbSigningChain) {
  const FakeIntel& f = fake();
  const std::string good =
      concierge::testing::to_pem(f.tcb_signing.cert) + concierge::testing::to_pem(f.root.cert);
  auto ok = verify_tcb_signing_chain(good, f.root.cert);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_TRUE(ok->accepted) << ok->reason;
  ASSERT_TRUE(ok->key.has_value());
  EXPECT_EQ(ok->key->to_pem().value(), f.tcb_signing.cert.public_key()->to_pem().value());

  // A PCK CA is not a TCB Signing certificate.
  auto wrong = verify_tcb_signing_chain(concierge::testing::to_pem(f.platform.cert), f.root.cert);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(wrong->accepted);
  EXPECT_NE(wrong->reason.find("Intel SGX TCB Signing"), std::string::npos) << wrong->reason;
  // Another root.
  auto foreign = verify_tcb_signing_chain(good, intel_sgx_root_ca());
  ASSERT_TRUE(foreign.has_value());
  EXPECT_FALSE(foreign->accepted);
  // Only a root: nothing to verify.
  auto only_root = verify_tcb_signing_chain(concierge::testing::to_pem(f.root.cert), f.root.cert);
  ASSERT_FALSE(only_root.has_value());
  EXPECT_EQ(only_root.error().code, Errc::kMalformed);
}

TEST(DcapPckChain, CacheHitsMissesAndKeys) {
  const FakeIntel& f = fake();
  const Issued pck = f.pck(f.platform);
  const std::vector<Certificate> certs{pck.cert, f.platform.cert};
  PckChainCache cache;

  auto first = cache.verify(certs, f.root.cert);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->accepted);
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  auto second = cache.verify(certs, f.root.cert);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->accepted);
  EXPECT_EQ(second->ca, PckCa::kPlatform);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  // The leaf alone hits too: supplied intermediates are not in the key.
  auto leaf_only = cache.verify({pck.cert}, f.root.cert);
  ASSERT_TRUE(leaf_only.has_value());
  EXPECT_TRUE(leaf_only->accepted);
  EXPECT_EQ(cache.hits(), 2u);

  // Another root: a miss, and a rejection that is not stored.
  auto other = cache.verify(certs, intel_sgx_root_ca());
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->accepted);
  EXPECT_EQ(cache.verifications(), 2u);
  EXPECT_EQ(cache.size(), 1u);

  // With a CRL: another key; a revoked leaf is rejected though the CRL-less
  // entry is cached.
  ChainOptions o;
  o.crls = {concierge::testing::make_crl(f.platform, {concierge::testing::serial_of(pck.cert)})};
  auto revoked = cache.verify(certs, f.root.cert, o);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_FALSE(revoked->accepted);
  EXPECT_EQ(cache.verifications(), 3u);

  // A time outside the entry's window verifies again (and is rejected).
  auto late =
      cache.verify(certs, f.root.cert, as_of(std::chrono::system_clock::now() + hours(24 * 400)));
  ASSERT_TRUE(late.has_value());
  EXPECT_FALSE(late->accepted);
  EXPECT_EQ(cache.verifications(), 4u);

  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  auto again = cache.verify(certs, f.root.cert);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(cache.verifications(), 5u);
}

TEST(DcapPckChain, CacheCapacity) {
  const FakeIntel& f = fake();
  PckChainCache cache(2);
  for (int i = 0; i < 4; ++i) {
    auto r = cache.verify({f.pck(f.processor).cert, f.processor.cert}, f.root.cert);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->accepted);
  }
  EXPECT_EQ(cache.size(), 2u);
  PckChainCache none(0);
  ASSERT_TRUE(none.verify({f.pck(f.processor).cert, f.processor.cert}, f.root.cert).has_value());
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace concierge::evidence::dcap
