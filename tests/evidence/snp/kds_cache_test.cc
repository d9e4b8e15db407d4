// A local KDS folder: file names with and without the query string, per
// product (Turin's 8-byte hwid and fmcSPL), DER and PEM, cert_chain and CRLs.
#include "concierge/evidence/snp/kds_cache.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>

#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::CertOptions;
using concierge::testing::Issued;
using concierge::testing::TempDir;
using concierge::testing::write_file;

std::array<std::uint8_t, 64> chip_id() {
  std::array<std::uint8_t, 64> id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(0xA0 + i);
  return id;
}

// Milan/Genoa layout: bootloader 2, tee 0, snp 5, microcode 68 (the real report's).
constexpr std::uint64_t kTcb = 0x4405000000000002ull;
// Turin layout: fmc 1, bootloader 2, tee 3, snp 4, microcode 0xD1.
constexpr std::uint64_t kTurinTcb = 0xD100000004030201ull;

const std::string kMilanHex =
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";

CertOptions named(const char* cn) {
  CertOptions o;
  o.common_name = cn;
  return o;
}

struct Pki {
  Issued ark = concierge::testing::make_root(named("ARK-Milan"));
  Issued ask = concierge::testing::make_intermediate(ark, named("SEV-Milan"));
  Issued vcek = concierge::testing::make_leaf(ask, named("SEV-VCEK"));
};

Pki& pki() {
  static Pki p;
  return p;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  write_file(path, as_bytes(text));
}

void write_bytes(const std::filesystem::path& path, const Bytes& data) {
  std::filesystem::create_directories(path.parent_path());
  write_file(path, data);
}

TEST(SnpKdsCache, VcekFileNames) {
  const auto id = chip_id();
  EXPECT_EQ(kds_vcek_file_name(Product::kMilan, id, kTcb, true).value(),
            kMilanHex + "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
  EXPECT_EQ(kds_vcek_file_name(Product::kGenoa, id, kTcb, false).value(), kMilanHex);
  EXPECT_EQ(kds_vcek_file_name(Product::kTurin, id, kTurinTcb, true).value(),
            "a0a1a2a3a4a5a6a7?fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=209");
  EXPECT_EQ(kds_vcek_file_name(Product::kTurin, id, kTurinTcb, false).value(), "a0a1a2a3a4a5a6a7");
  EXPECT_EQ(kds_product_dir(Product::kGenoa, SigningKey::kVlek), "vlek/v1/Genoa");

  auto bad = kds_vcek_file_name(Product::kUnknown, id, kTcb, true);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  bad = kds_vcek_file_name(Product::kMilan, ByteView(id).first(8), kTcb, true);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST(SnpKdsCache, FindsVcekWithAndWithoutQueryString) {
  TempDir dir;
  const auto id = chip_id();
  const std::filesystem::path folder = dir.path() / "vcek/v1/Milan";

  auto found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  EXPECT_FALSE(found->has_value());

  // Without the query string (DER).
  write_bytes(folder / kMilanHex, pki().vcek.cert.der());
  found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->product, Product::kMilan);
  EXPECT_EQ((*found)->path, folder / kMilanHex);
  EXPECT_EQ((*found)->cert.der(), pki().vcek.cert.der());

  // With the query string (PEM): preferred over the plain one.
  const Issued other = concierge::testing::make_leaf(pki().ask, named("SEV-VCEK"));
  const std::string with_query = kMilanHex + "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68";
  write_text(folder / with_query, concierge::testing::to_pem(other.cert));
  found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->path, folder / with_query);
  EXPECT_EQ((*found)->cert.der(), other.cert.der());

  // Another TCB falls back to the plain file.
  found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb + 1);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->path, folder / kMilanHex);
}

TEST(SnpKdsCache, UnknownProductSearchesEveryProductFolder) {
  TempDir dir;
  const auto id = chip_id();
  write_bytes(dir.path() / "vcek/v1/Genoa" / kMilanHex, pki().vcek.cert.der());
  auto found = kds_find_vcek(dir.path(), Product::kUnknown, id, kTcb);
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->product, Product::kGenoa);

  write_bytes(dir.path() / "vcek/v1/Turin/a0a1a2a3a4a5a6a7", pki().vcek.cert.der());
  found = kds_find_vcek(dir.path(), Product::kTurin, id, kTurinTcb);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->product, Product::kTurin);
}

TEST(SnpKdsCache, MalformedOrUnreadableFilesAreErrors) {
  TempDir dir;
  const auto id = chip_id();
  const std::filesystem::path path = dir.path() / "vcek/v1/Milan" / kMilanHex;
  write_text(path, "garbage");
  auto found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, Errc::kMalformed);
  EXPECT_NE(found.error().message.find(path.string()), std::string::npos);

  Bytes der = pki().vcek.cert.der();
  der.push_back(0);
  write_bytes(path, der);
  found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, Errc::kTrailingData);

  std::filesystem::remove(path);
  std::filesystem::create_directories(path);  // a folder where the file should be
  found = kds_find_vcek(dir.path(), Product::kMilan, id, kTcb);
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, Errc::kIo);
}

TEST(SnpKdsCache, CertChainsAndCrls) {
  TempDir dir;
  auto chain = kds_find_cert_chain(dir.path(), Product::kMilan, SigningKey::kVcek);
  ASSERT_TRUE(chain.has_value());
  EXPECT_FALSE(chain->has_value());
  auto crl = kds_find_crl(dir.path(), Product::kMilan, SigningKey::kVcek);
  ASSERT_TRUE(crl.has_value());
  EXPECT_FALSE(crl->has_value());

  write_text(
      dir.path() / "vcek/v1/Milan/cert_chain",
      concierge::testing::to_pem(pki().ask.cert) + concierge::testing::to_pem(pki().ark.cert));
  chain = kds_find_cert_chain(dir.path(), Product::kMilan, SigningKey::kVcek);
  ASSERT_TRUE(chain.has_value()) << chain.error().to_string();
  ASSERT_TRUE(chain->has_value());
  ASSERT_EQ((*chain)->size(), 2u);
  EXPECT_EQ((**chain)[0].der(), pki().ask.cert.der());
  EXPECT_EQ((**chain)[1].der(), pki().ark.cert.der());
  // The VLEK folder is separate.
  chain = kds_find_cert_chain(dir.path(), Product::kMilan, SigningKey::kVlek);
  ASSERT_TRUE(chain.has_value());
  EXPECT_FALSE(chain->has_value());

  const Crl revoked = concierge::testing::make_crl(pki().ark, {7});
  write_bytes(dir.path() / "vcek/v1/Milan/crl", revoked.der());
  crl = kds_find_crl(dir.path(), Product::kMilan, SigningKey::kVcek);
  ASSERT_TRUE(crl.has_value()) << crl.error().to_string();
  ASSERT_TRUE(crl->has_value());
  EXPECT_TRUE((*crl)->lists_serial("07"));

  const std::string crl_pem =
      "-----BEGIN X509 CRL-----\n" + base64_encode(revoked.der()) + "\n-----END X509 CRL-----\n";
  write_text(dir.path() / "vlek/v1/Milan/crl", crl_pem);
  crl = kds_find_crl(dir.path(), Product::kMilan, SigningKey::kVlek);
  ASSERT_TRUE(crl.has_value()) << crl.error().to_string();
  ASSERT_TRUE(crl->has_value());
  EXPECT_EQ((*crl)->der(), revoked.der());

  write_text(dir.path() / "vlek/v1/Milan/cert_chain", "no certificates here");
  chain = kds_find_cert_chain(dir.path(), Product::kMilan, SigningKey::kVlek);
  ASSERT_FALSE(chain.has_value());
  EXPECT_EQ(chain.error().code, Errc::kMalformed);

  auto unknown = kds_find_crl(dir.path(), Product::kUnknown, SigningKey::kVcek);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Errc::kInvalidArgument);
}

TEST(SnpKdsCache, RealVcekUnderItsKdsName) {
  CONCIERGE_REQUIRE_VECTOR(vcek_path, "snp/go-sev-guest/vcek.der");
  CONCIERGE_REQUIRE_VECTOR(report_path, "snp/go-sev-guest/attestation.bin");
  const Bytes report = concierge::testing::read_file(report_path);
  ASSERT_EQ(report.size(), 1184u);
  const ByteView id = ByteView(report).subspan(0x1A0, 64);
  std::uint64_t tcb = 0;
  for (int i = 7; i >= 0; --i) tcb = (tcb << 8) | report[0x180 + i];

  TempDir dir;
  auto name = kds_vcek_file_name(Product::kMilan, id, tcb, true);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->substr(128), "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
  std::filesystem::copy_file(vcek_path, [&] {
    std::filesystem::create_directories(dir.path() / "vcek/v1/Milan");
    return dir.path() / "vcek/v1/Milan" / *name;
  }());
  auto found = kds_find_vcek(dir.path(), Product::kUnknown, id, tcb);
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->product, Product::kMilan);
  EXPECT_EQ((*found)->cert.serial_hex(), "00");
}

}  // namespace
}  // namespace concierge::evidence::snp
