// SEV-SNP ATTESTATION_REPORT parsing and encoding (ABI spec #56860, Table 23).
#include "concierge/evidence/snp/report.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"

namespace concierge::evidence::snp {
namespace {

constexpr std::size_t kMinVersion = 2;
constexpr std::size_t kMaxVersion = 5;
constexpr std::uint64_t kPolicyMbzMask = ~((1ull << 26) - 1);  // bits 63:26
constexpr std::uint32_t kSignerMbzMask = ~0x1Fu;               // bits 31:5

template <std::size_t N>
Result<void> read_array(ByteReader& r, std::array<std::uint8_t, N>& out, std::string_view field) {
  auto bytes = r.bytes(N, field);
  if (!bytes) return Unexpected(bytes.error());
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return {};
}

// Fails naming the first non-zero byte of a reserved range.
Result<void> expect_zero(ByteReader& r, std::size_t n, std::string_view field) {
  const std::size_t start = r.offset();
  auto bytes = r.bytes(n, field);
  if (!bytes) return Unexpected(bytes.error());
  for (std::size_t i = 0; i < bytes->size(); ++i) {
    if ((*bytes)[i] != 0) {
      return Unexpected(make_error_at(
          Errc::kMalformed, std::string(field), start + i,
          "reserved byte must be zero, found 0x" + hex_encode(ByteView(&(*bytes)[i], 1))));
    }
  }
  return {};
}

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

std::string hex64(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 0xF];
  return s;
}

void put_u32(Bytes& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(Bytes& out, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
template <std::size_t N>
void put_array(Bytes& out, std::size_t at, const std::array<std::uint8_t, N>& a) {
  std::copy(a.begin(), a.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

}  // namespace

std::string_view product_name(Product product) {
  switch (product) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<Product> parse_product(std::string_view name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto dash = lower.find('-');
  const std::string base = lower.substr(0, dash);
  if (base == "milan") return Product::kMilan;
  if (base == "genoa") return Product::kGenoa;
  if (base == "turin") return Product::kTurin;
  return std::nullopt;
}

Product product_from_cpuid(std::uint8_t family, std::uint8_t model) {
  if (family == 0x19) {
    if (model <= 0x0F) return Product::kMilan;
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF))
      return Product::kGenoa;
  }
  if (family == 0x1A && model <= 0x1F) return Product::kTurin;
  return Product::kUnknown;
}

TcbVersion decode_tcb(std::uint64_t raw, Product product) {
  auto byte = [raw](int i) { return static_cast<std::uint8_t>(raw >> (8 * i)); };
  TcbVersion tcb;
  tcb.raw = raw;
  if (product == Product::kTurin) {
    tcb.fmc = byte(0);
    tcb.bootloader = byte(1);
    tcb.tee = byte(2);
    tcb.snp = byte(3);
  } else {
    tcb.bootloader = byte(0);
    tcb.tee = byte(1);
    tcb.snp = byte(6);
  }
  tcb.microcode = byte(7);
  return tcb;
}

std::uint64_t encode_tcb(const TcbVersion& tcb, Product product) {
  auto at = [](std::uint8_t v, int i) { return static_cast<std::uint64_t>(v) << (8 * i); };
  if (product == Product::kTurin) {
    return at(tcb.fmc.value_or(0), 0) | at(tcb.bootloader, 1) | at(tcb.tee, 2) | at(tcb.snp, 3) |
           at(tcb.microcode, 7);
  }
  return at(tcb.bootloader, 0) | at(tcb.tee, 1) | at(tcb.snp, 6) | at(tcb.microcode, 7);
}

nlohmann::json tcb_json(const TcbVersion& tcb) {
  nlohmann::json j = {{"raw", hex64(tcb.raw)},
                      {"bootloader", tcb.bootloader},
                      {"tee", tcb.tee},
                      {"snp", tcb.snp},
                      {"microcode", tcb.microcode}};
  if (tcb.fmc) j["fmc"] = *tcb.fmc;
  return j;
}

GuestPolicy decode_policy(std::uint64_t raw) {
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  GuestPolicy p;
  p.raw = raw;
  p.abi_minor = static_cast<std::uint8_t>(raw);
  p.abi_major = static_cast<std::uint8_t>(raw >> 8);
  p.smt = bit(16);
  p.migrate_ma = bit(18);
  p.debug = bit(19);
  p.single_socket = bit(20);
  p.cxl_allow = bit(21);
  p.mem_aes_256_xts = bit(22);
  p.rapl_dis = bit(23);
  p.ciphertext_hiding = bit(24);
  p.page_swap_disable = bit(25);
  return p;
}

nlohmann::json policy_json(const GuestPolicy& p) {
  return {{"raw", hex64(p.raw)},
          {"abi_major", p.abi_major},
          {"abi_minor", p.abi_minor},
          {"smt", p.smt},
          {"migrate_ma", p.migrate_ma},
          {"debug", p.debug},
          {"single_socket", p.single_socket},
          {"cxl_allow", p.cxl_allow},
          {"mem_aes_256_xts", p.mem_aes_256_xts},
          {"rapl_dis", p.rapl_dis},
          {"ciphertext_hiding", p.ciphertext_hiding},
          {"page_swap_disable", p.page_swap_disable}};
}

PlatformInfo decode_platform_info(std::uint64_t raw) {
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  PlatformInfo info;
  info.raw = raw;
  info.smt_enabled = bit(0);
  info.tsme_enabled = bit(1);
  info.ecc_enabled = bit(2);
  info.rapl_disabled = bit(3);
  info.ciphertext_hiding_enabled = bit(4);
  info.alias_check_complete = bit(5);
  info.tio_enabled = bit(7);
  info.unknown_bits = raw & ~0xBFull;
  return info;
}

nlohmann::json platform_info_json(const PlatformInfo& info) {
  nlohmann::json j = {{"raw", hex64(info.raw)},
                      {"smt_enabled", info.smt_enabled},
                      {"tsme_enabled", info.tsme_enabled},
                      {"ecc_enabled", info.ecc_enabled},
                      {"rapl_disabled", info.rapl_disabled},
                      {"ciphertext_hiding_enabled", info.ciphertext_hiding_enabled},
                      {"alias_check_complete", info.alias_check_complete},
                      {"tio_enabled", info.tio_enabled}};
  if (info.unknown_bits != 0) j["unknown_bits"] = hex64(info.unknown_bits);
  return j;
}

std::string_view signing_key_name(SigningKey key) {
  switch (key) {
    case SigningKey::kVcek:
      return "vcek";
    case SigningKey::kVlek:
      return "vlek";
    case SigningKey::kNone:
      return "none";
  }
  return "reserved";
}

Product AttestationReport::cpuid_product() const {
  return has_cpuid() ? product_from_cpuid(cpuid_family, cpuid_model) : Product::kUnknown;
}

Result<AttestationReport> parse_report(ByteView data) {
  if (data.size() < kReportSize) {
    return Unexpected(make_error_at(
        Errc::kTruncated, "report", data.size(),
        "an SEV-SNP attestation report is 1184 bytes, got " + std::to_string(data.size())));
  }
  ByteReader r(data.first(kReportSize));
  AttestationReport rep;
  CONCIERGE_ASSIGN_OR_RETURN(rep.version, r.u32le("version"));
  if (rep.version < kMinVersion || rep.version > kMaxVersion) {
    return Unexpected(make_error_at(
        Errc::kUnsupported, "version", 0x000,
        "report version " + std::to_string(rep.version) + " is not supported (2 to 5 are)"));
  }
  CONCIERGE_ASSIGN_OR_RETURN(rep.guest_svn, r.u32le("guest_svn"));
  std::uint64_t policy = 0;
  CONCIERGE_ASSIGN_OR_RETURN(policy, r.u64le("policy"));
  if ((policy & kPolicyReservedOne) == 0) {
    return Unexpected(make_error_at(Errc::kMalformed, "policy", 0x008,
                                    "policy bit 17 is reserved and must be 1"));
  }
  if ((policy & kPolicyMbzMask) != 0) {
    return Unexpected(make_error_at(
        Errc::kMalformed, "policy", 0x008,
        "policy bits 63:26 are reserved and must be zero, policy is 0x" + hex64(policy)));
  }
  rep.policy = decode_policy(policy);
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.family_id, "family_id"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.image_id, "image_id"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.vmpl, r.u32le("vmpl"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.signature_algo, r.u32le("signature_algo"));
  if (rep.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return Unexpected(make_error_at(Errc::kUnsupported, "signature_algo", 0x034,
                                    "signature algorithm " + std::to_string(rep.signature_algo) +
                                        " is not ECDSA P-384 with SHA-384 (1)"));
  }
  CONCIERGE_ASSIGN_OR_RETURN(rep.current_tcb, r.u64le("current_tcb"));
  std::uint64_t platform_info = 0;
  CONCIERGE_ASSIGN_OR_RETURN(platform_info, r.u64le("platform_info"));
  rep.platform_info = decode_platform_info(platform_info);
  std::uint32_t signer = 0;
  CONCIERGE_ASSIGN_OR_RETURN(signer, r.u32le("signer_info"));
  if ((signer & kSignerMbzMask) != 0) {
    return Unexpected(make_error_at(Errc::kMalformed, "signer_info", 0x048,
                                    "signer info bits 31:5 are reserved and must be zero"));
  }
  const auto key = static_cast<std::uint8_t>((signer >> 2) & 7);
  if (key != 0 && key != 1 && key != 7) {
    return Unexpected(make_error_at(Errc::kMalformed, "signing_key", 0x048,
                                    "SIGNING_KEY " + std::to_string(key) + " is reserved"));
  }
  rep.signer.author_key_en = (signer & 1) != 0;
  rep.signer.mask_chip_key = (signer & 2) != 0;
  rep.signer.signing_key = static_cast<SigningKey>(key);
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 4, "reserved_04c"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.report_data, "report_data"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.measurement, "measurement"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.host_data, "host_data"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.id_key_digest, "id_key_digest"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.author_key_digest, "author_key_digest"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.report_id, "report_id"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.report_id_ma, "report_id_ma"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.reported_tcb, r.u64le("reported_tcb"));
  if (rep.has_cpuid()) {
    CONCIERGE_ASSIGN_OR_RETURN(rep.cpuid_family, r.u8("cpuid_fam_id"));
    CONCIERGE_ASSIGN_OR_RETURN(rep.cpuid_model, r.u8("cpuid_mod_id"));
    CONCIERGE_ASSIGN_OR_RETURN(rep.cpuid_stepping, r.u8("cpuid_step"));
    CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 0x1A0 - 0x18B, "reserved_18b"));
  } else {
    CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 0x1A0 - 0x188, "reserved_188"));
  }
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.chip_id, "chip_id"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.committed_tcb, r.u64le("committed_tcb"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.current_build, r.u8("current_build"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.current_minor, r.u8("current_minor"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.current_major, r.u8("current_major"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 1, "reserved_1eb"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.committed_build, r.u8("committed_build"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.committed_minor, r.u8("committed_minor"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.committed_major, r.u8("committed_major"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 1, "reserved_1ef"));
  CONCIERGE_ASSIGN_OR_RETURN(rep.launch_tcb, r.u64le("launch_tcb"));
  if (rep.version >= 5) {
    CONCIERGE_ASSIGN_OR_RETURN(rep.launch_mit_vector, r.u64le("launch_mit_vector"));
    CONCIERGE_ASSIGN_OR_RETURN(rep.current_mit_vector, r.u64le("current_mit_vector"));
    CONCIERGE_RETURN_IF_ERROR(expect_zero(r, kSignatureOffset - 0x208, "reserved_208"));
  } else {
    CONCIERGE_RETURN_IF_ERROR(expect_zero(r, kSignatureOffset - 0x1F8, "reserved_1f8"));
  }
  CONCIERGE_RETURN_IF_ERROR(read_array(r, rep.signature, "signature"));
  CONCIERGE_RETURN_IF_ERROR(
      expect_zero(r, kReportSize - kSignatureOffset - rep.signature.size(), "signature_reserved"));
  if (data.size() > kReportSize) {
    return Unexpected(make_error_at(
        Errc::kTrailingData, "report", kReportSize,
        std::to_string(data.size() - kReportSize) + " bytes follow the 1184-byte report"));
  }
  return rep;
}

Bytes serialize_report(const AttestationReport& rep) {
  Bytes out(kReportSize, 0);
  put_u32(out, 0x000, rep.version);
  put_u32(out, 0x004, rep.guest_svn);
  put_u64(out, 0x008, rep.policy.raw);
  put_array(out, 0x010, rep.family_id);
  put_array(out, 0x020, rep.image_id);
  put_u32(out, 0x030, rep.vmpl);
  put_u32(out, 0x034, rep.signature_algo);
  put_u64(out, 0x038, rep.current_tcb);
  put_u64(out, 0x040, rep.platform_info.raw);
  const std::uint32_t signer = (rep.signer.author_key_en ? 1u : 0u) |
                               (rep.signer.mask_chip_key ? 2u : 0u) |
                               (static_cast<std::uint32_t>(rep.signer.signing_key) << 2);
  put_u32(out, 0x048, signer);
  put_array(out, 0x050, rep.report_data);
  put_array(out, 0x090, rep.measurement);
  put_array(out, 0x0C0, rep.host_data);
  put_array(out, 0x0E0, rep.id_key_digest);
  put_array(out, 0x110, rep.author_key_digest);
  put_array(out, 0x140, rep.report_id);
  put_array(out, 0x160, rep.report_id_ma);
  put_u64(out, 0x180, rep.reported_tcb);
  if (rep.has_cpuid()) {
    out[0x188] = rep.cpuid_family;
    out[0x189] = rep.cpuid_model;
    out[0x18A] = rep.cpuid_stepping;
  }
  put_array(out, 0x1A0, rep.chip_id);
  put_u64(out, 0x1E0, rep.committed_tcb);
  out[0x1E8] = rep.current_build;
  out[0x1E9] = rep.current_minor;
  out[0x1EA] = rep.current_major;
  out[0x1EC] = rep.committed_build;
  out[0x1ED] = rep.committed_minor;
  out[0x1EE] = rep.committed_major;
  put_u64(out, 0x1F0, rep.launch_tcb);
  if (rep.version >= 5) {
    put_u64(out, 0x1F8, rep.launch_mit_vector);
    put_u64(out, 0x200, rep.current_mit_vector);
  }
  put_array(out, kSignatureOffset, rep.signature);
  return out;
}

ByteView signed_part(ByteView data) { return data.first(kSignedSize); }

nlohmann::json report_claims(const AttestationReport& rep, Product product) {
  nlohmann::json j;
  j["version"] = rep.version;
  j["guest_svn"] = rep.guest_svn;
  j["policy"] = policy_json(rep.policy);
  j["family_id"] = hex_of(rep.family_id);
  j["image_id"] = hex_of(rep.image_id);
  j["vmpl"] = rep.vmpl;
  j["signature_algo"] = rep.signature_algo;
  j["current_tcb"] = tcb_json(decode_tcb(rep.current_tcb, product));
  j["platform_info"] = platform_info_json(rep.platform_info);
  j["author_key_en"] = rep.signer.author_key_en;
  j["mask_chip_key"] = rep.signer.mask_chip_key;
  j["signing_key"] = signing_key_name(rep.signer.signing_key);
  j["report_data"] = hex_of(rep.report_data);
  j["measurement"] = hex_of(rep.measurement);
  j["host_data"] = hex_of(rep.host_data);
  j["id_key_digest"] = hex_of(rep.id_key_digest);
  j["author_key_digest"] = hex_of(rep.author_key_digest);
  j["report_id"] = hex_of(rep.report_id);
  j["report_id_ma"] = hex_of(rep.report_id_ma);
  j["reported_tcb"] = tcb_json(decode_tcb(rep.reported_tcb, product));
  if (rep.has_cpuid()) {
    j["cpuid"] = {
        {"family", rep.cpuid_family}, {"model", rep.cpuid_model}, {"stepping", rep.cpuid_stepping}};
  }
  j["chip_id"] = hex_of(rep.chip_id);
  j["committed_tcb"] = tcb_json(decode_tcb(rep.committed_tcb, product));
  auto version_text = [](std::uint8_t major, std::uint8_t minor, std::uint8_t build) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
  };
  j["current_version"] = version_text(rep.current_major, rep.current_minor, rep.current_build);
  j["committed_version"] =
      version_text(rep.committed_major, rep.committed_minor, rep.committed_build);
  j["launch_tcb"] = tcb_json(decode_tcb(rep.launch_tcb, product));
  if (rep.version >= 5) {
    j["launch_mit_vector"] = hex64(rep.launch_mit_vector);
    j["current_mit_vector"] = hex64(rep.current_mit_vector);
  }
  j["product"] = product_name(product);
  return j;
}

}  // namespace concierge::evidence::snp
