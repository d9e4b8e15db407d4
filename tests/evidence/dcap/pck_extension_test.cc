// The PCK SGX extension: values of real and sample PCK certificates (checked
// against `openssl asn1parse -strparse`), and synthetic extensions built here
// byte by byte for every kind of malformation.
#include "concierge/evidence/dcap/pck_extension.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "support/test_pki.h"
#include "support/vectors.h"

namespace concierge::evidence::dcap {
namespace {

// ---- a tiny DER writer (short and two-byte long lengths) ----

Bytes cat(const std::vector<Bytes>& parts) {
  std::size_t n = 0;
  for (const Bytes& p : parts) n += p.size();
  Bytes out(n);
  std::size_t at = 0;
  for (const Bytes& p : parts) {
    for (std::uint8_t b : p) out[at++] = b;
  }
  return out;
}

Bytes tlv(std::uint8_t tag, const Bytes& content) {
  const std::size_t n = content.size();
  Bytes head;
  if (n < 0x80) {
    head = {tag, static_cast<std::uint8_t>(n)};
  } else if (n < 0x100) {
    head = {tag, 0x81, static_cast<std::uint8_t>(n)};
  } else {
    head = {tag, 0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  }
  return cat({head, content});
}

Bytes seq(const std::vector<Bytes>& items) { return tlv(0x30, cat(items)); }

// 1.2.840.113741.1.13.1 followed by `arcs` (each < 128).
Bytes sgx_oid(const std::vector<std::uint8_t>& arcs) {
  Bytes base{0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
  return tlv(0x06, cat({base, Bytes(arcs.begin(), arcs.end())}));
}

Bytes entry(const std::vector<std::uint8_t>& arcs, const Bytes& value) {
  return seq({sgx_oid(arcs), value});
}

Bytes der_int(unsigned v) {
  if (v < 0x80) return {0x02, 0x01, static_cast<std::uint8_t>(v)};
  if (v < 0x8000)
    return {0x02, 0x02, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return {0x02, 0x03, static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}
Bytes octets(std::size_t n, std::uint8_t fill) { return tlv(0x04, Bytes(n, fill)); }
Bytes enumerated(std::uint8_t v) { return {0x0A, 0x01, v}; }
Bytes boolean(std::uint8_t v) { return {0x01, 0x01, v}; }

// The parts of a synthetic extension; an empty value leaves its element out.
struct Parts {
  Bytes ppid = octets(16, 0x11);
  std::vector<Bytes> tcb;  // the 18 members, as entries
  Bytes pceid = octets(2, 0x00);
  Bytes fmspc = tlv(0x04, Bytes{0x00, 0x90, 0x6E, 0xA1, 0x00, 0x00});
  Bytes sgx_type = enumerated(1);
  Bytes platform_instance_id = octets(16, 0x22);
  std::vector<Bytes> configuration{entry({7, 1}, boolean(0xFF)), entry({7, 2}, boolean(0x00)),
                                   entry({7, 3}, boolean(0xFF))};
  std::vector<Bytes> extra;  // appended to the outer SEQUENCE

  Parts() {
    for (std::uint8_t i = 1; i <= 16; ++i) tcb.push_back(entry({2, i}, der_int(i)));
    tcb.push_back(entry({2, 17}, der_int(13)));
    tcb.push_back(entry({2, 18}, octets(16, 0x07)));
  }

  Bytes der() const {
    std::vector<Bytes> top;
    if (!ppid.empty()) top.push_back(entry({1}, ppid));
    top.push_back(entry({2}, seq(tcb)));
    if (!pceid.empty()) top.push_back(entry({3}, pceid));
    if (!fmspc.empty()) top.push_back(entry({4}, fmspc));
    if (!sgx_type.empty()) top.push_back(entry({5}, sgx_type));
    if (!platform_instance_id.empty()) top.push_back(entry({6}, platform_instance_id));
    if (!configuration.empty()) top.push_back(entry({7}, seq(configuration)));
    for (const Bytes& e : extra) top.push_back(e);
    return seq(top);
  }
};

Error parse_error(const Bytes& der) {
  auto r = parse_pck_extension(der);
  EXPECT_FALSE(r.has_value()) << "parsed unexpectedly";
  return r.has_value() ? Error{} : r.error();
}

// ---- vectors ----

std::string read_text(const std::filesystem::path& p) {
  return std::string(as_chars(concierge::testing::read_file(p)));
}

// The PEM chain in a quote's certification data: from the first BEGIN line to
// the end of the last END line.
std::string pem_in_quote(const std::filesystem::path& p) {
  const std::string bytes = read_text(p);
  const std::size_t begin = bytes.find("-----BEGIN CERTIFICATE-----");
  const std::string end_line = "-----END CERTIFICATE-----";
  const std::size_t end = bytes.rfind(end_line);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return bytes.substr(begin, end + end_line.size() - begin);
}

TEST(DcapPckExtension, RealTdxQuotePckCertificate) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat");
  auto leaf = Certificate::from_pem(pem_in_quote(quote));
  ASSERT_TRUE(leaf.has_value()) << leaf.error().to_string();
  auto ext = parse_pck_extension(*leaf);
  ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
  EXPECT_EQ(hex_encode(ext->ppid), "089ddfdb9c0359c82a3bc7719239574e");
  EXPECT_EQ(hex_encode(ext->fmspc), "50806f000000");
  EXPECT_EQ(hex_encode(ext->pceid), "0000");
  EXPECT_EQ(ext->pcesvn, 11);
  EXPECT_EQ(hex_encode(ext->cpusvn), "03030202020100020000000000000000");
  const std::array<std::uint8_t, 16> comps{3, 3, 2, 2, 2, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ext->tcb_components, comps);
  EXPECT_EQ(ext->sgx_type, SgxType::kScalable);
  ASSERT_TRUE(ext->platform_instance_id.has_value());
  EXPECT_EQ(hex_encode(*ext->platform_instance_id), "8c314d17d205dfafcbecbb00fc87eff7");
  ASSERT_TRUE(ext->configuration.has_value());
  EXPECT_EQ(ext->configuration->dynamic_platform, true);
  EXPECT_EQ(ext->configuration->cached_keys, false);
  EXPECT_EQ(ext->configuration->smt_enabled, true);

  const nlohmann::json j = pck_extension_claims(*ext);
  EXPECT_EQ(j["fmspc"], "50806f000000");
  EXPECT_EQ(j["pceid"], "0000");
  EXPECT_EQ(j["pcesvn"], 11);
  EXPECT_EQ(j["cpusvn"], "03030202020100020000000000000000");
  EXPECT_EQ(j["sgx_type"], "scalable");
  ASSERT_EQ(j["tcb_components"].size(), 16u);
  EXPECT_EQ(j["tcb_components"][0], 3);
  EXPECT_EQ(j["tcb_components"][7], 2);
  EXPECT_EQ(j["configuration"]["dynamic_platform"], true);
  EXPECT_EQ(j["configuration"]["cached_keys"], false);
  EXPECT_FALSE(j.contains("ppid"));
  EXPECT_FALSE(j.contains("platform_instance_id"));
}

TEST(DcapPckExtension, IntelSamplePckCertificates) {
  struct Expect {
    const char* file;
    const char* fmspc;
    const char* pceid;
    unsigned pcesvn;
    const char* cpusvn;
  };
  const Expect kSamples[] = {
      {"sgx/intel-qvl-sample/pckCert.pem", "00707f000000", "0000", 3,
       "00030000000101000000000000000000"},
      {"tdx/intel-qvl-sample/pckCert.pem", "ed742af8adf5", "8a67", 0x2961,
       "52c1a38cf7edf30a524b4ebb049f59c7"},
  };
  for (const Expect& e : kSamples) {
    SCOPED_TRACE(e.file);
    CONCIERGE_REQUIRE_VECTOR(path, e.file);
    auto cert = Certificate::from_pem(read_text(path));
    ASSERT_TRUE(cert.has_value());
    auto ext = parse_pck_extension(*cert);
    ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
    EXPECT_EQ(hex_encode(ext->fmspc), e.fmspc);
    EXPECT_EQ(hex_encode(ext->pceid), e.pceid);
    EXPECT_EQ(ext->pcesvn, e.pcesvn);
    EXPECT_EQ(hex_encode(ext->cpusvn), e.cpusvn);
    EXPECT_EQ(ext->sgx_type, SgxType::kStandard);
    EXPECT_FALSE(ext->platform_instance_id.has_value());
    EXPECT_FALSE(ext->configuration.has_value());
    // The sample TCB components equal the CPUSVN bytes (0xC1 is written as
    // the two-byte INTEGER 02 02 00 C1).
    EXPECT_TRUE(
        std::equal(ext->tcb_components.begin(), ext->tcb_components.end(), ext->cpusvn.begin()));
  }
}

// ---- synthetic ----

TEST(DcapPckExtension, SyntheticRoundTrip) {
  const Parts p;
  auto ext = parse_pck_extension(p.der());
  ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
  EXPECT_EQ(ext->ppid, Bytes(16, 0x11));
  for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(ext->tcb_components[i], i + 1);
  EXPECT_EQ(ext->pcesvn, 13);
  EXPECT_EQ(hex_encode(ext->fmspc), "00906ea10000");
  EXPECT_EQ(ext->sgx_type, SgxType::kScalable);
  EXPECT_EQ(ext->configuration->dynamic_platform, true);

  // Optional parts left out; SVNs at their limits (255, 65535).
  Parts q;
  q.platform_instance_id.clear();
  q.configuration.clear();
  q.sgx_type = enumerated(2);
  q.tcb[4] = entry({2, 5}, der_int(255));
  q.tcb[16] = entry({2, 17}, der_int(65535));
  ext = parse_pck_extension(q.der());
  ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
  EXPECT_EQ(ext->tcb_components[4], 255);
  EXPECT_EQ(ext->pcesvn, 65535);
  EXPECT_EQ(ext->sgx_type, SgxType::kScalableWithIntegrity);
  EXPECT_EQ(sgx_type_name(ext->sgx_type), "scalable_with_integrity");
  EXPECT_FALSE(ext->configuration.has_value());
  EXPECT_FALSE(pck_extension_claims(*ext).contains("configuration"));

  // Members in another order are accepted (each once).
  Parts r;
  std::reverse(r.tcb.begin(), r.tcb.end());
  EXPECT_TRUE(parse_pck_extension(r.der()).has_value());
}

TEST(DcapPckExtension, MissingRequiredElements) {
  Parts p;
  p.fmspc.clear();
  Error e = parse_error(p.der());
  EXPECT_EQ(e.code, Errc::kMalformed);
  EXPECT_EQ(e.field, "FMSPC");
  EXPECT_NE(e.message.find("missing"), std::string::npos) << e.message;

  for (const char* which : {"PPID", "PCE-ID", "SGX Type"}) {
    Parts q;
    if (std::string(which) == "PPID") q.ppid.clear();
    if (std::string(which) == "PCE-ID") q.pceid.clear();
    if (std::string(which) == "SGX Type") q.sgx_type.clear();
    EXPECT_EQ(parse_error(q.der()).field, which);
  }
  Parts t;
  t.tcb.erase(t.tcb.begin() + 16);  // no PCESVN
  e = parse_error(t.der());
  EXPECT_EQ(e.field, "PCESVN");
}

TEST(DcapPckExtension, WrongLengthsAndTypes) {
  struct Case {
    const char* field;
    void (*mutate)(Parts&);
  };
  const Case kCases[] = {
      {"FMSPC", [](Parts& p) { p.fmspc = octets(5, 1); }},
      {"FMSPC", [](Parts& p) { p.fmspc = octets(7, 1); }},
      {"FMSPC", [](Parts& p) { p.fmspc = der_int(6); }},
      {"PCE-ID", [](Parts& p) { p.pceid = octets(3, 0); }},
      {"PPID", [](Parts& p) { p.ppid = octets(15, 0); }},
      {"PlatformInstanceID", [](Parts& p) { p.platform_instance_id = octets(17, 0); }},
      {"CPUSVN",
       [](Parts& p) {
         p.tcb[17] = entry({2, 18}, octets(15, 0));
       }},
      {"sgxTcbComp03SVN",
       [](Parts& p) {
         p.tcb[2] = entry({2, 3}, der_int(256));
       }},
      {"sgxTcbComp03SVN",
       [](Parts& p) {
         p.tcb[2] = entry({2, 3}, Bytes{0x02, 0x01, 0xFF});
       }},
      {"sgxTcbComp16SVN",
       [](Parts& p) {
         p.tcb[15] = entry({2, 16}, octets(1, 0));
       }},
      {"PCESVN",
       [](Parts& p) {
         p.tcb[16] = entry({2, 17}, der_int(65536));
       }},
      {"SGX Type", [](Parts& p) { p.sgx_type = der_int(1); }},
      {"smtEnabled",
       [](Parts& p) {
         p.configuration[2] = entry({7, 3}, boolean(0x01));
       }},
      {"cachedKeys",
       [](Parts& p) {
         p.configuration[1] = entry({7, 2}, der_int(0));
       }},
      {"FMSPC", [](Parts& p) { p.extra.push_back(entry({4}, octets(6, 0))); }},  // twice
      {"TCB", [](Parts& p) { p.tcb.push_back(der_int(1)); }},                    // not an entry
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.field);
    Parts p;
    c.mutate(p);
    const Error e = parse_error(p.der());
    EXPECT_EQ(e.code, Errc::kMalformed) << e.to_string();
    EXPECT_EQ(e.field, c.field) << e.to_string();
    EXPECT_TRUE(e.offset.has_value());
  }
}

TEST(DcapPckExtension, OffsetsPointAtTheElement) {
  Parts p;
  p.fmspc = octets(5, 0xAB);
  const Bytes der = p.der();
  const Error e = parse_error(der);
  ASSERT_TRUE(e.offset.has_value());
  // The FMSPC entry (SEQUENCE { OID .4, OCTET STRING }) starts at the offset's
  // OCTET STRING: 04 05 AB AB AB AB AB.
  const Bytes want{0x04, 0x05, 0xAB, 0xAB, 0xAB, 0xAB, 0xAB};
  ASSERT_LE(*e.offset + want.size(), der.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), der.begin() + static_cast<long>(*e.offset)));
}

TEST(DcapPckExtension, UnknownMembersAndTypesAreUnsupported) {
  Parts p;
  p.extra.push_back(entry({8}, octets(1, 0)));
  Error e = parse_error(p.der());
  EXPECT_EQ(e.code, Errc::kUnsupported);
  EXPECT_EQ(e.field, "1.2.840.113741.1.13.1.8");

  Parts q;
  q.tcb.push_back(entry({2, 19}, der_int(0)));
  EXPECT_EQ(parse_error(q.der()).code, Errc::kUnsupported);

  Parts r;
  r.sgx_type = enumerated(3);
  e = parse_error(r.der());
  EXPECT_EQ(e.code, Errc::kUnsupported);
  EXPECT_EQ(e.field, "SGX Type");
}

TEST(DcapPckExtension, TrailingBytesAndNonDer) {
  Bytes der = Parts().der();
  der.resize(der.size() + 2);  // 00 00 after the SEQUENCE
  Error e = parse_error(der);
  EXPECT_EQ(e.code, Errc::kTrailingData);
  EXPECT_EQ(e.offset, der.size() - 2);

  // A long-form length where the short form fits: BER, not DER.
  const Bytes good = Parts().der();
  ASSERT_EQ(good[1], 0x82);
  Bytes ber{0x30, 0x83, 0x00};
  ber.resize(3 + good.size() - 2);
  std::copy(good.begin() + 2, good.end(), ber.begin() + 3);
  EXPECT_EQ(parse_error(ber).code, Errc::kMalformed);

  // Non-minimal INTEGER inside the TCB.
  Parts p;
  p.tcb[0] = entry({2, 1}, Bytes{0x02, 0x02, 0x00, 0x01});
  EXPECT_EQ(parse_error(p.der()).code, Errc::kMalformed);

  // Truncated anywhere.
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, good.size() / 2, good.size() - 1}) {
    EXPECT_FALSE(parse_pck_extension(ByteView(good).first(n)).has_value()) << n;
  }
  // Not a SEQUENCE at all.
  EXPECT_EQ(parse_error(octets(4, 0)).code, Errc::kMalformed);
  // A member that is not SEQUENCE { OID, value }.
  EXPECT_EQ(parse_error(seq({seq({der_int(1), der_int(2)})})).code, Errc::kMalformed);
}

// Every single-byte change and every truncation of a valid extension parses
// or fails cleanly (a cheap stand-in for fuzz/dcap_pck_extension_fuzz.cc).
TEST(DcapPckExtension, EveryMutationIsHandled) {
  const Bytes good = Parts().der();
  std::size_t parsed = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
      Bytes m = good;
      m[i] = static_cast<std::uint8_t>(m[i] ^ x);
      auto r = parse_pck_extension(m);
      if (r) {
        ++parsed;
        (void)pck_extension_claims(*r);
      } else {
        EXPECT_FALSE(r.error().field.empty()) << r.error().to_string();
      }
    }
    EXPECT_FALSE(parse_pck_extension(ByteView(good).first(i)).has_value()) << i;
  }
  EXPECT_GT(parsed, 0u);  // value bytes (PPID, FMSPC) may change freely
}

TEST(DcapPckExtension, FromCertificate) {
  using concierge::testing::CertOptions;
  CertOptions ca_opts;
  ca_opts.common_name = "Test CA";
  const auto ca = concierge::testing::make_root(ca_opts);
  CertOptions leaf_opts;
  leaf_opts.common_name = "Intel SGX PCK Certificate";
  leaf_opts.extensions.push_back({std::string(kOidSgxExtensions), Parts().der(), false});
  const auto pck = concierge::testing::make_leaf(ca, leaf_opts);
  auto ext = parse_pck_extension(pck.cert);
  ASSERT_TRUE(ext.has_value()) << ext.error().to_string();
  EXPECT_EQ(ext->pcesvn, 13);

  auto none = parse_pck_extension(ca.cert);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  EXPECT_EQ(none.error().field, "sgxExtensions");

  leaf_opts.extensions[0].der_value = Bytes{0xDE, 0xAD};
  auto bad = parse_pck_extension(concierge::testing::make_leaf(ca, leaf_opts).cert);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::kMalformed);
}

}  // namespace
}  // namespace concierge::evidence::dcap
