// VCEK/VLEK chains: the real Milan VCEK against the built-in roots, and
// synthetic AMD-shaped hierarchies (test PKI, P-256) for product selection,
// VLEK via ASVK, validity "as of", CRLs and the chain cache.
#include "concierge/evidence/snp/amd_chain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::CertOptions;
using concierge::testing::CustomExtension;
using concierge::testing::Issued;
using std::chrono::hours;

// ---- an AMD-shaped test hierarchy ----

Bytes der_int(unsigned v) {
  if (v < 0x80) return {0x02, 0x01, static_cast<std::uint8_t>(v)};
  return {0x02, 0x02, 0x00, static_cast<std::uint8_t>(v)};
}
Bytes der_tagged(std::uint8_t tag, ByteView value) {
  Bytes out(2 + value.size());
  out[0] = tag;
  out[1] = static_cast<std::uint8_t>(value.size());
  std::copy(value.begin(), value.end(), out.begin() + 2);
  return out;
}

std::vector<CustomExtension> amd_extensions(const std::string& product, bool vlek) {
  std::vector<CustomExtension> e{
      {std::string(kOidStructVersion), der_int(1)},
      {std::string(kOidProductName), der_tagged(0x16, as_bytes(product))},
      {std::string(kOidBlSpl), der_int(3)},
      {std::string(kOidTeeSpl), der_int(0)},
      {std::string(kOidSnpSpl), der_int(8)},
      {std::string(kOidUcodeSpl), der_int(209)},
  };
  if (vlek) {
    e.push_back({std::string(kOidCspId), der_tagged(0x16, as_bytes(std::string("ExampleCloud")))});
  } else {
    e.push_back({std::string(kOidHwId), Bytes(64, 0x5A)});  // raw, as the KDS writes it
  }
  return e;
}

CertOptions named(const std::string& cn) {
  CertOptions o;
  o.common_name = cn;
  return o;
}

// CA certificates valid for a year either side of now, so that leaves can be
// checked "as of" a past time.
CertOptions ca_named(const std::string& cn) {
  CertOptions o = named(cn);
  o.validity = concierge::testing::valid_for(-hours(24 * 365), hours(24 * 365));
  return o;
}

struct FakeAmd {
  explicit FakeAmd(const std::string& name)
      : product_name(name),
        ark(concierge::testing::make_root(ca_named("ARK-" + name))),
        ask(concierge::testing::make_intermediate(ark, ca_named("SEV-" + name))),
        asvk(concierge::testing::make_intermediate(ark, ca_named("SEV-VLEK-" + name))) {}

  Certificate vcek(CertOptions o = {}) const {
    if (o.common_name.empty()) o.common_name = "SEV-VCEK";
    if (o.extensions.empty()) o.extensions = amd_extensions(product_name + "-B0", false);
    return concierge::testing::make_leaf(ask, o).cert;
  }
  Certificate vlek(const Issued& issuer) const {
    CertOptions o = named("SEV-VLEK");
    o.extensions = amd_extensions(product_name + "-B0", true);
    return concierge::testing::make_leaf(issuer, o).cert;
  }
  AmdRootSet set(Product product, bool with_asvk = true) const {
    return make_amd_root_set(product, ark.cert, ask.cert,
                             with_asvk ? std::optional<Certificate>(asvk.cert) : std::nullopt)
        .value();
  }

  std::string product_name;
  Issued ark;
  Issued ask;
  Issued asvk;
};

const FakeAmd& milan() {
  static const FakeAmd f("Milan");
  return f;
}
const FakeAmd& genoa() {
  static const FakeAmd f("Genoa");
  return f;
}
std::vector<AmdRootSet> test_roots() {
  return {milan().set(Product::kMilan), genoa().set(Product::kGenoa)};
}

AmdChainVerdict check(const Certificate& leaf, Product product,
                      const std::vector<AmdRootSet>& roots = test_roots(),
                      const ChainOptions& options = {},
                      const std::vector<Certificate>& supplied = {}) {
  auto r = verify_amd_chain(leaf, supplied, roots, product, options);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return r.has_value() ? std::move(r).value() : AmdChainVerdict{};
}

// ---- real data ----

Certificate real_vcek() {
  const auto path = concierge::testing::vector_path("snp/go-sev-guest/vcek.der");
  return Certificate::from_der(concierge::testing::read_file(path)).value();
}

#define REQUIRE_REAL_VCEK()                                                       \
  if (concierge::testing::vector_path("snp/go-sev-guest/vcek.der").empty())       \
  GTEST_SKIP() << "snp/go-sev-guest/vcek.der not found under CONCIERGE_VECTORS (" \
               << concierge::testing::vectors_dir() << ")"

TEST(SnpAmdChain, RealMilanVcekChainsToBuiltinMilanRoots) {
  REQUIRE_REAL_VCEK();
  const Certificate vcek = real_vcek();
  ChainOptions at;
  at.at = vcek.not_before() + hours(24 * 365);  // Sep 2023, inside every validity
  for (Product hint : {Product::kMilan, Product::kUnknown}) {
    const AmdChainVerdict v = check(vcek, hint, builtin_amd_roots(), at);
    EXPECT_TRUE(v.accepted) << v.reason;
    EXPECT_EQ(v.product, Product::kMilan);
    EXPECT_EQ(v.kind, SigningKey::kVcek);
    EXPECT_EQ(v.info.product_name, "Milan-B0");
    ASSERT_EQ(v.chain.size(), 3u);
    EXPECT_EQ(v.chain[0].der(), vcek.der());
    EXPECT_EQ(v.chain[1].der(), builtin_amd_root_set(Product::kMilan)->ask.der());
    EXPECT_EQ(v.chain[2].der(), builtin_amd_root_set(Product::kMilan)->ark.der());
  }
  // Without `at` (now): valid until 2029.
  if (std::chrono::system_clock::now() < vcek.not_after()) {
    EXPECT_TRUE(check(vcek, Product::kMilan, builtin_amd_roots()).accepted);
  }
}

TEST(SnpAmdChain, RealMilanVcekIsRejectedForGenoa) {
  REQUIRE_REAL_VCEK();
  const Certificate vcek = real_vcek();
  ChainOptions at;
  at.at = vcek.not_before() + hours(24 * 365);
  AmdChainVerdict v = check(vcek, Product::kGenoa, builtin_amd_roots(), at);
  EXPECT_FALSE(v.accepted);
  EXPECT_TRUE(v.chain.empty());
  EXPECT_EQ(v.reason.find("VCEK (productName Milan-B0) is for Milan but the product is Genoa: "
                          "it does not chain to the Genoa ARK ("),
            0u)
      << v.reason;

  // Only Genoa's roots trusted, product to be inferred.
  v = check(vcek, Product::kUnknown, {*builtin_amd_root_set(Product::kGenoa)}, at);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("does not chain to any trusted AMD ARK (tried Genoa)"), std::string::npos)
      << v.reason;
}

TEST(SnpAmdChain, RealVcekIgnoresSuppliedRootCopies) {
  REQUIRE_REAL_VCEK();
  const Certificate vcek = real_vcek();
  ChainOptions at;
  at.at = vcek.not_before() + hours(24 * 365);
  // A table may carry any ASK/ARK: a wrong ASK, a test ARK named ARK-Milan.
  const std::vector<Certificate> supplied = {builtin_amd_root_set(Product::kGenoa)->ask,
                                             milan().ark.cert, milan().ask.cert};
  AmdChainVerdict v = check(vcek, Product::kMilan, builtin_amd_roots(), at, supplied);
  EXPECT_TRUE(v.accepted) << v.reason;
  // And test roots never anchor a real VCEK.
  v = check(vcek, Product::kMilan, test_roots(), at, {builtin_amd_root_set(Product::kMilan)->ask});
  EXPECT_FALSE(v.accepted);
}

TEST(SnpAmdChain, RealVcekBeforeItsValidityIsRejected) {
  REQUIRE_REAL_VCEK();
  const Certificate vcek = real_vcek();
  ChainOptions at;
  at.at = vcek.not_before() - hours(1);
  const AmdChainVerdict v = check(vcek, Product::kMilan, builtin_amd_roots(), at);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("certificate is not yet valid"), std::string::npos) << v.reason;
}

// ---- synthetic ----

TEST(SnpAmdChain, SyntheticVcekAndProductInference) {
  const Certificate vcek = milan().vcek();
  AmdChainVerdict v = check(vcek, Product::kMilan);
  EXPECT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.product, Product::kMilan);
  EXPECT_EQ(v.info.bl_spl, 3);

  v = check(vcek, Product::kUnknown);  // from productName
  EXPECT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.product, Product::kMilan);

  // No productName: the issuer's CN ("SEV-Genoa") decides, then the others.
  CertOptions o;
  o.extensions = {{std::string(kOidHwId), Bytes(64, 1)}};
  const Certificate unnamed = genoa().vcek(o);
  v = check(unnamed, Product::kUnknown);
  EXPECT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.product, Product::kGenoa);
}

TEST(SnpAmdChain, WrongProductRootIsRejectedNamingBothProducts) {
  const AmdChainVerdict v = check(milan().vcek(), Product::kGenoa);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.product, Product::kGenoa);
  EXPECT_EQ(v.reason.find("VCEK (productName Milan-B0) is for Milan but the product is Genoa: it "
                          "does not chain to the Genoa ARK (certificate chain rejected at depth "),
            0u)
      << v.reason;

  const AmdChainVerdict missing = check(milan().vcek(), Product::kTurin);
  EXPECT_FALSE(missing.accepted);
  EXPECT_EQ(missing.reason, "no trusted AMD root set for Turin");
}

TEST(SnpAmdChain, SeveralTrustedSetsForOneProduct) {
  static const FakeAmd second("Milan");  // same names, other keys
  const std::vector<AmdRootSet> both = {second.set(Product::kMilan), milan().set(Product::kMilan)};
  for (Product hint : {Product::kMilan, Product::kUnknown}) {
    AmdChainVerdict v = check(milan().vcek(), hint, both);
    EXPECT_TRUE(v.accepted) << v.reason;
    ASSERT_EQ(v.chain.size(), 3u);
    EXPECT_EQ(v.chain[2].der(), milan().ark.cert.der());
    v = check(second.vcek(), hint, both);
    EXPECT_TRUE(v.accepted) << v.reason;
    EXPECT_EQ(v.chain[2].der(), second.ark.cert.der());
  }
  const AmdChainVerdict v = check(milan().vcek(), Product::kMilan, {second.set(Product::kMilan)});
  EXPECT_FALSE(v.accepted);
}

TEST(SnpAmdChain, VlekChainsViaAsvkAndCarriesCspId) {
  const Certificate vlek = milan().vlek(milan().asvk);
  AmdChainVerdict v = check(vlek, Product::kMilan);
  EXPECT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.kind, SigningKey::kVlek);
  EXPECT_EQ(v.info.csp_id, "ExampleCloud");
  ASSERT_EQ(v.chain.size(), 3u);
  EXPECT_EQ(v.chain[1].der(), milan().asvk.cert.der());
  EXPECT_EQ(vcek_claims(v.info)["csp_id"], "ExampleCloud");

  // A VLEK issued by the ASK does not chain (the ASK is not a VLEK issuer).
  v = check(milan().vlek(milan().ask), Product::kMilan);
  EXPECT_FALSE(v.accepted);

  // A VCEK issued by the ASVK does not chain either.
  CertOptions o = named("SEV-VCEK");
  o.extensions = amd_extensions("Milan-B0", false);
  v = check(concierge::testing::make_leaf(milan().asvk, o).cert, Product::kMilan);
  EXPECT_FALSE(v.accepted);
}

TEST(SnpAmdChain, RootSetWithoutAsvk) {
  const std::vector<AmdRootSet> roots = {milan().set(Product::kMilan, false)};
  const Certificate vlek = milan().vlek(milan().asvk);
  AmdChainVerdict v = check(vlek, Product::kMilan, roots);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason,
            "VLEK (productName Milan-B0) does not chain to the Milan ARK: VLEK needs an ASVK, and "
            "the trusted Milan root set has none");

  // A supplied ASVK is used when it verifies under the trusted ARK.
  v = check(vlek, Product::kMilan, roots, {}, {milan().asvk.cert, milan().ark.cert});
  EXPECT_TRUE(v.accepted) << v.reason;
  // ... but not an ASVK of another ARK,
  v = check(vlek, Product::kMilan, roots, {}, {genoa().asvk.cert});
  EXPECT_FALSE(v.accepted);
  // ... and a VLEK issued by the (supplied) ASK is refused.
  v = check(milan().vlek(milan().ask), Product::kMilan, roots, {}, {milan().ask.cert});
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("VLEK is issued by the ASK, not by an ASVK"), std::string::npos)
      << v.reason;
}

TEST(SnpAmdChain, LeafSignedByTheArkIsRejected) {
  CertOptions o = named("SEV-VCEK");
  o.extensions = amd_extensions("Milan-B0", false);
  const Certificate direct = concierge::testing::make_leaf(milan().ark, o).cert;
  const AmdChainVerdict v = check(direct, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("VCEK must chain through the ASK (chain of 2 certificates)"),
            std::string::npos)
      << v.reason;
}

TEST(SnpAmdChain, SerialNumberZeroIsAccepted) {
  CertOptions o;
  o.serial = 0;
  const Certificate vcek = milan().vcek(o);
  EXPECT_EQ(vcek.serial_hex(), "00");
  const AmdChainVerdict v = check(vcek, Product::kMilan);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(SnpAmdChain, ExpiredLeafAsOfATimeInsideItsValidity) {
  CertOptions o;
  o.validity = concierge::testing::valid_for(-hours(48), -hours(24));
  const Certificate old = milan().vcek(o);
  AmdChainVerdict v = check(old, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("certificate has expired"), std::string::npos) << v.reason;

  ChainOptions at;
  at.at = std::chrono::system_clock::now() - hours(36);
  v = check(old, Product::kMilan, test_roots(), at);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(SnpAmdChain, RevokedVcekIsRejected) {
  const Certificate vcek = milan().vcek();
  ChainOptions options;
  options.crls = {concierge::testing::make_crl(milan().ask, {concierge::testing::serial_of(vcek)})};
  AmdChainVerdict v = check(vcek, Product::kMilan, test_roots(), options);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("certificate revoked"), std::string::npos) << v.reason;

  // A CRL revoking something else, and the ARK's CRL revoking nothing.
  options.crls = {concierge::testing::make_crl(milan().ask, {1}),
                  concierge::testing::make_crl(milan().ark, {})};
  v = check(vcek, Product::kMilan, test_roots(), options);
  EXPECT_TRUE(v.accepted) << v.reason;

  // The ARK's CRL revoking the ASK rejects every VCEK under it.
  options.crls = {
      concierge::testing::make_crl(milan().ark, {concierge::testing::serial_of(milan().ask.cert)})};
  v = check(vcek, Product::kMilan, test_roots(), options);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("certificate revoked"), std::string::npos) << v.reason;
}

TEST(SnpAmdChain, ErrorsForUnusableInputs) {
  auto r = verify_amd_chain(milan().vcek(), {}, {}, Product::kMilan);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);

  CertOptions o;
  o.extensions = {{std::string(kOidBlSpl), Bytes{0x02, 0x01, 0x01, 0x00}},
                  {std::string(kOidHwId), Bytes(64, 1)}};
  r = verify_amd_chain(milan().vcek(o), {}, test_roots(), Product::kMilan);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "blSPL");
}

// ---- the cache ----

TEST(SnpAmdChainCache, SecondLookupIsAHit) {
  AmdChainCache cache;
  const Certificate vcek = milan().vcek();
  const std::vector<AmdRootSet> roots = test_roots();
  auto first = cache.verify(vcek, {}, roots, Product::kMilan);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->accepted) << first->reason;
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.size(), 1u);

  auto second = cache.verify(vcek, {}, roots, Product::kMilan);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->accepted);
  EXPECT_EQ(second->product, Product::kMilan);
  EXPECT_EQ(second->chain.size(), 3u);
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 1u);

  // Another product hint, other roots, or another CRL set is another key.
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kUnknown)->accepted);
  EXPECT_TRUE(cache.verify(vcek, {}, {roots[0]}, Product::kMilan)->accepted);
  ChainOptions with_crl;
  with_crl.crls = {concierge::testing::make_crl(milan().ask, {})};
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan, with_crl)->accepted);
  EXPECT_EQ(cache.verifications(), 4u);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan, with_crl)->accepted);
  EXPECT_EQ(cache.verifications(), 4u);

  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan)->accepted);
  EXPECT_EQ(cache.verifications(), 5u);
}

TEST(SnpAmdChainCache, LookupOutsideTheValidityWindowReverifies) {
  AmdChainCache cache;
  CertOptions o;
  o.validity = concierge::testing::valid_for(-hours(2), hours(2));
  const Certificate vcek = milan().vcek(o);
  const std::vector<AmdRootSet> roots = test_roots();
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan)->accepted);

  ChainOptions inside;
  inside.at = std::chrono::system_clock::now() + hours(1);
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan, inside)->accepted);
  EXPECT_EQ(cache.verifications(), 1u);

  ChainOptions later;
  later.at = std::chrono::system_clock::now() + hours(3);
  auto r = cache.verify(vcek, {}, roots, Product::kMilan, later);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->accepted);
  EXPECT_NE(r->reason.find("certificate has expired"), std::string::npos) << r->reason;
  EXPECT_EQ(cache.verifications(), 2u);
  ChainOptions earlier;
  earlier.at = std::chrono::system_clock::now() - hours(3);
  EXPECT_FALSE(cache.verify(vcek, {}, roots, Product::kMilan, earlier)->accepted);
  EXPECT_EQ(cache.verifications(), 3u);
  EXPECT_EQ(cache.size(), 1u);  // the accepted entry stays; rejections are not stored
  EXPECT_TRUE(cache.verify(vcek, {}, roots, Product::kMilan)->accepted);
  EXPECT_EQ(cache.verifications(), 3u);
}

TEST(SnpAmdChainCache, CrlWindowNarrowsTheEntry) {
  AmdChainCache cache;
  const Certificate vcek = milan().vcek();
  ChainOptions options;
  options.crls = {concierge::testing::make_crl(milan().ask, {},
                                               concierge::testing::valid_for(-hours(1), hours(1)))};
  EXPECT_TRUE(cache.verify(vcek, {}, test_roots(), Product::kMilan, options)->accepted);
  options.at = std::chrono::system_clock::now() + hours(2);  // the CRL is stale by then
  auto r = cache.verify(vcek, {}, test_roots(), Product::kMilan, options);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->accepted);
  EXPECT_EQ(cache.verifications(), 2u);
}

TEST(SnpAmdChainCache, RejectionsAreNotCached) {
  AmdChainCache cache;
  const Certificate vcek = milan().vcek();
  for (int i = 0; i < 2; ++i) {
    auto r = cache.verify(vcek, {}, test_roots(), Product::kGenoa);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->accepted);
  }
  EXPECT_EQ(cache.verifications(), 2u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(SnpAmdChainCache, ConcurrentLookups) {
  AmdChainCache cache(2);
  const std::vector<Certificate> leaves = {milan().vcek(), milan().vcek(), genoa().vcek()};
  const std::vector<AmdRootSet> roots = test_roots();
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto r = cache.verify(leaves[static_cast<std::size_t>(t + i) % leaves.size()], {}, roots,
                              Product::kUnknown);
        if (r.has_value() && r->accepted) ++accepted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 60);
  EXPECT_EQ(cache.hits() + cache.verifications(), 60u);
  EXPECT_LE(cache.size(), 2u);  // capacity
}

TEST(SnpAmdChainCache, RealVcekCachedAsOfItsValidity) {
  REQUIRE_REAL_VCEK();
  AmdChainCache cache;
  const Certificate vcek = real_vcek();
  ChainOptions at;
  at.at = vcek.not_before() + hours(24 * 365);
  for (int i = 0; i < 3; ++i) {
    auto r = cache.verify(vcek, {}, builtin_amd_roots(), Product::kUnknown, at);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->accepted) << r->reason;
    EXPECT_EQ(r->product, Product::kMilan);
  }
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 2u);
}

}  // namespace
}  // namespace concierge::evidence::snp
