// The DCAP simulator: byte-exact quotes whose every signature and binding
// checks with the library's pieces (quote parser, ECDSA, PCK and TCB Signing
// chains, collateral), under its own root only.
#include "concierge/evidence/dcap/simulator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/dcap/intel_root.h"
#include "concierge/evidence/dcap/pck_chain.h"
#include "concierge/evidence/dcap/verify.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using concierge::testing::TempDir;
using std::chrono::hours;

DcapSimulator must_create(const DcapSimulatorOptions& options) {
  Result<DcapSimulator> s = DcapSimulator::create(options);
  if (!s) {
    ADD_FAILURE() << s.error().to_string();
    std::abort();
  }
  return std::move(s).value();
}

// One simulator for the suite, and one whose PCK CRL revokes its PCK.
class DcapSimulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sim_ = std::make_unique<DcapSimulator>(must_create({}));
    DcapSimulatorOptions revoked;
    revoked.revoke_pck = true;
    revoked_ = std::make_unique<DcapSimulator>(must_create(revoked));
  }
  static void TearDownTestSuite() {
    sim_.reset();
    revoked_.reset();
  }
  static const DcapSimulator& sim() { return *sim_; }
  static const DcapSimulator& revoked() { return *revoked_; }

 private:
  static std::unique_ptr<DcapSimulator> sim_;
  static std::unique_ptr<DcapSimulator> revoked_;
};
std::unique_ptr<DcapSimulator> DcapSimulatorTest::sim_;
std::unique_ptr<DcapSimulator> DcapSimulatorTest::revoked_;

TdQuoteInput td_input() {
  TdQuoteInput in;
  for (std::size_t i = 0; i < in.report_data.size(); ++i) {
    in.report_data[i] = static_cast<std::uint8_t>(0xA0 + i);
  }
  in.mr_td.fill(0x11);
  in.rtmr[3].fill(0x33);
  in.mr_owner.fill(0x44);
  return in;
}

SgxQuoteInput sgx_input() {
  SgxQuoteInput in;
  in.mr_enclave.fill(0x55);
  in.mr_signer.fill(0x66);
  in.isv_prod_id = 7;
  in.isv_svn = 3;
  in.report_data[0] = 0xAB;
  in.report_data[63] = 0xCD;
  return in;
}

Bytes must(Result<Bytes> r) {
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(r).value() : Bytes{};
}

Quote must_parse(const Bytes& bytes) {
  Result<Quote> q = parse_quote(bytes);
  EXPECT_TRUE(q) << q.error().to_string();
  return q ? std::move(q).value() : Quote{};
}

void expect_verifies(const PublicKey& key, ByteView message, ByteView signature, bool want = true) {
  Result<Verdict> v = verify_ecdsa_raw(key, HashAlg::kSha256, message, signature);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->accepted, want) << v->reason;
}

PublicKey key_of(const Certificate& cert) {
  Result<PublicKey> k = cert.public_key();
  EXPECT_TRUE(k);
  return std::move(k).value();
}

// What a verifier takes from the PCK certificate and the quote (as verify_dcap).
PlatformTcb platform_of(const Quote& q, const PckExtension& pck) {
  PlatformTcb p;
  p.fmspc = pck.fmspc;
  p.pce_id = pck.pceid;
  p.sgx_components = pck.tcb_components;
  p.pcesvn = pck.pcesvn;
  if (const TdReportBody* td = q.td()) {
    p.tee_tcb_svn = td->tee_tcb_svn;
    p.mrsignerseam = td->mr_signer_seam;
    std::array<std::uint8_t, 8> attributes{};
    for (std::size_t i = 0; i < 8; ++i) {
      attributes[i] = static_cast<std::uint8_t>(td->seam_attributes >> (8 * i));
    }
    p.seam_attributes = attributes;
  }
  return p;
}

QeReportFields qe_fields_of(const SgxReportBody& r) {
  QeReportFields f;
  f.mrsigner = r.mr_signer;
  f.isvprodid = r.isv_prod_id;
  f.isvsvn = r.isv_svn;
  f.miscselect = r.miscselect;
  for (std::size_t i = 0; i < 8; ++i) {
    f.attributes[i] = static_cast<std::uint8_t>(r.attributes_flags >> (8 * i));
    f.attributes[8 + i] = static_cast<std::uint8_t>(r.attributes_xfrm >> (8 * i));
  }
  return f;
}

// Every signature and binding of a quote, checked with the library's pieces.
void expect_authentic(const DcapSimulator& s, const Bytes& bytes) {
  const Quote q = must_parse(bytes);
  // The attestation key signs header || body.
  Result<PublicKey> ak = PublicKey::from_ec_point(EcCurve::kP256, q.sig.attestation_key);
  ASSERT_TRUE(ak) << ak.error().to_string();
  expect_verifies(*ak, q.layout.signed_data.of(bytes), q.layout.signature.of(bytes));
  // The PCK key signs the QE report.
  expect_verifies(key_of(s.pck()), q.layout.qe_report.of(bytes),
                  q.layout.qe_report_signature.of(bytes));
  // The QE report binds the attestation key and the authentication data.
  Hasher h = Hasher::create(HashAlg::kSha256).value();
  h.update(q.layout.attestation_key.of(bytes)).update(q.layout.qe_auth_data.of(bytes));
  const Bytes binding = h.finish().value();
  const auto& rd = q.sig.qe_report.report_data;
  EXPECT_EQ(Bytes(rd.begin(), rd.begin() + 32), binding);
  EXPECT_EQ(Bytes(rd.begin() + 32, rd.end()), Bytes(32, 0));
  // The quote's own PCK chain verifies to the simulator's root.
  ASSERT_TRUE(q.pck_chain_pem());
  Result<PckChainVerdict> chain = verify_pck_chain_pem(*q.pck_chain_pem(), s.root());
  ASSERT_TRUE(chain) << chain.error().to_string();
  EXPECT_TRUE(chain->accepted) << chain->reason;
}

TEST_F(DcapSimulatorTest, TdxQuoteIsAByteExactV4Quote) {
  const TdQuoteInput in = td_input();
  const Bytes bytes = must(sim().tdx_quote(in));
  const Quote q = must_parse(bytes);
  EXPECT_EQ(q.header.version, 4);
  EXPECT_EQ(q.header.tee_type, kTeeTypeTdx);
  EXPECT_EQ(q.header.attestation_key_type, kAttestationKeyEcdsaP256);
  EXPECT_EQ(q.header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_EQ(q.header.qe_svn, sim().qe(TeeType::kTdx).isvsvn);
  EXPECT_EQ(q.header.pce_svn, sim().pck_tcb().pcesvn);
  EXPECT_TRUE(std::equal(sim().qe_id().begin(), sim().qe_id().end(), q.header.user_data.begin()));
  EXPECT_EQ(q.kind, BodyKind::kTd10);
  ASSERT_NE(q.td(), nullptr);
  EXPECT_EQ(q.td()->report_data, in.report_data);
  EXPECT_EQ(q.td()->mr_td, in.mr_td);
  EXPECT_EQ(q.td()->rtmr[3], in.rtmr[3]);
  EXPECT_EQ(q.td()->mr_owner, in.mr_owner);
  EXPECT_EQ(q.td()->td_attributes, in.td_attributes);
  EXPECT_EQ(q.td()->xfam, in.xfam);
  EXPECT_EQ(q.td()->tee_tcb_svn, sim().tdx_module().tee_tcb_svn);
  EXPECT_EQ(q.td()->mr_seam, sim().tdx_module().mr_seam);
  EXPECT_EQ(q.sig.attestation_key, sim().attestation_key());
  EXPECT_EQ(q.sig.qe_auth_data, default_qe_auth_data());
  EXPECT_EQ(q.sig.qe_report.mr_signer, sim().qe(TeeType::kTdx).mrsigner);
  EXPECT_EQ(q.sig.qe_report.isv_prod_id, 2);
  EXPECT_EQ(q.sig.certification.type, kCertDataPckChain);
  EXPECT_EQ(q.sig.certification.data.back(), 0) << "Intel QEs end the PEM chain with a NUL";
  EXPECT_EQ(q.layout.quote_size, bytes.size());
  Result<Bytes> again = serialize_quote(q);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, bytes);
  expect_authentic(sim(), bytes);
}

TEST_F(DcapSimulatorTest, SgxQuoteIsAByteExactV3Quote) {
  const SgxQuoteInput in = sgx_input();
  const Bytes bytes = must(sim().sgx_quote(in));
  const Quote q = must_parse(bytes);
  EXPECT_EQ(q.header.version, 3);
  EXPECT_EQ(q.header.tee_type, kTeeTypeSgx);
  EXPECT_EQ(q.header.qe_svn, sim().qe(TeeType::kSgx).isvsvn);
  ASSERT_NE(q.sgx(), nullptr);
  EXPECT_EQ(q.sgx()->mr_enclave, in.mr_enclave);
  EXPECT_EQ(q.sgx()->mr_signer, in.mr_signer);
  EXPECT_EQ(q.sgx()->isv_prod_id, 7);
  EXPECT_EQ(q.sgx()->isv_svn, 3);
  EXPECT_EQ(q.sgx()->report_data, in.report_data);
  EXPECT_EQ(q.sgx()->cpu_svn, sim().pck_tcb().cpusvn);
  EXPECT_EQ(q.sgx()->attributes_flags, 0x05u);
  EXPECT_EQ(q.sig.qe_report.isv_prod_id, 1);
  EXPECT_EQ(q.sig.certification.type, kCertDataPckChain);
  Result<Bytes> again = serialize_quote(q);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, bytes);
  expect_authentic(sim(), bytes);
}

TEST_F(DcapSimulatorTest, TamperingBreaksTheSignatures) {
  Bytes bytes = must(sim().tdx_quote(td_input()));
  const Quote q = must_parse(bytes);
  Result<PublicKey> ak = PublicKey::from_ec_point(EcCurve::kP256, q.sig.attestation_key);
  ASSERT_TRUE(ak);
  bytes[q.layout.body.offset + 10] ^= 1;  // MRSEAM
  expect_verifies(*ak, q.layout.signed_data.of(bytes), q.layout.signature.of(bytes), false);
  bytes[q.layout.qe_report.offset + 320] ^= 1;  // the QE's report_data
  expect_verifies(key_of(sim().pck()), q.layout.qe_report.of(bytes),
                  q.layout.qe_report_signature.of(bytes), false);
}

TEST_F(DcapSimulatorTest, SignQuoteSignsTamperedModelsAsGiven) {
  // A QE report that does not bind the attestation key: signed by the PCK,
  // so only the binding check can catch it.
  Result<Quote> model = sim().build_sgx_quote(sgx_input());
  ASSERT_TRUE(model) << model.error().to_string();
  EXPECT_EQ(model->sig.signature, (std::array<std::uint8_t, 64>{}));
  model->sig.qe_report.report_data[0] ^= 0xFF;
  const Bytes bytes = must(sim().sign_quote(*model));
  const Quote q = must_parse(bytes);
  expect_verifies(key_of(sim().pck()), q.layout.qe_report.of(bytes),
                  q.layout.qe_report_signature.of(bytes));
  Hasher h = Hasher::create(HashAlg::kSha256).value();
  h.update(q.layout.attestation_key.of(bytes)).update(q.layout.qe_auth_data.of(bytes));
  const Bytes want = h.finish().value();
  EXPECT_NE(Bytes(q.sig.qe_report.report_data.begin(), q.sig.qe_report.report_data.begin() + 32),
            want);

  // A v5 model with a TD 1.0 body is signed over header || type || size || body.
  Result<Quote> v5 = sim().build_tdx_quote(td_input());
  ASSERT_TRUE(v5);
  v5->header.version = 5;
  const Bytes v5_bytes = must(sim().sign_quote(*v5));
  expect_authentic(sim(), v5_bytes);
  EXPECT_EQ(must_parse(v5_bytes).layout.signed_data.size, kHeaderSize + 6 + kTd10ReportBodySize);

  TdQuoteInput too_much = td_input();
  too_much.qe_auth_data.resize(70000);
  Result<Bytes> r = sim().tdx_quote(too_much);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

TEST_F(DcapSimulatorTest, PckChainHasIntelsShapeButOnlyTheTestRoot) {
  EXPECT_NE(sim().root().subject().find("not Intel"), std::string::npos) << sim().root().subject();
  EXPECT_NE(sim().root().subject().find("CN = Concierge Test SGX Root CA"), std::string::npos);
  EXPECT_NE(sim().platform_ca().subject().find("CN = Intel SGX PCK Platform CA"),
            std::string::npos);
  EXPECT_TRUE(sim().root().self_signed());

  ChainOptions with_crls;
  with_crls.crls = {sim().root_crl(), sim().pck_crl()};
  with_crls.require_crl_for_every_ca = true;
  Result<PckChainVerdict> ok = verify_pck_chain_pem(sim().pck_chain_pem(), sim().root(), with_crls);
  ASSERT_TRUE(ok) << ok.error().to_string();
  ASSERT_TRUE(ok->accepted) << ok->reason;
  EXPECT_EQ(ok->ca, PckCa::kPlatform);
  const PckExtension& ext = ok->extension;
  EXPECT_EQ(ext.fmspc, Bytes(sim().fmspc().begin(), sim().fmspc().end()));
  EXPECT_EQ(ext.pceid, Bytes(sim().pce_id().begin(), sim().pce_id().end()));
  EXPECT_EQ(ext.tcb_components, sim().pck_tcb().sgx_components);
  EXPECT_EQ(ext.pcesvn, sim().pck_tcb().pcesvn);
  EXPECT_EQ(ext.cpusvn, Bytes(sim().pck_tcb().cpusvn.begin(), sim().pck_tcb().cpusvn.end()));
  EXPECT_EQ(ext.ppid.size(), kPpidSize);
  EXPECT_EQ(ext.sgx_type, SgxType::kStandard);

  Result<PckChainVerdict> intel = verify_pck_chain_pem(sim().pck_chain_pem(), intel_sgx_root_ca());
  ASSERT_TRUE(intel) << intel.error().to_string();
  EXPECT_FALSE(intel->accepted);

  Result<TcbSigningVerdict> tcb =
      verify_tcb_signing_chain(sim().tcb_signing_chain_pem(), sim().root(), with_crls);
  ASSERT_TRUE(tcb) << tcb.error().to_string();
  EXPECT_TRUE(tcb->accepted) << tcb->reason;
  Result<TcbSigningVerdict> tcb_intel =
      verify_tcb_signing_chain(sim().tcb_signing_chain_pem(), intel_sgx_root_ca());
  ASSERT_TRUE(tcb_intel);
  EXPECT_FALSE(tcb_intel->accepted);
}

TEST_F(DcapSimulatorTest, RevokedPckIsListedByItsCrl) {
  EXPECT_TRUE(revoked().pck_crl().lists_serial(revoked().pck().serial_hex()));
  EXPECT_FALSE(sim().pck_crl().lists_serial(sim().pck().serial_hex()));
  ChainOptions o;
  o.crls = {revoked().root_crl(), revoked().pck_crl()};
  Result<PckChainVerdict> v = verify_pck_chain_pem(revoked().pck_chain_pem(), revoked().root(), o);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->accepted);
  EXPECT_NE(v->reason.find("revoked"), std::string::npos) << v->reason;
}

// Loads the folder and checks it against a quote from the same simulator.
Result<CollateralVerdict> check_folder(const DcapSimulator& s, const std::filesystem::path& dir,
                                       TeeType tee, const Bytes& quote_bytes) {
  CONCIERGE_ASSIGN_OR_RETURN(Collateral c, load_collateral(dir, s.fmspc(), tee));
  CONCIERGE_ASSIGN_OR_RETURN(TcbSigningVerdict chain,
                             verify_tcb_signing_chain(c.tcb_signing_chain, s.root()));
  if (!chain.accepted) return fail(Errc::kInternal, "TCB Signing chain: " + chain.reason);
  CONCIERGE_ASSIGN_OR_RETURN(Quote q, parse_quote(quote_bytes));
  CONCIERGE_ASSIGN_OR_RETURN(PckExtension ext, parse_pck_extension(s.pck()));
  return verify_collateral(c.tcb_info, c.qe_identity, *chain.key, platform_of(q, ext),
                           qe_fields_of(q.sig.qe_report), std::chrono::system_clock::now());
}

TEST_F(DcapSimulatorTest, CollateralFolderVerifiesForBothTees) {
  for (TeeType tee : {TeeType::kTdx, TeeType::kSgx}) {
    SCOPED_TRACE(std::string(tee_type_name(tee)));
    TempDir dir;
    ASSERT_TRUE(sim().write_collateral(dir.path(), tee));
    EXPECT_TRUE(std::filesystem::exists(dir / ("tcb/" + hex_encode(sim().fmspc()) + ".json")));
    const Bytes quote = tee == TeeType::kTdx ? must(sim().tdx_quote(td_input()))
                                             : must(sim().sgx_quote(sgx_input()));
    Result<CollateralVerdict> v = check_folder(sim(), dir.path(), tee, quote);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->accepted) << v->reason;
    EXPECT_EQ(v->status, TcbStatus::kUpToDate);
    EXPECT_EQ(v->tcb.level_index, 0u);
    EXPECT_TRUE(v->advisory_ids.empty());

    Result<Collateral> c = load_collateral(dir.path(), sim().fmspc(), tee);
    ASSERT_TRUE(c);
    const TcbInfo& info = c->tcb_info.info;
    EXPECT_EQ(info.tee, tee);
    EXPECT_EQ(info.tcb_levels.size(), 2u);
    if (tee == TeeType::kTdx) {
      EXPECT_EQ(info.id, "TDX");
      EXPECT_EQ(info.version, 3);
      EXPECT_EQ(c->qe_identity.identity.id, EnclaveId::kTdQe);
      ASSERT_EQ(info.tdx_module_identities.size(), 1u);
      EXPECT_EQ(info.tdx_module_identities[0].id, "TDX_01");
      EXPECT_TRUE(v->tcb.tdx_module_status.has_value());
    } else {
      EXPECT_EQ(info.id, "");
      EXPECT_EQ(info.version, 2);
      EXPECT_EQ(c->qe_identity.identity.id, EnclaveId::kQe);
    }
  }
}

TEST_F(DcapSimulatorTest, SgxTcbInfoV3AlsoVerifies) {
  CollateralOptions o;
  o.sgx_tcb_info_version = 3;
  Result<Collateral> c = sim().collateral(TeeType::kSgx, o);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->tcb_info.info.id, "SGX");
  EXPECT_EQ(c->tcb_info.info.version, 3);
  const Quote q = must_parse(must(sim().sgx_quote(sgx_input())));
  Result<PckExtension> ext = parse_pck_extension(sim().pck());
  ASSERT_TRUE(ext);
  Result<CollateralVerdict> v = verify_collateral(
      c->tcb_info, c->qe_identity, key_of(sim().tcb_signing()), platform_of(q, *ext),
      qe_fields_of(q.sig.qe_report), std::chrono::system_clock::now());
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;

  o.sgx_tcb_info_version = 4;
  Result<Collateral> bad = sim().collateral(TeeType::kSgx, o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
}

TEST_F(DcapSimulatorTest, ChosenStatusesAndAdvisoriesComeThrough) {
  const Bytes quote = must(sim().tdx_quote(td_input()));
  {
    CollateralOptions o;
    o.tcb_status = TcbStatus::kOutOfDate;
    o.advisory_ids = {"INTEL-SA-00001", "INTEL-SA-00002"};
    TempDir dir;
    ASSERT_TRUE(sim().write_collateral(dir.path(), TeeType::kTdx, o));
    Result<CollateralVerdict> v = check_folder(sim(), dir.path(), TeeType::kTdx, quote);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->accepted) << v->reason;  // the caller's policy judges OutOfDate
    EXPECT_EQ(v->status, TcbStatus::kOutOfDate);
    EXPECT_EQ(v->advisory_ids, o.advisory_ids);
  }
  {
    CollateralOptions o;
    o.tcb_status = TcbStatus::kRevoked;
    TempDir dir;
    ASSERT_TRUE(sim().write_collateral(dir.path(), TeeType::kTdx, o));
    Result<CollateralVerdict> v = check_folder(sim(), dir.path(), TeeType::kTdx, quote);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->accepted);
    EXPECT_EQ(v->tcb.status, TcbStatus::kRevoked);
  }
  {
    CollateralOptions o;
    o.tcb_status = TcbStatus::kSWHardeningNeeded;
    o.qe_status = TcbStatus::kConfigurationNeeded;
    o.qe_advisory_ids = {"INTEL-SA-00003"};
    TempDir dir;
    ASSERT_TRUE(sim().write_collateral(dir.path(), TeeType::kSgx, o));
    Result<CollateralVerdict> v =
        check_folder(sim(), dir.path(), TeeType::kSgx, must(sim().sgx_quote(sgx_input())));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->accepted) << v->reason;
    EXPECT_EQ(v->status, TcbStatus::kConfigurationAndSWHardeningNeeded);
    EXPECT_EQ(v->advisory_ids, o.qe_advisory_ids);
  }
}

TEST_F(DcapSimulatorTest, LowerTcbMeetsTheLowerLevels) {
  // A TD on an older module (SVN 2 and microcode 4): the lower TCB and module
  // levels, OutOfDate with the lower level's advisories.
  TdQuoteInput in = td_input();
  auto svn = sim().tdx_module().tee_tcb_svn;
  svn[0] = static_cast<std::uint8_t>(svn[0] - 1);
  svn[2] = static_cast<std::uint8_t>(svn[2] - 1);
  in.tee_tcb_svn = svn;
  CollateralOptions o;
  o.lower_advisory_ids = {"INTEL-SA-00099"};
  Result<Collateral> c = sim().collateral(TeeType::kTdx, o);
  ASSERT_TRUE(c);
  const Quote q = must_parse(must(sim().tdx_quote(in)));
  Result<PckExtension> ext = parse_pck_extension(sim().pck());
  ASSERT_TRUE(ext);
  Result<CollateralVerdict> v = verify_collateral(
      c->tcb_info, c->qe_identity, key_of(sim().tcb_signing()), platform_of(q, *ext),
      qe_fields_of(q.sig.qe_report), std::chrono::system_clock::now());
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;
  EXPECT_EQ(v->tcb.level_index, 1u);
  EXPECT_EQ(v->tcb.tdx_module_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(v->status, TcbStatus::kOutOfDate);
  EXPECT_EQ(v->advisory_ids, o.lower_advisory_ids);

  // A module SVN below every level is not supported.
  svn[0] = 0;
  in.tee_tcb_svn = svn;
  const Quote old = must_parse(must(sim().tdx_quote(in)));
  v = verify_collateral(c->tcb_info, c->qe_identity, key_of(sim().tcb_signing()),
                        platform_of(old, *ext), qe_fields_of(old.sig.qe_report),
                        std::chrono::system_clock::now());
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->accepted);
}

TEST_F(DcapSimulatorTest, CollateralDatesAreHonoured) {
  const TimePoint now = std::chrono::system_clock::now();
  CollateralOptions o;
  o.issue_date = now - hours(24 * 60);
  o.next_update = now - hours(24 * 30);
  Result<Collateral> c = sim().collateral(TeeType::kSgx, o);
  ASSERT_TRUE(c);
  const Quote q = must_parse(must(sim().sgx_quote(sgx_input())));
  Result<PckExtension> ext = parse_pck_extension(sim().pck());
  ASSERT_TRUE(ext);
  const PlatformTcb p = platform_of(q, *ext);
  const QeReportFields f = qe_fields_of(q.sig.qe_report);
  const PublicKey key = key_of(sim().tcb_signing());
  Result<CollateralVerdict> v = verify_collateral(c->tcb_info, c->qe_identity, key, p, f, now);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->accepted);
  EXPECT_NE(v->reason.find("expired"), std::string::npos) << v->reason;
  v = verify_collateral(c->tcb_info, c->qe_identity, key, p, f, now - hours(24 * 45));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;
}

TEST_F(DcapSimulatorTest, VerifyDcapAcceptsOnlyWithTheSimulatorRoot) {
  TempDir dir;
  ASSERT_TRUE(sim().write_collateral(dir.path(), TeeType::kTdx));
  const TdQuoteInput in = td_input();
  const Bytes quote = must(sim().tdx_quote(in));
  DcapVerifyOptions o;
  o.expected_tee = TeeType::kTdx;
  o.root = sim().root();
  o.crls = {sim().root_crl(), sim().pck_crl()};
  o.collateral_dir = dir.path();
  o.expected_report_data = Bytes(in.report_data.begin(), in.report_data.end());
  Result<DcapVerification> v = verify_dcap(quote, o);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->verdict.accepted) << v->verdict.reason;
  EXPECT_EQ(v->tcb_status, TcbStatus::kUpToDate);
  EXPECT_TRUE(v->collateral_checked);

  o.root.reset();  // the built-in Intel root
  v = verify_dcap(quote, o);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_FALSE(v->verdict.accepted);
}

TEST_F(DcapSimulatorTest, SaveAndLoadGiveTheSameSimulator) {
  TempDir dir;
  ASSERT_TRUE(sim().save(dir.path()));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "pck.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<DcapSimulator> loaded = DcapSimulator::load(dir.path());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->root().fingerprint_sha256(), sim().root().fingerprint_sha256());
  EXPECT_EQ(loaded->pck().fingerprint_sha256(), sim().pck().fingerprint_sha256());
  EXPECT_EQ(loaded->root_crl().der(), sim().root_crl().der());
  EXPECT_EQ(loaded->pck_crl().der(), sim().pck_crl().der());
  EXPECT_EQ(loaded->fmspc(), sim().fmspc());
  EXPECT_EQ(loaded->pce_id(), sim().pce_id());
  EXPECT_EQ(loaded->pck_tcb().sgx_components, sim().pck_tcb().sgx_components);
  EXPECT_EQ(loaded->pck_tcb().pcesvn, sim().pck_tcb().pcesvn);
  EXPECT_EQ(loaded->pck_tcb().cpusvn, sim().pck_tcb().cpusvn);
  EXPECT_EQ(loaded->tdx_module().tee_tcb_svn, sim().tdx_module().tee_tcb_svn);
  EXPECT_EQ(loaded->tdx_module().mr_seam, sim().tdx_module().mr_seam);
  EXPECT_EQ(loaded->qe(TeeType::kTdx).mrsigner, sim().qe(TeeType::kTdx).mrsigner);
  EXPECT_EQ(loaded->qe(TeeType::kSgx).isvsvn, sim().qe(TeeType::kSgx).isvsvn);
  EXPECT_EQ(loaded->qe_id(), sim().qe_id());
  EXPECT_EQ(loaded->attestation_key(), sim().attestation_key());

  // Quotes from the loaded simulator verify the same way, with collateral
  // from either.
  const Bytes quote = must(loaded->tdx_quote(td_input()));
  expect_authentic(sim(), quote);
  TempDir collateral;
  ASSERT_TRUE(sim().write_collateral(collateral.path(), TeeType::kTdx));
  Result<CollateralVerdict> v = check_folder(*loaded, collateral.path(), TeeType::kTdx, quote);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
  const Bytes sgx = must(loaded->sgx_quote(sgx_input()));
  expect_authentic(*loaded, sgx);
  ASSERT_TRUE(loaded->write_collateral(collateral.path(), TeeType::kSgx));
  v = check_folder(sim(), collateral.path(), TeeType::kSgx, sgx);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->reason;
}

TEST_F(DcapSimulatorTest, LoadRejectsBrokenState) {
  TempDir missing;
  Result<DcapSimulator> none = DcapSimulator::load(missing / "nothing");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kIo);

  TempDir dir;
  ASSERT_TRUE(sim().save(dir.path()));
  TempDir other;
  ASSERT_TRUE(revoked().save(other.path()));
  std::filesystem::copy_file(other / "pck.key", dir / "pck.key",
                             std::filesystem::copy_options::overwrite_existing);
  Result<DcapSimulator> mismatched = DcapSimulator::load(dir.path());
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, Errc::kInvalidArgument);

  ASSERT_TRUE(sim().save(dir.path()));
  const std::string broken = R"({"format": 1, "qe_id": "00"})";
  concierge::testing::write_file(dir / "simulator.json", as_bytes(broken));
  Result<DcapSimulator> bad = DcapSimulator::load(dir.path());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kMalformed);
  EXPECT_NE(bad.error().message.find("qe_id"), std::string::npos) << bad.error().message;
}

TEST_F(DcapSimulatorTest, OptionsShapeThePlatform) {
  DcapSimulatorOptions o;
  o.fmspc = {0x00, 0x90, 0x6E, 0xD5, 0x00, 0x00};
  o.pce_id = {0x00, 0x01};
  o.pck_tcb.sgx_components[0] = 200;  // a two-byte DER INTEGER
  o.pck_tcb.pcesvn = 300;
  o.tdx_module.tee_tcb_svn = {4, 0, 6};  // TDX 1.0: no module identities
  o.tdx_module.seam_attributes = 0;
  o.td_qe.isvsvn = 0;
  const TimePoint start =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() - hours(24 * 10));
  o.not_before = start;
  const DcapSimulator s = must_create(o);
  EXPECT_EQ(s.pck().not_before(), start);
  Result<PckExtension> ext = parse_pck_extension(s.pck());
  ASSERT_TRUE(ext) << ext.error().to_string();
  EXPECT_EQ(ext->tcb_components[0], 200);
  EXPECT_EQ(ext->pcesvn, 300);
  EXPECT_EQ(ext->pceid, (Bytes{0x00, 0x01}));
  Result<Collateral> c = s.collateral(TeeType::kTdx);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->tcb_info.info.tdx_module_identities.empty());
  EXPECT_EQ(c->qe_identity.identity.tcb_levels.size(), 1u);  // ISVSVN 0: no lower level
  const Quote q = must_parse(must(s.tdx_quote(td_input())));
  Result<CollateralVerdict> v =
      verify_collateral(c->tcb_info, c->qe_identity, key_of(s.tcb_signing()), platform_of(q, *ext),
                        qe_fields_of(q.sig.qe_report), std::chrono::system_clock::now());
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->accepted) << v->reason;
  EXPECT_FALSE(v->tcb.tdx_module_status.has_value());
}

}  // namespace
}  // namespace concierge::evidence::dcap
