#include "concierge/evidence/snp/report.h"

#include <gtest/gtest.h>

#include "concierge/core/encoding.h"
#include "support/vectors.h"

namespace concierge::evidence::snp {
namespace {

using concierge::testing::read_file;
using concierge::testing::vector_path;

Bytes real_report() {
  const auto path = vector_path("snp/go-sev-guest/attestation.bin");
  if (path.empty()) return {};
  return read_file(path);
}

#define REQUIRE_REAL_REPORT(var)                                      \
  const Bytes var = real_report();                                    \
  if (var.empty())                                                    \
  GTEST_SKIP() << "snp/go-sev-guest/attestation.bin not found under " \
                  "CONCIERGE_VECTORS ("                               \
               << concierge::testing::vectors_dir() << ")"

// A minimal valid v3 report built field by field.
AttestationReport sample_report(std::uint32_t version = 3) {
  AttestationReport r;
  r.version = version;
  r.guest_svn = 7;
  r.policy = decode_policy(0x30000);
  r.vmpl = 1;
  r.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  r.current_tcb = 0xD10A000000000103ull;
  r.reported_tcb = r.current_tcb;
  r.committed_tcb = r.current_tcb;
  r.launch_tcb = r.current_tcb;
  r.platform_info = decode_platform_info(0x25);
  r.signer.author_key_en = true;
  for (std::size_t i = 0; i < r.report_data.size(); ++i)
    r.report_data[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < r.measurement.size(); ++i)
    r.measurement[i] = static_cast<std::uint8_t>(0xA0 + i);
  for (std::size_t i = 0; i < r.chip_id.size(); ++i)
    r.chip_id[i] = static_cast<std::uint8_t>(0x40 + i);
  if (version >= 3) {
    r.cpuid_family = 0x19;
    r.cpuid_model = 0x11;
    r.cpuid_stepping = 1;
  }
  if (version >= 5) {
    r.launch_mit_vector = 3;
    r.current_mit_vector = 7;
  }
  r.current_major = 1;
  r.current_minor = 55;
  r.current_build = 21;
  r.signature[0] = 1;
  r.signature[72] = 2;
  return r;
}

TEST(SnpReport, RealMilanReportParses) {
  REQUIRE_REAL_REPORT(data);
  auto rep = parse_report(data);
  ASSERT_TRUE(rep) << rep.error().to_string();
  EXPECT_EQ(rep->version, 2u);
  EXPECT_FALSE(rep->has_cpuid());
  EXPECT_EQ(rep->cpuid_product(), Product::kUnknown);
  EXPECT_TRUE(rep->policy.debug);
  EXPECT_TRUE(rep->policy.smt);
  EXPECT_EQ(rep->signer.signing_key, SigningKey::kVcek);
  EXPECT_EQ(hex_encode(ByteView(rep->measurement.data(), 8)), "b07af9620f3b839b");
  const TcbVersion tcb = decode_tcb(rep->reported_tcb, Product::kMilan);
  EXPECT_EQ(tcb.bootloader, 2);
  EXPECT_EQ(tcb.tee, 0);
  EXPECT_EQ(tcb.snp, 5);
  EXPECT_EQ(tcb.microcode, 0x44);
  EXPECT_FALSE(tcb.fmc.has_value());
  EXPECT_EQ(rep->current_major, 1);
  EXPECT_EQ(rep->current_minor, 49);
  EXPECT_EQ(rep->current_build, 3);
  // Byte-exact round trip.
  EXPECT_EQ(serialize_report(*rep), data);
}

TEST(SnpReport, ClaimsCarryTheIssueNames) {
  const Bytes data = serialize_report(sample_report(5));
  auto rep = parse_report(data);
  ASSERT_TRUE(rep) << rep.error().to_string();
  const auto j = report_claims(*rep, rep->cpuid_product());
  for (const char* name : {"measurement", "host_data", "report_data", "id_key_digest",
                           "author_key_digest", "chip_id", "vmpl", "policy", "reported_tcb",
                           "committed_tcb", "launch_tcb", "product", "signing_key"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
  EXPECT_EQ(j["product"], "Genoa");
  EXPECT_EQ(j["signing_key"], "vcek");
  EXPECT_EQ(j["policy"]["smt"], true);
  EXPECT_EQ(j["policy"]["debug"], false);
  EXPECT_EQ(j["reported_tcb"]["microcode"], 0xD1);
  EXPECT_EQ(j["reported_tcb"]["snp"], 0x0A);
  EXPECT_EQ(j["platform_info"]["alias_check_complete"], true);
  EXPECT_EQ(j["current_version"], "1.55.21");
  EXPECT_EQ(j["launch_mit_vector"], "0000000000000003");
  EXPECT_EQ(j["report_data"].get<std::string>().substr(0, 6), "000102");
}

TEST(SnpReport, EveryVersionRoundTrips) {
  for (std::uint32_t v : {2u, 3u, 4u, 5u}) {
    const Bytes data = serialize_report(sample_report(v));
    ASSERT_EQ(data.size(), kReportSize);
    auto rep = parse_report(data);
    ASSERT_TRUE(rep) << "v" << v << ": " << rep.error().to_string();
    EXPECT_EQ(serialize_report(*rep), data) << v;
    EXPECT_EQ(rep->has_cpuid(), v >= 3);
    EXPECT_EQ(rep->launch_mit_vector, v >= 5 ? 3u : 0u);
  }
}

TEST(SnpReport, SizesAreExact) {
  Bytes data = serialize_report(sample_report());
  auto short_one = parse_report(ByteView(data).first(kReportSize - 1));
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().code, Errc::kTruncated);
  data.push_back(0);
  auto long_one = parse_report(data);
  ASSERT_FALSE(long_one);
  EXPECT_EQ(long_one.error().code, Errc::kTrailingData);
  EXPECT_EQ(long_one.error().offset, kReportSize);
}

struct Corruption {
  const char* name;
  std::size_t offset;
  std::uint8_t value;
  const char* field;
};

TEST(SnpReport, ReservedFieldsMustBeZeroAndTheErrorNamesTheOffset) {
  const Corruption cases[] = {
      {"version 1", 0x000, 1, "version"},
      {"version 6", 0x000, 6, "version"},
      {"policy bit 17 clear", 0x00A, 0x01, "policy"},
      {"policy bit 26 set", 0x00B, 0x04, "policy"},
      {"signature algorithm 2", 0x034, 2, "signature_algo"},
      {"signer info bit 5", 0x048, 0x20, "signer_info"},
      {"signing key 2", 0x048, 0x08, "signing_key"},
      {"reserved 0x4c", 0x04E, 1, "reserved_04c"},
      {"reserved 0x18b", 0x190, 1, "reserved_18b"},
      {"reserved 0x1eb", 0x1EB, 1, "reserved_1eb"},
      {"reserved 0x1ef", 0x1EF, 1, "reserved_1ef"},
      {"reserved 0x208", 0x250, 1, "reserved_208"},
      {"signature tail", 0x400, 1, "signature_reserved"},
  };
  const Bytes good = serialize_report(sample_report(5));
  ASSERT_TRUE(parse_report(good));
  for (const auto& c : cases) {
    Bytes bad = good;
    bad[c.offset] = c.value;
    auto rep = parse_report(bad);
    ASSERT_FALSE(rep) << c.name;
    EXPECT_EQ(rep.error().field, c.field) << c.name << ": " << rep.error().to_string();
    ASSERT_TRUE(rep.error().offset.has_value()) << c.name;
    if (std::string(c.field).rfind("reserved", 0) == 0 ||
        std::string(c.field) == "signature_reserved") {
      EXPECT_EQ(*rep.error().offset, c.offset) << c.name;
    }
  }
  // In a v2 report the CPUID bytes are reserved.
  Bytes v2 = serialize_report(sample_report(2));
  v2[0x188] = 0x19;
  auto rep = parse_report(v2);
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().field, "reserved_188");
  EXPECT_EQ(rep.error().offset, 0x188u);
  // Bytes 0x1F8.. are the mitigation vectors in v5 only.
  Bytes v3 = serialize_report(sample_report(3));
  v3[0x1F8] = 1;
  rep = parse_report(v3);
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().field, "reserved_1f8");
}

TEST(SnpReport, TurinTcbLayoutHasFmc) {
  TcbVersion t;
  t.fmc = 1;
  t.bootloader = 2;
  t.tee = 3;
  t.snp = 4;
  t.microcode = 5;
  const std::uint64_t raw = encode_tcb(t, Product::kTurin);
  EXPECT_EQ(raw, 0x0500000004030201ull);
  const TcbVersion back = decode_tcb(raw, Product::kTurin);
  EXPECT_EQ(back.fmc, 1);
  EXPECT_EQ(back.bootloader, 2);
  EXPECT_EQ(back.tee, 3);
  EXPECT_EQ(back.snp, 4);
  EXPECT_EQ(back.microcode, 5);
  const TcbVersion milan = decode_tcb(raw, Product::kMilan);
  EXPECT_EQ(milan.bootloader, 1);
  EXPECT_EQ(milan.snp, 0);
  EXPECT_EQ(encode_tcb(milan, Product::kMilan) & 0xFF000000000000FFull,
            raw & 0xFF000000000000FFull);
}

TEST(SnpReport, ProductsFromCpuidAndNames) {
  EXPECT_EQ(product_from_cpuid(0x19, 0x01), Product::kMilan);
  EXPECT_EQ(product_from_cpuid(0x19, 0x11), Product::kGenoa);
  EXPECT_EQ(product_from_cpuid(0x19, 0xA0), Product::kGenoa);
  EXPECT_EQ(product_from_cpuid(0x1A, 0x02), Product::kTurin);
  EXPECT_EQ(product_from_cpuid(0x17, 0x31), Product::kUnknown);
  EXPECT_EQ(parse_product("Milan-B0"), Product::kMilan);
  EXPECT_EQ(parse_product("genoa"), Product::kGenoa);
  EXPECT_EQ(parse_product("TURIN"), Product::kTurin);
  EXPECT_FALSE(parse_product("Rome"));
  EXPECT_EQ(product_name(Product::kGenoa), "Genoa");
}

TEST(SnpReport, PolicyBitsDecode) {
  const GuestPolicy p = decode_policy((1ull << 17) | (1ull << 19) | (1ull << 21) | (1ull << 22) |
                                      (1ull << 23) | (1ull << 24) | (1ull << 25) | 0x0102);
  EXPECT_EQ(p.abi_major, 1);
  EXPECT_EQ(p.abi_minor, 2);
  EXPECT_FALSE(p.smt);
  EXPECT_TRUE(p.debug);
  EXPECT_TRUE(p.cxl_allow);
  EXPECT_TRUE(p.mem_aes_256_xts);
  EXPECT_TRUE(p.rapl_dis);
  EXPECT_TRUE(p.ciphertext_hiding);
  EXPECT_TRUE(p.page_swap_disable);
  EXPECT_FALSE(p.migrate_ma);
  EXPECT_FALSE(p.single_socket);
}

}  // namespace
}  // namespace concierge::evidence::snp
