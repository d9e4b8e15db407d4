// VCEK/VLEK extensions: the real Milan VCEK from the vectors folder against the
// real report it endorses, and synthetic certificates (test PKI, P-256) for
// every extension rule and every match rule.
#include "concierge/evidence/snp/vcek.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::CertOptions;
using concierge::testing::CustomExtension;
using concierge::testing::Issued;

Bytes hex(const char* h) { return hex_decode(h).value(); }

constexpr const char* kRealHwId =
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b"
    "564ea464cdce40c05f63c9b610c5068b006b5d";

// ---- DER for the extension values ----

Bytes der_int(unsigned v) {
  if (v < 0x80) return {0x02, 0x01, static_cast<std::uint8_t>(v)};
  if (v < 0x100) return {0x02, 0x02, 0x00, static_cast<std::uint8_t>(v)};
  return {0x02, 0x02, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
// Tag, one length byte, value (short values only).
Bytes der_tlv(std::uint8_t tag, ByteView value) {
  Bytes out(2 + value.size());
  out[0] = tag;
  out[1] = static_cast<std::uint8_t>(value.size());
  std::copy(value.begin(), value.end(), out.begin() + 2);
  return out;
}
Bytes der_ia5(const std::string& s) { return der_tlv(0x16, as_bytes(s)); }
Bytes der_octets(const Bytes& b) { return der_tlv(0x04, b); }

struct Amd {
  std::string product = "Milan-B0";
  unsigned bl = 3, tee = 0, snp = 8, ucode = 209;
  std::optional<unsigned> fmc;
  Bytes hwid = Bytes(64, 0xC1);
  std::string csp;  // non-empty: a VLEK (no hwID)
};

std::vector<CustomExtension> amd_extensions(const Amd& a) {
  std::vector<CustomExtension> e{
      {std::string(kOidStructVersion), der_int(1)},
      {std::string(kOidProductName), der_ia5(a.product)},
      {std::string(kOidBlSpl), der_int(a.bl)},
      {std::string(kOidTeeSpl), der_int(a.tee)},
      {std::string(kOidSnpSpl), der_int(a.snp)},
      {std::string(kOidUcodeSpl), der_int(a.ucode)},
  };
  if (a.fmc) e.push_back({std::string(kOidFmcSpl), der_int(*a.fmc)});
  if (a.csp.empty()) {
    e.push_back({std::string(kOidHwId), a.hwid});  // raw, as the KDS writes it
  } else {
    e.push_back({std::string(kOidCspId), der_ia5(a.csp)});
  }
  return e;
}

const Issued& ca() {
  static const Issued root = [] {
    CertOptions o;
    o.common_name = "SEV-Milan";
    return concierge::testing::make_root(o);
  }();
  return root;
}

Certificate leaf_with(std::vector<CustomExtension> extensions) {
  CertOptions o;
  o.common_name = "SEV-VCEK";
  o.extensions = std::move(extensions);
  return concierge::testing::make_leaf(ca(), o).cert;
}

Certificate leaf(const Amd& a) { return leaf_with(amd_extensions(a)); }

// Replaces (or adds) one extension's DER value.
Certificate leaf_replacing(const std::string& oid, Bytes value) {
  std::vector<CustomExtension> e = amd_extensions(Amd{});
  bool replaced = false;
  for (CustomExtension& x : e) {
    if (x.oid == oid) {
      x.der_value = value;
      replaced = true;
    }
  }
  if (!replaced) e.push_back({oid, value});
  return leaf_with(e);
}

AttestationReport report_for(const Amd& a, Product product) {
  AttestationReport r;
  r.version = 2;
  TcbVersion tcb;
  tcb.bootloader = static_cast<std::uint8_t>(a.bl);
  tcb.tee = static_cast<std::uint8_t>(a.tee);
  tcb.snp = static_cast<std::uint8_t>(a.snp);
  tcb.microcode = static_cast<std::uint8_t>(a.ucode);
  if (product == Product::kTurin) tcb.fmc = static_cast<std::uint8_t>(a.fmc.value_or(0));
  r.reported_tcb = encode_tcb(tcb, product);
  std::copy(a.hwid.begin(), a.hwid.end(), r.chip_id.begin());
  r.signer.signing_key = a.csp.empty() ? SigningKey::kVcek : SigningKey::kVlek;
  return r;
}

// The real report, through parse_report when it accepts it, else by hand
// (REPORTED_TCB at 0x180, CHIP_ID at 0x1A0, signer info at 0x48).
AttestationReport real_report(const Bytes& data) {
  if (auto parsed = parse_report(data)) return *parsed;
  AttestationReport r;
  r.version = data[0];
  for (int i = 7; i >= 0; --i) r.reported_tcb = (r.reported_tcb << 8) | data[0x180 + i];
  std::copy(data.begin() + 0x1A0, data.begin() + 0x1E0, r.chip_id.begin());
  r.signer.mask_chip_key = (data[0x48] & 2) != 0;
  r.signer.signing_key = static_cast<SigningKey>((data[0x48] >> 2) & 7);
  return r;
}

// ---- real data ----

TEST(SnpVcek, RealMilanVcekExtensions) {
  CONCIERGE_REQUIRE_VECTOR(path, "snp/go-sev-guest/vcek.der");
  auto cert = Certificate::from_der(concierge::testing::read_file(path));
  ASSERT_TRUE(cert.has_value()) << cert.error().to_string();
  EXPECT_EQ(cert->serial_hex(), "00");  // AMD VCEKs carry serial number 0

  auto info = parse_vcek_extensions(*cert);
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->kind, SigningKey::kVcek);
  EXPECT_EQ(info->struct_version, 0);
  EXPECT_EQ(info->product_name, "Milan-B0");
  EXPECT_EQ(info->product(), Product::kMilan);
  EXPECT_EQ(info->bl_spl, 2);
  EXPECT_EQ(info->tee_spl, 0);
  EXPECT_EQ(info->snp_spl, 5);
  EXPECT_EQ(info->ucode_spl, 0x44);
  EXPECT_FALSE(info->fmc_spl.has_value());
  ASSERT_EQ(info->hwid.size(), 64u);
  EXPECT_EQ(hex_encode(info->hwid), kRealHwId);
  EXPECT_TRUE(info->csp_id.empty());

  const nlohmann::json claims = vcek_claims(*info);
  EXPECT_EQ(claims["kind"], "vcek");
  EXPECT_EQ(claims["product_name"], "Milan-B0");
  EXPECT_EQ(claims["spl"]["microcode"], 68);
  EXPECT_EQ(claims["hwid"], kRealHwId);
  EXPECT_FALSE(claims.contains("csp_id"));
}

TEST(SnpVcek, RealVcekMatchesRealReport) {
  CONCIERGE_REQUIRE_VECTOR(vcek_path, "snp/go-sev-guest/vcek.der");
  CONCIERGE_REQUIRE_VECTOR(report_path, "snp/go-sev-guest/attestation.bin");
  const Bytes data = concierge::testing::read_file(report_path);
  ASSERT_EQ(data.size(), 1184u);
  auto info = parse_vcek_extensions(
      Certificate::from_der(concierge::testing::read_file(vcek_path)).value());
  ASSERT_TRUE(info.has_value());
  AttestationReport report = real_report(data);
  EXPECT_EQ(report.reported_tcb, 0x4405000000000002ull);

  Verdict v = vcek_matches_report(*info, report, Product::kMilan);
  EXPECT_TRUE(v.accepted) << v.reason;
  v = vcek_matches_report(*info, report, Product::kUnknown);  // Milan/Genoa TCB layout
  EXPECT_TRUE(v.accepted) << v.reason;

  AttestationReport other_chip = report;
  other_chip.chip_id[63] ^= 1;
  v = vcek_matches_report(*info, other_chip, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason.find("VCEK hwID " + std::string(kRealHwId) + " differs from CHIP_ID "), 0u)
      << v.reason;

  AttestationReport newer = report;
  newer.reported_tcb = 0x4505000000000002ull;
  v = vcek_matches_report(*info, newer, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK ucodeSPL 68 differs from REPORTED_TCB microcode 69");

  // The productName says Milan.
  v = vcek_matches_report(*info, report, Product::kGenoa);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK productName Milan-B0 is not for Genoa");
}

// ---- synthetic: parsing ----

TEST(SnpVcek, ParsesSyntheticVcekWithTwoByteUcodeSpl) {
  auto info = parse_vcek_extensions(leaf(Amd{}));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->ucode_spl, 209);  // 02 02 00 D1
  EXPECT_EQ(info->struct_version, 1);
  EXPECT_EQ(info->bl_spl, 3);
  EXPECT_EQ(info->snp_spl, 8);
  EXPECT_EQ(info->hwid, Bytes(64, 0xC1));
}

TEST(SnpVcek, ParsesVlekWithCspId) {
  Amd a;
  a.csp = "ExampleCloud";
  auto info = parse_vcek_extensions(leaf(a));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->kind, SigningKey::kVlek);
  EXPECT_EQ(info->csp_id, "ExampleCloud");
  EXPECT_TRUE(info->hwid.empty());
  const nlohmann::json claims = vcek_claims(*info);
  EXPECT_EQ(claims["kind"], "vlek");
  EXPECT_EQ(claims["csp_id"], "ExampleCloud");
  EXPECT_FALSE(claims.contains("hwid"));
}

TEST(SnpVcek, ParsesTurinFmcSplAndEightByteHwId) {
  Amd a;
  a.product = "Turin-C0";
  a.fmc = 1;
  a.hwid = hex("0102030405060708");
  auto info = parse_vcek_extensions(leaf(a));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->fmc_spl, 1);
  EXPECT_EQ(info->hwid.size(), 8u);
  EXPECT_EQ(info->product(), Product::kTurin);
}

TEST(SnpVcek, HwIdInADerOctetStringIsAcceptedToo) {
  auto info =
      parse_vcek_extensions(leaf_replacing(std::string(kOidHwId), der_octets(Bytes(64, 0xC1))));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->hwid, Bytes(64, 0xC1));
  info = parse_vcek_extensions(leaf_replacing(std::string(kOidHwId), der_octets(Bytes(8, 2))));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_EQ(info->hwid, Bytes(8, 2));
}

TEST(SnpVcek, MissingSplsAreNotParseErrors) {
  auto info = parse_vcek_extensions(leaf_with({{std::string(kOidHwId), Bytes(64, 1)}}));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_FALSE(info->bl_spl.has_value());
  EXPECT_FALSE(info->struct_version.has_value());
  EXPECT_EQ(info->product_name, "");
  EXPECT_EQ(info->product(), Product::kUnknown);
}

struct BadValue {
  const char* name;
  std::string_view oid;
  Bytes value;
  Errc code;
  const char* field;
  const char* message_part;
};

TEST(SnpVcek, RejectsMalformedExtensionValues) {
  const std::vector<BadValue> cases = {
      {"trailing byte", kOidBlSpl, hex("02010500"), Errc::kTrailingData, "blSPL", "1 bytes after"},
      {"padded INTEGER", kOidTeeSpl, hex("02020005"), Errc::kMalformed, "teeSPL", "DER"},
      {"BER length", kOidSnpSpl, hex("02810105"), Errc::kMalformed, "snpSPL", "INTEGER"},
      {"negative SPL", kOidUcodeSpl, hex("0201ff"), Errc::kMalformed, "ucodeSPL", "outside 0..255"},
      {"SPL 256", kOidUcodeSpl, hex("02020100"), Errc::kMalformed, "ucodeSPL", "SPL 256"},
      {"SPL not INTEGER", kOidBlSpl, hex("040105"), Errc::kMalformed, "blSPL", "not a DER INTEGER"},
      {"UTF8String name", kOidProductName, hex("0c084d696c616e2d4230"), Errc::kMalformed,
       "productName1", "IA5String"},
      {"non-ASCII name", kOidProductName, hex("16024dff"), Errc::kMalformed, "productName1",
       "non-ASCII"},
      {"hwID as INTEGER", kOidHwId, hex("020101"), Errc::kMalformed, "hwID", "OCTET STRING"},
      {"63-byte hwID", kOidHwId, Bytes(63, 1), Errc::kMalformed, "hwID",
       "63 bytes: neither a 64- or 8-byte hwID"},
      {"DER 63-byte hwID", kOidHwId, der_octets(Bytes(63, 1)), Errc::kMalformed, "hwID",
       "65 bytes: neither"},
      {"DER hwID with a trailing byte", kOidHwId,
       [] {
         Bytes b = der_octets(Bytes(64, 1));
         b.push_back(0);
         return b;
       }(),
       Errc::kMalformed, "hwID", "67 bytes: neither"},
      {"empty value", kOidFmcSpl, Bytes{}, Errc::kMalformed, "fmcSPL", "not a DER INTEGER"},
  };
  for (const BadValue& c : cases) {
    SCOPED_TRACE(c.name);
    auto info = parse_vcek_extensions(leaf_replacing(std::string(c.oid), c.value));
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, c.code) << info.error().to_string();
    EXPECT_EQ(info.error().field, c.field);
    EXPECT_NE(info.error().message.find(c.message_part), std::string::npos)
        << info.error().to_string();
    EXPECT_NE(info.error().message.find(std::string(c.oid)), std::string::npos);
  }
}

TEST(SnpVcek, RejectsBothOrNeitherHwIdAndCspId) {
  std::vector<CustomExtension> both = amd_extensions(Amd{});
  both.push_back({std::string(kOidCspId), der_ia5("csp")});
  auto info = parse_vcek_extensions(leaf_with(both));
  ASSERT_FALSE(info.has_value());
  EXPECT_NE(info.error().message.find("both hwID and cspID"), std::string::npos);

  info = parse_vcek_extensions(leaf_with({{std::string(kOidBlSpl), der_int(1)}}));
  ASSERT_FALSE(info.has_value());
  EXPECT_NE(info.error().message.find("not a VCEK or VLEK"), std::string::npos);
}

// ---- synthetic: matching ----

Verdict match(const Amd& cert, const AttestationReport& report, Product product) {
  auto info = parse_vcek_extensions(leaf(cert));
  EXPECT_TRUE(info.has_value());
  return vcek_matches_report(*info, report, product);
}

TEST(SnpVcek, MatchesItsReport) {
  const Amd a;
  EXPECT_TRUE(match(a, report_for(a, Product::kMilan), Product::kMilan).accepted);
}

TEST(SnpVcek, EachSplMismatchNamesTheFieldAndBothValues) {
  const Amd cert;
  struct Case {
    Amd report;
    const char* reason;
  };
  Amd bl, tee, snp, ucode;
  bl.bl = 4;
  tee.tee = 1;
  snp.snp = 7;
  ucode.ucode = 210;
  for (const Case& c : {Case{bl, "VCEK blSPL 3 differs from REPORTED_TCB bootloader 4"},
                        Case{tee, "VCEK teeSPL 0 differs from REPORTED_TCB tee 1"},
                        Case{snp, "VCEK snpSPL 8 differs from REPORTED_TCB snp 7"},
                        Case{ucode, "VCEK ucodeSPL 209 differs from REPORTED_TCB microcode 210"}}) {
    const Verdict v = match(cert, report_for(c.report, Product::kMilan), Product::kMilan);
    EXPECT_FALSE(v.accepted);
    EXPECT_EQ(v.reason, c.reason);
  }
}

TEST(SnpVcek, HwIdMismatchUnlessChipKeyMasked) {
  const Amd cert;
  AttestationReport r = report_for(cert, Product::kMilan);
  r.chip_id[5] = 0;
  Verdict v = match(cert, r, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("VCEK hwID c1c1"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("differs from CHIP_ID c1c1c1c1c100c1"), std::string::npos) << v.reason;

  r.chip_id.fill(0);  // MASK_CHIP_ID: the firmware zeroes CHIP_ID
  v = match(cert, r, Product::kMilan);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(SnpVcek, TurinComparesEightBytesAndFmcSpl) {
  Amd a;
  a.product = "Turin-C0";
  a.fmc = 2;
  a.hwid = hex("0102030405060708");
  AttestationReport r = report_for(a, Product::kTurin);
  Verdict v = match(a, r, Product::kTurin);
  EXPECT_TRUE(v.accepted) << v.reason;

  AttestationReport tail = r;
  tail.chip_id[8] = 1;  // the rest of CHIP_ID must be zero
  v = match(a, tail, Product::kTurin);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("VCEK hwID 0102030405060708 differs from CHIP_ID 010203040506070801"),
            std::string::npos)
      << v.reason;

  Amd older_fmc = a;
  older_fmc.fmc = 1;
  v = match(older_fmc, r, Product::kTurin);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK fmcSPL 1 differs from REPORTED_TCB fmc 2");

  Amd no_fmc = a;
  no_fmc.fmc.reset();
  v = match(no_fmc, r, Product::kTurin);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK has no fmcSPL extension");
}

TEST(SnpVcek, FmcSplOutsideTurinIsRejected) {
  Amd a;
  a.fmc = 1;
  const Verdict v = match(a, report_for(a, Product::kMilan), Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK fmcSPL 1 but the Milan REPORTED_TCB has no fmc field");
}

TEST(SnpVcek, MissingSplIsRejected) {
  std::vector<CustomExtension> e = amd_extensions(Amd{});
  std::erase_if(e, [](const CustomExtension& x) { return x.oid == kOidTeeSpl; });
  auto info = parse_vcek_extensions(leaf_with(e));
  ASSERT_TRUE(info.has_value());
  const Verdict v = vcek_matches_report(*info, report_for(Amd{}, Product::kMilan), Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VCEK has no teeSPL extension");
}

TEST(SnpVcek, VlekSkipsHwIdButChecksSplsAndSigningKey) {
  Amd a;
  a.csp = "ExampleCloud";
  AttestationReport r = report_for(a, Product::kGenoa);
  r.chip_id.fill(0x77);  // not compared for a VLEK
  a.product = "Genoa-B1";
  Verdict v = match(a, r, Product::kGenoa);
  EXPECT_TRUE(v.accepted) << v.reason;

  AttestationReport vcek_signed = r;
  vcek_signed.signer.signing_key = SigningKey::kVcek;
  v = match(a, vcek_signed, Product::kGenoa);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "report SIGNING_KEY is vcek but the certificate is a VLEK");

  AttestationReport newer = r;
  newer.reported_tcb = encode_tcb(decode_tcb(r.reported_tcb, Product::kGenoa), Product::kGenoa) +
                       1;  // bootloader + 1
  v = match(a, newer, Product::kGenoa);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "VLEK blSPL 3 differs from REPORTED_TCB bootloader 4");
}

TEST(SnpVcek, VcekForAVlekSignedReportIsRejected) {
  const Amd a;
  AttestationReport r = report_for(a, Product::kMilan);
  r.signer.signing_key = SigningKey::kVlek;
  Verdict v = match(a, r, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "report SIGNING_KEY is vlek but the certificate is a VCEK");
  r.signer.signing_key = SigningKey::kNone;
  v = match(a, r, Product::kMilan);
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reason, "report SIGNING_KEY is none but the certificate is a VCEK");
}

}  // namespace
}  // namespace concierge::evidence::snp
