#include "concierge/evidence/dcap/quote.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "concierge/core/x509.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

using concierge::testing::read_file;

constexpr const char* kTdxV4 = "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat";
constexpr const char* kTdxV5 = "tdx/go-tdx-guest/quote_v5_sample.dat";
constexpr const char* kTdxCos = "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat";
constexpr const char* kTdxIntel = "tdx/intel-qvl-sample/quote.dat";
constexpr const char* kSgxIntel = "sgx/intel-qvl-sample/quote.dat";

#define REQUIRE_QUOTE(var, relative)              \
  CONCIERGE_REQUIRE_VECTOR(var##_path, relative); \
  const Bytes var = read_file(var##_path);        \
  ASSERT_FALSE(var.empty()) << relative

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

std::string prefix(const std::string& s, std::size_t n = 16) { return s.substr(0, n); }

// parse(x) succeeds, serialize(parse(x)) == x up to quote_size, the padding is
// zero, and the layout's QE report range decodes to the parsed QE report.
Quote parse_and_round_trip(ByteView data) {
  auto q = parse_quote(data);
  EXPECT_TRUE(q) << q.error().to_string();
  if (!q) return {};
  auto again = serialize_quote(*q);
  EXPECT_TRUE(again) << again.error().to_string();
  if (!again) return *q;
  EXPECT_EQ(again->size(), q->layout.quote_size);
  EXPECT_TRUE(std::equal(again->begin(), again->end(), data.begin()));
  auto qe = parse_sgx_report_body(q->layout.qe_report.of(data), q->layout.qe_report.offset);
  EXPECT_TRUE(qe);
  if (qe) {
    EXPECT_EQ(serialize_sgx_report_body(*qe), serialize_sgx_report_body(q->sig.qe_report));
  }
  return *q;
}

std::size_t count_pem_certs(const Quote& q) {
  const auto pem = q.pck_chain_pem();
  if (!pem) return 0;
  auto certs = Certificate::from_pem_bundle(*pem);
  EXPECT_TRUE(certs) << certs.error().to_string();
  return certs ? certs->size() : 0;
}

TEST(DcapQuote, TdxV4QuoteWithTrailingGarbageIsRejectedAndItsQuotePartParses) {
  REQUIRE_QUOTE(data, kTdxV4);
  // This vector carries non-zero text after the quote; only zeros may follow.
  auto whole = parse_quote(data);
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().code, Errc::kTrailingData);
  EXPECT_EQ(whole.error().field, "trailing_bytes");
  EXPECT_EQ(whole.error().offset, 4935u);

  const ByteView quote = ByteView(data).first(4935);
  const Quote q = parse_and_round_trip(quote);
  EXPECT_EQ(q.header.version, 4);
  EXPECT_EQ(q.header.tee_type, kTeeTypeTdx);
  EXPECT_EQ(q.header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_EQ(q.kind, BodyKind::kTd10);
  ASSERT_NE(q.td(), nullptr);
  const TdReportBody& td = *q.td();
  EXPECT_EQ(hex_of(td.tee_tcb_svn), "03000400000000000000000000000000");
  EXPECT_EQ(prefix(hex_of(td.mr_seam)), "2fd279c16164a93d");
  EXPECT_EQ(prefix(hex_of(td.mr_td)), "6363b8043668a3ad");
  EXPECT_EQ(prefix(hex_of(td.rtmr[0])), "2927da70461cd632");
  EXPECT_EQ(prefix(hex_of(td.report_data)), "6c62dec1b8191749");
  EXPECT_EQ(td.td_attributes, 0x40000000u);
  EXPECT_EQ(td.xfam, 0x61ae7u);

  EXPECT_EQ(q.layout.signed_data.offset, 0u);
  EXPECT_EQ(q.layout.signed_data.size, kHeaderSize + kTd10ReportBodySize);
  EXPECT_EQ(q.layout.body.offset, kHeaderSize);
  EXPECT_EQ(q.layout.signature.offset, 636u);
  EXPECT_EQ(q.layout.attestation_key.offset, 700u);
  EXPECT_EQ(q.layout.qe_report.offset, 770u);
  EXPECT_EQ(q.layout.qe_report_signature.offset, 1154u);
  EXPECT_EQ(q.layout.qe_auth_data.offset, 1220u);
  EXPECT_EQ(q.layout.qe_auth_data.size, 32u);
  EXPECT_EQ(q.layout.certification_data.offset, 1258u);
  EXPECT_EQ(q.layout.certification_data.size, 3677u);
  EXPECT_EQ(q.sig.certification.type, kCertDataPckChain);
  EXPECT_EQ(count_pem_certs(q), 3u);

  const auto j = quote_claims(q);
  EXPECT_EQ(j["tee"], "tdx");
  EXPECT_EQ(j["quote_version"], 4);
  EXPECT_EQ(j["td_attributes"]["pks"], true);
  EXPECT_EQ(j["td_attributes"]["debug"], false);
  EXPECT_EQ(j["td_attributes"]["raw"], "0000000040000000");
  EXPECT_EQ(j["xfam"]["avx512"], true);
  EXPECT_EQ(j["xfam"]["amx"], true);
  EXPECT_EQ(j["td_report_version"], "1.0");
  EXPECT_FALSE(j.contains("mrservicetd"));
}

TEST(DcapQuote, TdxV5QuoteWithTd15BodyParses) {
  REQUIRE_QUOTE(data, kTdxV5);
  const Quote q = parse_and_round_trip(data);
  EXPECT_EQ(q.header.version, 5);
  EXPECT_EQ(q.kind, BodyKind::kTd15);
  ASSERT_NE(q.td(), nullptr);
  EXPECT_EQ(hex_of(q.td()->tee_tcb_svn), "0b010400000000000000000000000000");
  EXPECT_EQ(hex_of(q.td()->tee_tcb_svn2), "0d010400000000000000000000000000");
  EXPECT_EQ(prefix(hex_of(q.td()->mr_td)), "7348651a34b2d2d3");
  EXPECT_EQ(prefix(hex_of(q.td()->report_data)), "945eaacf5abc1f71");
  EXPECT_EQ(q.layout.signed_data.size, kHeaderSize + 6 + kTd15ReportBodySize);
  EXPECT_EQ(q.layout.body.offset, kHeaderSize + 6);
  EXPECT_EQ(q.layout.quote_size, data.size());
  EXPECT_EQ(count_pem_certs(q), 3u);
  // The QE report is the Intel TD quoting enclave's.
  EXPECT_EQ(q.sig.qe_report.isv_prod_id, 2);
  EXPECT_EQ(q.sig.qe_report.isv_svn, 7);
  EXPECT_EQ(prefix(hex_of(q.sig.qe_report.mr_signer)), "dc9e2a7c6f948f17");
  EXPECT_EQ(sgx_report_claims(q.sig.qe_report)["attributes"]["provisionkey"], true);

  const auto j = quote_claims(q);
  EXPECT_EQ(j["quote_version"], 5);
  EXPECT_EQ(j["td_report_version"], "1.5");
  EXPECT_EQ(j["tee_tcb_svn2"], "0d010400000000000000000000000000");
  EXPECT_TRUE(j.contains("mrservicetd"));
  EXPECT_EQ(j["td_attributes"]["sept_ve_disable"], true);
  EXPECT_EQ(prefix(j["mrtd"].get<std::string>()), "7348651a34b2d2d3");
}

TEST(DcapQuote, ZeroPaddedTdxQuoteParses) {
  REQUIRE_QUOTE(data, kTdxCos);
  ASSERT_EQ(data.size(), 8000u);
  const Quote q = parse_and_round_trip(data);
  EXPECT_EQ(q.layout.quote_size, 4935u);
  ASSERT_NE(q.td(), nullptr);
  EXPECT_EQ(hex_of(q.td()->tee_tcb_svn), "04010700000000000000000000000000");
  EXPECT_EQ(prefix(hex_of(q.td()->rtmr[0])), "3fa2f61f395b7f5f");
  EXPECT_EQ(count_pem_certs(q), 3u);
}

TEST(DcapQuote, IntelSampleTdxQuoteParses) {
  REQUIRE_QUOTE(data, kTdxIntel);
  const Quote q = parse_and_round_trip(data);
  EXPECT_EQ(q.kind, BodyKind::kTd10);
  EXPECT_EQ(q.layout.qe_auth_data.size, 0u);
  EXPECT_EQ(q.sig.certification.type, kCertDataPckChain);
  // This generated sample carries DER certificates, not PEM, in the type 5
  // data: the parser keeps the bytes and leaves their decoding to the verifier.
  ASSERT_GE(q.sig.certification.data.size(), 2u);
  EXPECT_EQ(q.sig.certification.data[0], 0x30);
}

TEST(DcapQuote, IntelSampleSgxV3QuoteParses) {
  REQUIRE_QUOTE(data, kSgxIntel);
  const Quote q = parse_and_round_trip(data);
  EXPECT_EQ(q.header.version, 3);
  EXPECT_EQ(q.header.pce_svn, 3);
  EXPECT_EQ(q.kind, BodyKind::kSgx);
  ASSERT_NE(q.sgx(), nullptr);
  EXPECT_EQ(q.layout.signed_data.size, kHeaderSize + kSgxReportBodySize);
  // v3 carries the QE report inline, right after the attestation key.
  EXPECT_EQ(q.layout.qe_report.offset, 436u + 128u);
  // Certification data type 1 (PPID in clear, CPUSVN, PCESVN): no PEM chain.
  EXPECT_EQ(q.sig.certification.type, 1);
  EXPECT_EQ(q.sig.certification.data.size(), 34u);
  EXPECT_EQ(prefix(hex_of(q.sig.qe_report.mr_enclave)), "a3141a6056c8cdea");
  EXPECT_EQ(q.sig.qe_report.isv_svn, 1);
  EXPECT_FALSE(q.pck_chain_pem().has_value());
  const auto j = quote_claims(q);
  EXPECT_EQ(j["tee"], "sgx");
  EXPECT_EQ(j["pce_svn"], 3);
  for (const char* name : {"mrenclave", "mrsigner", "isvprodid", "isvsvn", "attributes",
                           "miscselect", "report_data", "cpusvn", "configsvn"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
}

// Every cut short of the quote's end is kTruncated, with an offset no later
// than the cut.
void expect_truncations(ByteView quote) {
  for (std::size_t n = 0; n < quote.size(); ++n) {
    auto q = parse_quote(quote.first(n));
    ASSERT_FALSE(q) << "cut at " << n;
    ASSERT_EQ(q.error().code, Errc::kTruncated) << n << ": " << q.error().to_string();
    ASSERT_TRUE(q.error().offset.has_value()) << n;
    ASSERT_LE(*q.error().offset, n) << q.error().to_string();
    ASSERT_FALSE(q.error().field.empty()) << n;
  }
}

TEST(DcapQuote, TruncationsAreReportedWithTheOffset) {
  REQUIRE_QUOTE(v5, kTdxV5);
  expect_truncations(v5);
  REQUIRE_QUOTE(sgx, kSgxIntel);
  expect_truncations(sgx);
  auto q = parse_quote(ByteView(v5).first(700));
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().field, "report_body");
  EXPECT_EQ(q.error().offset, kHeaderSize + 6);
}

void put_u16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const Bytes& b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(b[at + i]) << (8 * i);
  return v;
}

void expect_rejected(const Bytes& data, Errc code, const std::string& field, std::size_t offset,
                     const std::string& what) {
  auto q = parse_quote(data);
  ASSERT_FALSE(q) << what;
  EXPECT_EQ(q.error().code, code) << what << ": " << q.error().to_string();
  EXPECT_EQ(q.error().field, field) << what << ": " << q.error().to_string();
  EXPECT_EQ(q.error().offset, offset) << what << ": " << q.error().to_string();
}

TEST(DcapQuote, MalformedQuotesAreRejectedNamingTheField) {
  REQUIRE_QUOTE(good, kTdxV5);
  ASSERT_TRUE(parse_quote(good));
  const Quote parsed = *parse_quote(good);
  const std::size_t sig_size_at = parsed.layout.signed_data.size;
  const std::size_t cert_type_at = parsed.layout.attestation_key.offset + 64;
  const std::size_t nested_type_at = parsed.layout.certification_data.offset - 6;

  Bytes bad = good;
  put_u32(bad, 50, kTd10ReportBodySize);
  expect_rejected(bad, Errc::kMalformed, "body_size", 50, "v5 body size of a 1.0 body");

  bad = good;
  put_u16(bad, 48, 1);
  expect_rejected(bad, Errc::kMalformed, "body_type", 48, "SGX body type in a TDX quote");

  bad = good;
  put_u16(bad, 48, 4);
  expect_rejected(bad, Errc::kMalformed, "body_type", 48, "unknown body type");

  bad = good;
  put_u32(bad, 4, 0x80);
  expect_rejected(bad, Errc::kMalformed, "tee_type", 4, "unknown tee type");

  bad = good;
  put_u16(bad, 0, 6);
  expect_rejected(bad, Errc::kUnsupported, "version", 0, "version 6");

  bad = good;
  put_u16(bad, 2, kAttestationKeyEcdsaP384);
  expect_rejected(bad, Errc::kUnsupported, "attestation_key_type", 2, "P-384 key");

  bad = good;
  put_u16(bad, cert_type_at, kCertDataPckChain);
  expect_rejected(bad, Errc::kMalformed, "certification_data_type", cert_type_at,
                  "type 5 at the top of a v5 quote");

  bad = good;
  put_u16(bad, nested_type_at, 4);
  expect_rejected(bad, Errc::kMalformed, "pck_certification_data_type", nested_type_at,
                  "type 4 inside type 6");

  for (int delta : {-1, +1}) {
    bad = good;
    put_u32(bad, sig_size_at, get_u32(bad, sig_size_at) + static_cast<std::uint32_t>(delta));
    expect_rejected(bad, Errc::kMalformed, "signature_data_size", sig_size_at,
                    "signature data size off by " + std::to_string(delta));
    bad = good;
    put_u32(bad, cert_type_at + 2,
            get_u32(bad, cert_type_at + 2) + static_cast<std::uint32_t>(delta));
    expect_rejected(bad, Errc::kMalformed, "certification_data_size", cert_type_at + 2,
                    "certification data size off by " + std::to_string(delta));
  }

  bad = good;
  bad[parsed.layout.qe_report.offset + 25] = 1;
  expect_rejected(bad, Errc::kMalformed, "reserved_1", parsed.layout.qe_report.offset + 25,
                  "non-zero reserved byte in the QE report");

  // Zero padding is accepted; anything else after the quote is not.
  Bytes padded = good;
  padded.resize(good.size() + 100, 0);
  auto ok = parse_quote(padded);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->layout.quote_size, good.size());
  padded[good.size() + 42] = 0x01;
  expect_rejected(padded, Errc::kTrailingData, "trailing_bytes", good.size() + 42,
                  "non-zero byte in the padding");
}

TEST(DcapQuote, V3ReservedTeeTypeMustBeZero) {
  REQUIRE_QUOTE(good, kSgxIntel);
  Bytes bad = good;
  bad[4] = 0x81;
  expect_rejected(bad, Errc::kMalformed, "tee_type", 4, "TDX tee type in v3");
  bad = good;
  const std::size_t cert_type_at = 436 + 64 + 64 + 384 + 64 + 2;  // auth data is empty
  put_u16(bad, cert_type_at, kCertDataQeReport);
  expect_rejected(bad, Errc::kMalformed, "certification_data_type", cert_type_at,
                  "type 6 in a v3 quote");
}

Quote sample_quote(std::uint16_t version, BodyKind kind) {
  Quote q;
  q.header.version = version;
  q.header.tee_type = kind == BodyKind::kSgx ? kTeeTypeSgx : kTeeTypeTdx;
  q.header.qe_svn = 8;
  q.header.pce_svn = 13;
  q.header.user_data[0] = 0xAB;
  q.kind = kind;
  if (kind == BodyKind::kSgx) {
    SgxReportBody b;
    b.mr_enclave[0] = 0xE1;
    b.mr_signer[31] = 0x51;
    b.isv_prod_id = 2;
    b.isv_svn = 3;
    b.config_svn = 4;
    b.miscselect = 1;
    b.attributes_flags = 0x7;
    b.attributes_xfrm = 0xE7;
    b.report_data[63] = 0x99;
    q.body = b;
  } else {
    TdReportBody b;
    b.mr_td[0] = 0x7D;
    b.rtmr[3][47] = 0x33;
    b.td_attributes = 1;
    b.xfam = 0x3;
    if (kind == BodyKind::kTd15) {
      b.tee_tcb_svn2[0] = 5;
      b.mr_service_td[1] = 6;
    }
    q.body = b;
  }
  q.sig.signature[0] = 1;
  q.sig.attestation_key[63] = 2;
  q.sig.qe_report.isv_prod_id = 1;
  q.sig.qe_report.report_data[0] = 0x42;
  q.sig.qe_auth_data = {1, 2, 3};
  const std::string pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
  q.sig.certification.data.assign(pem.begin(), pem.end());
  return q;
}

TEST(DcapQuote, BuiltQuotesRoundTripInEveryVersion) {
  const std::pair<std::uint16_t, BodyKind> cases[] = {
      {3, BodyKind::kSgx}, {4, BodyKind::kSgx},  {4, BodyKind::kTd10},
      {5, BodyKind::kSgx}, {5, BodyKind::kTd10}, {5, BodyKind::kTd15},
  };
  for (const auto& [version, kind] : cases) {
    const Quote built = sample_quote(version, kind);
    auto bytes = serialize_quote(built);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    auto q = parse_quote(*bytes);
    ASSERT_TRUE(q) << "v" << version << ": " << q.error().to_string();
    EXPECT_EQ(q->kind, kind);
    EXPECT_EQ(q->layout.quote_size, bytes->size());
    EXPECT_EQ(q->layout.signed_data.size, kHeaderSize + (version == 5 ? 6 : 0) + body_size(kind));
    EXPECT_EQ(q->sig.qe_auth_data, built.sig.qe_auth_data);
    ASSERT_TRUE(q->pck_chain_pem().has_value());
    EXPECT_EQ(*q->pck_chain_pem(), *built.pck_chain_pem());
    EXPECT_EQ(q->layout.certification_data.size, built.sig.certification.data.size());
    auto again = serialize_quote(*q);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *bytes) << "v" << version;
    const auto j = quote_claims(*q);
    EXPECT_EQ(j["tee"], kind == BodyKind::kSgx ? "sgx" : "tdx");
    EXPECT_EQ(j["qe_svn"], 8);
    EXPECT_EQ(j["pce_svn"], 13);
    if (kind != BodyKind::kSgx) {
      EXPECT_EQ(j["td_attributes"]["debug"], true);
      EXPECT_EQ(prefix(j["mrtd"].get<std::string>(), 2), "7d");
      EXPECT_EQ(j["rtmr3"].get<std::string>().substr(94), "33");
      EXPECT_EQ(j.contains("mrservicetd"), kind == BodyKind::kTd15);
    } else {
      EXPECT_EQ(j["attributes"]["debug"], true);
      EXPECT_EQ(j["attributes"]["xfrm"]["avx512"], true);
      EXPECT_EQ(j["miscselect"]["exinfo"], true);
      EXPECT_EQ(j["isvprodid"], 2);
      EXPECT_EQ(j["configsvn"], 4);
    }
  }
}

TEST(DcapQuote, InconsistentQuotesAreNotSerialized) {
  Quote q = sample_quote(3, BodyKind::kTd10);
  EXPECT_FALSE(serialize_quote(q));  // TD body in v3
  q = sample_quote(4, BodyKind::kTd15);
  EXPECT_FALSE(serialize_quote(q));  // TD 1.5 body in v4
  q = sample_quote(4, BodyKind::kTd10);
  q.kind = BodyKind::kSgx;
  EXPECT_FALSE(serialize_quote(q));  // body alternative disagrees with the kind
  q = sample_quote(4, BodyKind::kSgx);
  q.header.tee_type = kTeeTypeTdx;
  EXPECT_FALSE(serialize_quote(q));
  q = sample_quote(4, BodyKind::kSgx);
  q.sig.certification.type = 1;
  auto r = serialize_quote(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  q.header.version = 3;
  EXPECT_TRUE(serialize_quote(q));  // type 1 is fine in v3
}

TEST(DcapQuote, StandaloneReportBodies) {
  SgxReportBody b;
  b.isv_svn = 9;
  b.cpu_svn[15] = 1;
  const Bytes bytes = serialize_sgx_report_body(b);
  ASSERT_EQ(bytes.size(), kSgxReportBodySize);
  auto back = parse_sgx_report_body(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->isv_svn, 9);
  EXPECT_EQ(sgx_report_claims(*back)["cpusvn"], "00000000000000000000000000000001");
  auto short_one = parse_sgx_report_body(ByteView(bytes).first(100), 1000);
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().code, Errc::kTruncated);
  Bytes bad = bytes;
  bad[300] = 1;  // reserved_4 spans 262..303
  auto r = parse_sgx_report_body(bad, 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "reserved_4");
  EXPECT_EQ(r.error().offset, 1300u);

  TdReportBody td;
  td.mr_service_td[47] = 1;
  const Bytes td15 = serialize_td_report_body(td, BodyKind::kTd15);
  ASSERT_EQ(td15.size(), kTd15ReportBodySize);
  auto td_back = parse_td_report_body(td15, BodyKind::kTd15);
  ASSERT_TRUE(td_back);
  EXPECT_EQ(td_back->mr_service_td[47], 1);
  EXPECT_EQ(serialize_td_report_body(td, BodyKind::kTd10).size(), kTd10ReportBodySize);
  EXPECT_FALSE(parse_td_report_body(td15, BodyKind::kTd10));
}

TEST(DcapQuote, AttributeDecoders) {
  const TdAttributes td = decode_td_attributes((1ull << 0) | (1ull << 28) | (1ull << 30) |
                                               (1ull << 31) | (1ull << 63) | (1ull << 5));
  EXPECT_TRUE(td.debug);
  EXPECT_TRUE(td.sept_ve_disable);
  EXPECT_TRUE(td.pks);
  EXPECT_TRUE(td.kl);
  EXPECT_TRUE(td.perfmon);
  EXPECT_EQ(td_attributes_json(td.raw)["raw"], "80000000d0000021");
  EXPECT_FALSE(decode_td_attributes(1ull << 28).debug);

  const SgxAttributes sgx = decode_sgx_attributes(0x4B5);
  EXPECT_TRUE(sgx.init);
  EXPECT_FALSE(sgx.debug);
  EXPECT_TRUE(sgx.mode64bit);
  EXPECT_TRUE(sgx.provisionkey);
  EXPECT_TRUE(sgx.einittokenkey);
  EXPECT_TRUE(sgx.kss);
  EXPECT_TRUE(sgx.aexnotify);

  const auto x = xfam_json(0x602E7);
  EXPECT_EQ(x["raw"], "00000000000602e7");
  EXPECT_EQ(x["x87"], true);
  EXPECT_EQ(x["sse"], true);
  EXPECT_EQ(x["avx"], true);
  EXPECT_EQ(x["avx512"], true);
  EXPECT_EQ(x["pk"], true);
  EXPECT_EQ(x["amx"], true);
  EXPECT_EQ(xfam_json(0x27)["avx512"], false);  // bits 6 and 7 missing
  EXPECT_EQ(xfam_json(0x20003)["amx"], false);  // bit 17 missing

  const auto m = miscselect_json(0x2);
  EXPECT_EQ(m["raw"], "00000002");
  EXPECT_EQ(m["exinfo"], false);
  EXPECT_EQ(m["cpinfo"], true);
}

}  // namespace
}  // namespace concierge::evidence::dcap
