// The built-in AMD roots: pinned fingerprints, RSA-4096 / RSA-PSS, ASK and
// ASVK issued by their ARK, and equality with the KDS files in the vectors
// folder. Root sets from PEM text.
#include "concierge/evidence/snp/amd_roots.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <string>
#include <thread>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

struct Pinned {
  Product product;
  const char* ark;
  const char* ask;
  const char* asvk;
  const char* vcek_file;  // under snp/amd-roots/: ASK, ARK
  const char* vlek_file;  // ASVK, ARK
};

// SHA-256 of each certificate's DER (`openssl x509 -outform der | sha256sum`).
const Pinned kPinned[] = {
    {Product::kMilan, "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
     "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
     "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5", "ask_ark_milan.pem",
     "ask_ark_milan_vlek.pem"},
    {Product::kGenoa, "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
     "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
     "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372", "ask_ark_genoa.pem",
     "ask_ark_genoa_vlek.pem"},
    {Product::kTurin, "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
     "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
     "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c", "ask_ark_turin_vcek.pem",
     "ask_ark_turin_vlek.pem"},
};

std::string fp(const Certificate& c) { return hex_encode(c.fingerprint_sha256()); }

std::string read_text(const std::filesystem::path& path) {
  return std::string(as_chars(concierge::testing::read_file(path)));
}

TEST(SnpAmdRoots, BuiltinFingerprintsArePinned) {
  const std::vector<AmdRootSet>& roots = builtin_amd_roots();
  ASSERT_EQ(roots.size(), 3u);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    SCOPED_TRACE(product_name(kPinned[i].product));
    EXPECT_EQ(roots[i].product, kPinned[i].product);
    EXPECT_EQ(fp(roots[i].ark), kPinned[i].ark);
    EXPECT_EQ(fp(roots[i].ask), kPinned[i].ask);
    ASSERT_TRUE(roots[i].asvk.has_value());
    EXPECT_EQ(fp(*roots[i].asvk), kPinned[i].asvk);
    EXPECT_EQ(builtin_amd_root_set(kPinned[i].product), &roots[i]);
  }
  EXPECT_EQ(builtin_amd_root_set(Product::kUnknown), nullptr);
}

TEST(SnpAmdRoots, BuiltinRootsAreAmdsRsaPssHierarchy) {
  const std::string ou =
      "OU = Engineering, C = US, L = Santa Clara, ST = CA, "
      "O = Advanced Micro Devices, CN = ";
  for (const AmdRootSet& set : builtin_amd_roots()) {
    const std::string name(product_name(set.product));
    SCOPED_TRACE(name);
    EXPECT_EQ(set.ark.subject(), ou + "ARK-" + name);
    EXPECT_EQ(set.ask.subject(), ou + "SEV-" + name);
    EXPECT_EQ(set.asvk->subject(), ou + "SEV-VLEK-" + name);
    EXPECT_TRUE(set.ark.self_signed());
    for (const Certificate* c : {&set.ark, &set.ask, &*set.asvk}) {
      auto key = c->public_key();
      ASSERT_TRUE(key.has_value());
      EXPECT_EQ(key->type(), KeyType::kRsa);
      EXPECT_EQ(key->bits(), 4096);
      EXPECT_EQ(X509_get_signature_nid(c->get()), NID_rsassaPss) << c->subject();
    }
    // ASK and ASVK verify under the ARK (not under another product's ARK).
    for (const Certificate* mid : {&set.ask, &*set.asvk}) {
      auto v = verify_chain(*mid, {}, {set.ark});
      ASSERT_TRUE(v.has_value()) << v.error().to_string();
      EXPECT_TRUE(v->accepted) << v->reason;
      for (const AmdRootSet& other : builtin_amd_roots()) {
        if (other.product == set.product) continue;
        auto w = verify_chain(*mid, {}, {other.ark});
        ASSERT_TRUE(w.has_value());
        EXPECT_FALSE(w->accepted);
      }
    }
  }
}

TEST(SnpAmdRoots, BuiltinRootsEqualTheKdsFilesInTheVectors) {
  CONCIERGE_REQUIRE_VECTOR(dir, "snp/amd-roots");
  for (const Pinned& p : kPinned) {
    SCOPED_TRACE(p.vcek_file);
    const AmdRootSet* set = builtin_amd_root_set(p.product);
    ASSERT_NE(set, nullptr);
    auto vcek_chain = Certificate::from_pem_bundle(read_text(dir / p.vcek_file));
    auto vlek_chain = Certificate::from_pem_bundle(read_text(dir / p.vlek_file));
    ASSERT_TRUE(vcek_chain.has_value() && vlek_chain.has_value());
    ASSERT_EQ(vcek_chain->size(), 2u);
    ASSERT_EQ(vlek_chain->size(), 2u);
    EXPECT_EQ(fp((*vcek_chain)[0]), fp(set->ask));
    EXPECT_EQ(fp((*vcek_chain)[1]), fp(set->ark));
    EXPECT_EQ(fp((*vlek_chain)[0]), fp(*set->asvk));
    EXPECT_EQ(fp((*vlek_chain)[1]), fp(set->ark));
    EXPECT_EQ((*vcek_chain)[0].der(), set->ask.der());

    // The same files make the same set through amd_root_set_from_pem.
    auto parsed = amd_root_set_from_pem(p.product, read_text(dir / p.vcek_file),
                                        read_text(dir / p.vlek_file));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
    EXPECT_EQ(fp(parsed->ark), p.ark);
    EXPECT_EQ(fp(parsed->ask), p.ask);
    ASSERT_TRUE(parsed->asvk.has_value());
    EXPECT_EQ(fp(*parsed->asvk), p.asvk);
  }
}

TEST(SnpAmdRoots, BuiltinRootsAreSharedAcrossThreads) {
  std::vector<const void*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &builtin_amd_roots(); });
  }
  for (std::thread& t : threads) t.join();
  for (const void* p : seen) EXPECT_EQ(p, &builtin_amd_roots());
}

// ---- root sets from PEM (test roots) ----

using concierge::testing::CertOptions;
using concierge::testing::Issued;

CertOptions named(const char* cn) {
  CertOptions o;
  o.common_name = cn;
  return o;
}

struct TestRoots {
  Issued ark = concierge::testing::make_root(named("ARK-Milan"));
  Issued ask = concierge::testing::make_intermediate(ark, named("SEV-Milan"));
  Issued asvk = concierge::testing::make_intermediate(ark, named("SEV-VLEK-Milan"));
};

std::string pem(const Issued& i) { return concierge::testing::to_pem(i.cert); }

TEST(SnpAmdRoots, RootSetFromPemForms) {
  const TestRoots t;
  // KDS cert_chain form: ASK then ARK, ASVK then ARK.
  auto set =
      amd_root_set_from_pem(Product::kMilan, pem(t.ask) + pem(t.ark), pem(t.asvk) + pem(t.ark));
  ASSERT_TRUE(set.has_value()) << set.error().to_string();
  EXPECT_EQ(set->product, Product::kMilan);
  EXPECT_EQ(set->ark.der(), t.ark.cert.der());
  EXPECT_EQ(set->ask.der(), t.ask.cert.der());
  ASSERT_TRUE(set->asvk.has_value());
  EXPECT_EQ(set->asvk->der(), t.asvk.cert.der());

  // ARK first, and no VLEK chain.
  set = amd_root_set_from_pem(Product::kMilan, pem(t.ark) + pem(t.ask));
  ASSERT_TRUE(set.has_value()) << set.error().to_string();
  EXPECT_FALSE(set->asvk.has_value());

  // One bundle with all three, in any order.
  set = amd_root_set_from_pem(Product::kMilan, pem(t.asvk) + pem(t.ark) + pem(t.ask));
  ASSERT_TRUE(set.has_value()) << set.error().to_string();
  EXPECT_EQ(set->ask.der(), t.ask.cert.der());
  EXPECT_EQ(set->asvk->der(), t.asvk.cert.der());
}

TEST(SnpAmdRoots, RootSetFromPemRejectsWrongShapes) {
  const TestRoots t;
  const TestRoots other;
  struct Case {
    const char* name;
    std::string vcek;
    std::string vlek;
    const char* part;
  };
  const std::vector<Case> cases = {
      {"no ARK", pem(t.ask), "", "no self-signed ARK"},
      {"two ARKs", pem(t.ark) + pem(other.ark) + pem(t.ask), "", "two self-signed"},
      {"ASK of another ARK", pem(other.ask) + pem(t.ark), "", "is not issued by the ARK"},
      {"ASVK of another ARK", pem(t.ask) + pem(t.ark), pem(other.asvk) + pem(t.ark),
       "ASVK (O = Concierge Test, CN = SEV-VLEK-Milan) is not issued by the ARK"},
      {"VLEK chain with another ARK", pem(t.ask) + pem(t.ark), pem(t.asvk) + pem(other.ark),
       "differs from the VCEK chain's"},
      {"ARK only", pem(t.ark), "", "must hold the ASK and the ARK"},
      {"two ASKs", pem(t.ark) + pem(t.ask) + pem(t.ask), "", "cannot tell the ASK from the ASVK"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto set = amd_root_set_from_pem(Product::kMilan, c.vcek, c.vlek);
    ASSERT_FALSE(set.has_value());
    EXPECT_EQ(set.error().code, Errc::kInvalidArgument) << set.error().to_string();
    EXPECT_NE(set.error().message.find(c.part), std::string::npos) << set.error().to_string();
  }
  auto set = amd_root_set_from_pem(Product::kMilan, "not PEM");
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, Errc::kMalformed);
  set = amd_root_set_from_pem(Product::kUnknown, pem(t.ask) + pem(t.ark));
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace concierge::evidence::snp
