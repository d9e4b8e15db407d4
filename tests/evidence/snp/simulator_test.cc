#include "concierge/evidence/snp/simulator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/snp/cert_table.h"
#include "concierge/evidence/snp/vcek.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::TempDir;

SnpSimulator must_create(const SimulatorOptions& options) {
  Result<SnpSimulator> s = SnpSimulator::create(options);
  if (!s) {
    ADD_FAILURE() << s.error().to_string();
    std::abort();
  }
  return std::move(s).value();
}

// RSA key generation dominates: one simulator per product for the suite.
class SnpSimulatorTest : public ::testing::Test {
 protected:
  // Each made by create() on first use: a test process (ctest runs each test
  // in its own) makes only the ones its test looks at.
  static void TearDownTestSuite() {
    milan_.reset();
    turin_.reset();
  }
  static const SnpSimulator& milan() {
    if (!milan_) {
      SimulatorOptions milan;
      milan.vlek_csp_id = "Concierge test CSP";
      milan_ = std::make_unique<SnpSimulator>(must_create(milan));
    }
    return *milan_;
  }
  static const SnpSimulator& turin() {
    if (!turin_) {
      SimulatorOptions turin;
      turin.product = Product::kTurin;
      turin_ = std::make_unique<SnpSimulator>(must_create(turin));
    }
    return *turin_;
  }

 private:
  static std::unique_ptr<SnpSimulator> milan_;
  static std::unique_ptr<SnpSimulator> turin_;
};
std::unique_ptr<SnpSimulator> SnpSimulatorTest::milan_;
std::unique_ptr<SnpSimulator> SnpSimulatorTest::turin_;

Bytes must_issue(const SnpSimulator& sim, const ReportRequest& request) {
  Result<Bytes> r = sim.issue(request);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : Bytes{};
}

void expect_signed_by(const Bytes& report, const Certificate& cert) {
  ASSERT_EQ(report.size(), kReportSize);
  Result<PublicKey> key = cert.public_key();
  ASSERT_TRUE(key);
  Result<Verdict> v =
      verify_ecdsa_le(*key, HashAlg::kSha384, ByteView(report).first(kSignedSize),
                      ByteView(report).subspan(kSignatureOffset, 2 * kSignatureComponentSize),
                      kSignatureComponentSize);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
}

ReportRequest sample_request() {
  ReportRequest q;
  q.guest_svn = 7;
  q.policy = 0x30000 | (1ull << 20);
  q.vmpl = 1;
  for (std::size_t i = 0; i < q.report_data.size(); ++i)
    q.report_data[i] = static_cast<std::uint8_t>(i);
  q.measurement.fill(0x4D);
  q.host_data.fill(0x48);
  q.family_id.fill(0xF1);
  q.image_id.fill(0x11);
  q.report_id.fill(0x52);
  return q;
}

TEST_F(SnpSimulatorTest, ReportRoundTripsThroughTheParser) {
  for (std::uint32_t version : {2u, 3u, 4u, 5u}) {
    ReportRequest q = sample_request();
    q.version = version;
    q.launch_mit_vector = version >= 5 ? 0x3 : 0;
    q.current_mit_vector = version >= 5 ? 0x1 : 0;
    const Bytes bytes = must_issue(milan(), q);
    Result<AttestationReport> r = parse_report(bytes);
    ASSERT_TRUE(r) << "v" << version << ": " << r.error().to_string();
    EXPECT_EQ(serialize_report(*r), bytes);  // byte-exact
    EXPECT_EQ(r->version, version);
    EXPECT_EQ(r->guest_svn, 7u);
    EXPECT_EQ(r->policy.raw, 0x130000u);
    EXPECT_EQ(r->vmpl, 1u);
    EXPECT_EQ(r->signature_algo, kSignatureAlgoEcdsaP384Sha384);
    EXPECT_EQ(r->report_data, q.report_data);
    EXPECT_EQ(r->measurement, q.measurement);
    EXPECT_EQ(r->host_data, q.host_data);
    EXPECT_EQ(r->chip_id, milan().chip_id());
    EXPECT_EQ(r->reported_tcb, milan().tcb().raw);
    EXPECT_EQ(r->current_tcb, milan().tcb().raw);
    EXPECT_EQ(r->committed_tcb, milan().tcb().raw);
    EXPECT_EQ(r->launch_tcb, milan().tcb().raw);
    EXPECT_EQ(r->signer.signing_key, SigningKey::kVcek);
    EXPECT_EQ(r->report_id_ma[0], 0xFF);
    if (version >= 3) {
      EXPECT_EQ(r->cpuid_family, 0x19);
      EXPECT_EQ(r->cpuid_model, 0x01);
      EXPECT_EQ(r->cpuid_product(), Product::kMilan);
    } else {
      EXPECT_EQ(r->cpuid_family, 0);
    }
    EXPECT_EQ(r->launch_mit_vector, version >= 5 ? 0x3u : 0u);
    expect_signed_by(bytes, milan().vcek());
  }
}

TEST_F(SnpSimulatorTest, SignatureIsLittleEndianZeroExtended) {
  const Bytes bytes = must_issue(milan(), sample_request());
  // r and s are 48 bytes; the upper 24 bytes of each 72-byte field are zero,
  // and so is the rest of the signature area.
  EXPECT_TRUE(std::all_of(bytes.begin() + 0x2A0 + 48, bytes.begin() + 0x2E8,
                          [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(
      std::all_of(bytes.begin() + 0x2E8 + 48, bytes.end(), [](std::uint8_t b) { return b == 0; }));
  // Tampering with a signed byte breaks the signature.
  Bytes tampered = bytes;
  tampered[0x50] ^= 1;
  Result<PublicKey> key = milan().vcek().public_key();
  ASSERT_TRUE(key);
  Result<Verdict> v = verify_ecdsa_le(*key, HashAlg::kSha384, ByteView(tampered).first(kSignedSize),
                                      ByteView(tampered).subspan(kSignatureOffset, 144), 72);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->accepted);
}

TEST_F(SnpSimulatorTest, SignsArbitraryTamperedReports) {
  Result<AttestationReport> r = milan().build_report(sample_request());
  ASSERT_TRUE(r) << r.error().to_string();
  r->measurement.fill(0xEE);
  r->policy.raw = 0x10000;  // bit 17 clear: the parser rejects it, the signer does not
  Result<Bytes> bytes = milan().sign(*r);
  ASSERT_TRUE(bytes) << bytes.error().to_string();
  expect_signed_by(*bytes, milan().vcek());
  EXPECT_FALSE(parse_report(*bytes));

  r->signer.signing_key = SigningKey::kNone;
  bytes = milan().sign(*r);
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(std::all_of(bytes->begin() + kSignatureOffset, bytes->end(),
                          [](std::uint8_t b) { return b == 0; }));
}

TEST_F(SnpSimulatorTest, VcekChainsToTheSimulatorArkOnly) {
  Result<ChainVerdict> v = verify_chain(milan().vcek(), {milan().ask()}, {milan().ark()});
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
  ASSERT_EQ(v->chain.size(), 3u);

  // Another simulator of the same product: same names, different keys.
  SimulatorOptions options;
  const SnpSimulator other = must_create(options);
  EXPECT_EQ(other.ark().subject(), milan().ark().subject());
  Result<ChainVerdict> w = verify_chain(milan().vcek(), {milan().ask()}, {other.ark()});
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_FALSE(w->accepted);
  Result<ChainVerdict> x = verify_chain(milan().vcek(), {other.ask()}, {milan().ark()});
  ASSERT_TRUE(x);
  EXPECT_FALSE(x->accepted);
}

TEST_F(SnpSimulatorTest, CertificatesLookLikeAmds) {
  EXPECT_EQ(milan().ark().subject(),
            "OU = Concierge SEV-SNP simulator, O = Concierge test root (not AMD), CN = ARK-Milan");
  EXPECT_TRUE(milan().ark().self_signed());
  EXPECT_NE(milan().ask().subject().find("CN = SEV-Milan"), std::string::npos);
  EXPECT_NE(milan().asvk().subject().find("CN = SEV-VLEK-Milan"), std::string::npos);
  EXPECT_NE(milan().vcek().subject().find("CN = SEV-VCEK"), std::string::npos);
  EXPECT_EQ(milan().vcek().issuer(), milan().ask().subject());
  EXPECT_EQ(milan().vcek().serial_hex(), "00");
  EXPECT_EQ(milan().ark().serial_hex(), "010000");

  // The VCEK's AMD extensions, DER as AMD writes them.
  const Certificate& vcek = milan().vcek();
  EXPECT_EQ(*vcek.extension(kOidStructVersion), (Bytes{0x02, 0x01, 0x01}));
  EXPECT_EQ(*vcek.extension(kOidProductName),
            (Bytes{0x16, 0x08, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0'}));
  EXPECT_EQ(*vcek.extension(kOidBlSpl), (Bytes{0x02, 0x01, milan().tcb().bootloader}));
  EXPECT_EQ(*vcek.extension(kOidSnpSpl), (Bytes{0x02, 0x01, milan().tcb().snp}));
  EXPECT_EQ(milan().tcb().microcode, 213);  // the default: a two-byte INTEGER
  EXPECT_EQ(*vcek.extension(kOidUcodeSpl), (Bytes{0x02, 0x02, 0x00, 0xD5}));
  for (const char* spl : {"1.3.6.1.4.1.3704.1.3.4", "1.3.6.1.4.1.3704.1.3.7"}) {
    EXPECT_EQ(*vcek.extension(spl), (Bytes{0x02, 0x01, 0x00}));
  }
  EXPECT_EQ(vcek.extension(kOidFmcSpl).error().code, Errc::kNotFound);
  const auto& chip = milan().chip_id();
  EXPECT_EQ(*vcek.extension(kOidHwId), Bytes(chip.begin(), chip.end()));
  EXPECT_EQ(vcek.extension(kOidCspId).error().code, Errc::kNotFound);

  ASSERT_NE(milan().vlek(), nullptr);
  EXPECT_EQ(*milan().vlek()->extension(kOidCspId),
            (Bytes{0x16, 18,  'C', 'o', 'n', 'c', 'i', 'e', 'r', 'g',
                   'e',  ' ', 't', 'e', 's', 't', ' ', 'C', 'S', 'P'}));
  EXPECT_EQ(milan().vlek()->extension(kOidHwId).error().code, Errc::kNotFound);
}

TEST_F(SnpSimulatorTest, EndorsementExtensionsMatchTheReports) {
  for (const SnpSimulator* sim : {&milan(), &turin()}) {
    Result<VcekInfo> info = parse_vcek_extensions(sim->vcek());
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->kind, SigningKey::kVcek);
    EXPECT_EQ(info->struct_version, 1);
    EXPECT_EQ(info->product(), sim->product());
    EXPECT_EQ(info->ucode_spl, sim->tcb().microcode);
    Result<AttestationReport> r = parse_report(must_issue(*sim, sample_request()));
    ASSERT_TRUE(r);
    const Verdict v = vcek_matches_report(*info, *r, sim->product());
    EXPECT_TRUE(v.accepted) << v.reason;
  }
  Result<VcekInfo> vlek = parse_vcek_extensions(*milan().vlek());
  ASSERT_TRUE(vlek) << vlek.error().to_string();
  EXPECT_EQ(vlek->kind, SigningKey::kVlek);
  EXPECT_EQ(vlek->csp_id, "Concierge test CSP");
}

TEST_F(SnpSimulatorTest, VlekReportsChainThroughTheAsvk) {
  ReportRequest q = sample_request();
  q.signing_key = SigningKey::kVlek;
  const Bytes bytes = must_issue(milan(), q);
  expect_signed_by(bytes, *milan().vlek());
  Result<AttestationReport> r = parse_report(bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->signer.signing_key, SigningKey::kVlek);
  Result<ChainVerdict> v = verify_chain(*milan().vlek(), {milan().asvk()}, {milan().ark()});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;

  // No VLEK on the Turin simulator.
  EXPECT_EQ(turin().issue(q).error().code, Errc::kInvalidArgument);
}

TEST_F(SnpSimulatorTest, MaskChipIdZeroesChipIdAndStillSigns) {
  ReportRequest q = sample_request();
  q.mask_chip_id = true;
  const Bytes bytes = must_issue(milan(), q);
  Result<AttestationReport> r = parse_report(bytes);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->signer.mask_chip_key);
  EXPECT_TRUE(std::all_of(r->chip_id.begin(), r->chip_id.end(), [](auto b) { return b == 0; }));
  EXPECT_TRUE(std::all_of(bytes.begin() + 0x1A0, bytes.begin() + 0x1E0,
                          [](std::uint8_t b) { return b == 0; }));
  expect_signed_by(bytes, milan().vcek());
}

TEST_F(SnpSimulatorTest, MaskChipKeyLeavesTheSignatureZero) {
  ReportRequest q = sample_request();
  q.mask_chip_key = true;
  const Bytes bytes = must_issue(milan(), q);
  Result<AttestationReport> r = parse_report(bytes);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->signer.mask_chip_key);
  EXPECT_TRUE(std::all_of(bytes.begin() + kSignatureOffset, bytes.end(),
                          [](std::uint8_t b) { return b == 0; }));
  // The chip id is not masked by MASK_CHIP_KEY.
  EXPECT_FALSE(std::all_of(r->chip_id.begin(), r->chip_id.end(), [](auto b) { return b == 0; }));
}

TEST_F(SnpSimulatorTest, TurinTcbLayoutAndEightByteHwId) {
  const TcbVersion& tcb = turin().tcb();
  ASSERT_TRUE(tcb.fmc.has_value());
  // Turin TCB_VERSION: byte 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 7 MICROCODE.
  EXPECT_EQ(tcb.raw & 0xFF, *tcb.fmc);
  EXPECT_EQ((tcb.raw >> 8) & 0xFF, tcb.bootloader);
  EXPECT_EQ((tcb.raw >> 16) & 0xFF, tcb.tee);
  EXPECT_EQ((tcb.raw >> 24) & 0xFF, tcb.snp);
  EXPECT_EQ(tcb.raw >> 56, tcb.microcode);
  EXPECT_EQ((tcb.raw >> 32) & 0xFFFFFF, 0u);

  const Certificate& vcek = turin().vcek();
  EXPECT_EQ(*vcek.extension(kOidFmcSpl), (Bytes{0x02, 0x01, *tcb.fmc}));
  EXPECT_EQ(*vcek.extension(kOidProductName),
            (Bytes{0x16, 0x08, 'T', 'u', 'r', 'i', 'n', '-', 'B', '0'}));
  const auto& chip = turin().chip_id();
  EXPECT_EQ(*vcek.extension(kOidHwId), Bytes(chip.begin(), chip.begin() + 8));
  EXPECT_TRUE(std::all_of(chip.begin() + 8, chip.end(), [](auto b) { return b == 0; }));

  ReportRequest q = sample_request();
  q.version = 5;
  const Bytes bytes = must_issue(turin(), q);
  Result<AttestationReport> r = parse_report(bytes);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->cpuid_family, 0x1A);
  EXPECT_EQ(r->cpuid_model, 0x02);
  EXPECT_EQ(r->cpuid_product(), Product::kTurin);
  EXPECT_EQ(decode_tcb(r->reported_tcb, Product::kTurin).fmc, tcb.fmc);
  EXPECT_EQ(r->chip_id, chip);
  expect_signed_by(bytes, vcek);
  Result<ChainVerdict> v = verify_chain(vcek, {turin().ask()}, {turin().ark()});
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;
}

TEST_F(SnpSimulatorTest, RootBundlesAndCertTable) {
  Result<std::vector<Certificate>> chain = Certificate::from_pem_bundle(milan().cert_chain_pem());
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].der(), milan().ask().der());
  EXPECT_EQ((*chain)[1].der(), milan().ark().der());
  Result<std::vector<Certificate>> vlek_chain =
      Certificate::from_pem_bundle(milan().vlek_cert_chain_pem());
  ASSERT_TRUE(vlek_chain);
  ASSERT_EQ(vlek_chain->size(), 2u);
  EXPECT_EQ((*vlek_chain)[0].der(), milan().asvk().der());

  Result<AmdRootSet> roots = amd_root_set_from_pem(Product::kMilan, milan().cert_chain_pem(),
                                                   milan().vlek_cert_chain_pem());
  ASSERT_TRUE(roots) << roots.error().to_string();
  EXPECT_EQ(roots->ark.der(), milan().ark().der());
  ASSERT_TRUE(roots->asvk.has_value());
  Result<AmdRootSet> set = milan().root_set();
  ASSERT_TRUE(set) << set.error().to_string();

  Result<Bytes> table = milan().cert_table();
  ASSERT_TRUE(table) << table.error().to_string();
  Result<std::vector<CertTableEntry>> entries = parse_cert_table(*table);
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ(find_cert(*entries, CertKind::kVcek)->data, milan().vcek().der());
  EXPECT_EQ(find_cert(*entries, CertKind::kAsk)->data, milan().ask().der());
  EXPECT_EQ(find_cert(*entries, CertKind::kArk)->data, milan().ark().der());

  Result<Bytes> vlek_table = milan().cert_table(SigningKey::kVlek);
  ASSERT_TRUE(vlek_table);
  entries = parse_cert_table(*vlek_table);
  ASSERT_TRUE(entries);
  EXPECT_EQ(find_cert(*entries, CertKind::kVlek)->data, milan().vlek()->der());
  EXPECT_EQ(find_cert(*entries, CertKind::kAsk)->data, milan().asvk().der());
  EXPECT_EQ(turin().cert_table(SigningKey::kVlek).error().code, Errc::kInvalidArgument);
}

TEST_F(SnpSimulatorTest, SaveLoadRoundTrip) {
  TempDir dir;
  ASSERT_TRUE(milan().save(dir.path()));
  for (const char* key : {"ark.key", "ask.key", "asvk.key", "vcek.key", "vlek.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  Result<SnpSimulator> loaded = SnpSimulator::load(dir.path());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->product(), Product::kMilan);
  EXPECT_EQ(loaded->chip_id(), milan().chip_id());
  EXPECT_EQ(loaded->tcb(), milan().tcb());
  EXPECT_EQ(loaded->tcb().microcode, milan().tcb().microcode);
  EXPECT_EQ(loaded->ark().der(), milan().ark().der());
  EXPECT_EQ(loaded->ask().der(), milan().ask().der());
  EXPECT_EQ(loaded->asvk().der(), milan().asvk().der());
  EXPECT_EQ(loaded->vcek().der(), milan().vcek().der());
  ASSERT_NE(loaded->vlek(), nullptr);
  EXPECT_EQ(loaded->vlek()->der(), milan().vlek()->der());

  // Reports from the loaded state verify with the original certificates, and
  // their signed parts are identical.
  const Bytes a = must_issue(milan(), sample_request());
  const Bytes b = must_issue(*loaded, sample_request());
  EXPECT_TRUE(std::equal(a.begin(), a.begin() + kSignedSize, b.begin()));
  expect_signed_by(b, milan().vcek());
  ReportRequest q = sample_request();
  q.signing_key = SigningKey::kVlek;
  expect_signed_by(must_issue(*loaded, q), *milan().vlek());

  // Saving over an existing state works; a key swapped for another is refused.
  ASSERT_TRUE(turin().save(dir / "turin"));
  std::filesystem::copy_file(dir / "turin" / "vcek.key", dir / "vcek.key",
                             std::filesystem::copy_options::overwrite_existing);
  Result<SnpSimulator> bad = SnpSimulator::load(dir.path());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(SnpSimulator::load(dir / "missing").error().code, Errc::kIo);
  Result<SnpSimulator> turin_loaded = SnpSimulator::load(dir / "turin");
  ASSERT_TRUE(turin_loaded) << turin_loaded.error().to_string();
  EXPECT_EQ(turin_loaded->tcb(), turin().tcb());
  EXPECT_EQ(turin_loaded->vlek(), nullptr);
}

TEST_F(SnpSimulatorTest, CustomTcbAndChipId) {
  SimulatorOptions o;
  o.product = Product::kGenoa;
  std::array<std::uint8_t, 64> chip{};
  chip.fill(0xC1);
  o.chip_id = chip;
  TcbVersion tcb;
  tcb.bootloader = 10;
  tcb.tee = 1;
  tcb.snp = 23;
  tcb.microcode = 0x48;
  o.tcb = tcb;
  const SnpSimulator genoa = must_create(o);
  EXPECT_EQ(genoa.chip_id(), chip);
  EXPECT_EQ(genoa.tcb().raw, 0x481700000000010Aull);
  EXPECT_EQ(genoa.tcb().raw, encode_tcb(tcb, Product::kGenoa));
  EXPECT_EQ(*genoa.vcek().extension(kOidTeeSpl), (Bytes{0x02, 0x01, 0x01}));

  ReportRequest q = sample_request();
  q.reported_tcb = 0x0102030405060708ull;
  Result<AttestationReport> r = parse_report(must_issue(genoa, q));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reported_tcb, 0x0102030405060708ull);
  EXPECT_EQ(r->current_tcb, genoa.tcb().raw);
  EXPECT_EQ(r->cpuid_model, 0x11);
}

TEST(SnpSimulatorOptions, RejectsUnusableOptions) {
  SimulatorOptions o;
  o.product = Product::kUnknown;
  EXPECT_EQ(SnpSimulator::create(o).error().code, Errc::kInvalidArgument);
  o.product = Product::kTurin;
  std::array<std::uint8_t, 64> chip{};
  chip[63] = 1;
  o.chip_id = chip;
  EXPECT_EQ(SnpSimulator::create(o).error().code, Errc::kInvalidArgument);
  o.chip_id.reset();
  o.tcb = TcbVersion{};  // no fmc
  EXPECT_EQ(SnpSimulator::create(o).error().code, Errc::kInvalidArgument);
  o.product = Product::kMilan;
  o.tcb.reset();
  o.ark_bits = 1024;
  EXPECT_EQ(SnpSimulator::create(o).error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace concierge::evidence::snp
