// AMD SEV-SNP attestation reports: the ATTESTATION_REPORT structure of the
// SEV Secure Nested Paging Firmware ABI Specification (AMD #56860, rev. 1.58,
// Table 23 "ATTESTATION_REPORT Structure"), versions 2, 3, 4 and 5.
//
// Layout (all little-endian, 0x4A0 = 1184 bytes; the signature covers
// 0x000-0x29F):
//   0x000 VERSION u32           0x004 GUEST_SVN u32        0x008 POLICY u64
//   0x010 FAMILY_ID[16]         0x020 IMAGE_ID[16]         0x030 VMPL u32
//   0x034 SIGNATURE_ALGO u32    0x038 CURRENT_TCB u64      0x040 PLATFORM_INFO u64
//   0x048 signer info u32 (bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY,
//         bits 4:2 SIGNING_KEY; 31:5 reserved)            0x04C reserved u32
//   0x050 REPORT_DATA[64]       0x090 MEASUREMENT[48]      0x0C0 HOST_DATA[32]
//   0x0E0 ID_KEY_DIGEST[48]     0x110 AUTHOR_KEY_DIGEST[48]
//   0x140 REPORT_ID[32]         0x160 REPORT_ID_MA[32]     0x180 REPORTED_TCB u64
//   0x188 CPUID_FAM_ID, 0x189 CPUID_MOD_ID, 0x18A CPUID_STEP (v3+; reserved in v2)
//   0x18B-0x19F reserved        0x1A0 CHIP_ID[64]          0x1E0 COMMITTED_TCB u64
//   0x1E8 CURRENT_BUILD, MINOR, MAJOR, reserved           0x1EC COMMITTED_BUILD,
//   MINOR, MAJOR, reserved      0x1F0 LAUNCH_TCB u64
//   0x1F8 LAUNCH_MIT_VECTOR u64, 0x200 CURRENT_MIT_VECTOR u64 (v5; reserved before)
//   0x208-0x29F reserved        0x2A0 SIGNATURE[512]: ECDSA P-384 r (72 bytes,
//   little-endian, zero-extended), s (72 bytes), 368 reserved bytes.
//
// Parsing checks the structure only (sizes, versions, must-be-zero fields); it
// never says whether a report is authentic (see verify.h). Every accessor is a
// plain value; thread-safe as any value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::evidence::snp {

inline constexpr std::size_t kReportSize = 0x4A0;
inline constexpr std::size_t kSignedSize = 0x2A0;  // bytes covered by the signature
inline constexpr std::size_t kSignatureOffset = 0x2A0;
inline constexpr std::size_t kSignatureComponentSize = 72;  // r and s, little-endian
inline constexpr std::uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

// The AMD EPYC generation that produced a report; it selects the TCB_VERSION
// layout, the AMD root keys and the KDS path.
enum class Product { kUnknown, kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin" (AMD KDS spelling); "unknown".
std::string_view product_name(Product product);
// Case-insensitive; accepts a stepping suffix as VCEK certificates carry it
// ("Milan-B0", "Genoa-B1"). nullopt for anything else.
std::optional<Product> parse_product(std::string_view name);
// From the report's CPUID_FAM_ID / CPUID_MOD_ID (v3+): family 19h models
// 00h-0Fh Milan, 10h-1Fh and A0h-AFh Genoa (incl. Bergamo, Siena); family 1Ah
// models 00h-1Fh Turin. kUnknown otherwise.
Product product_from_cpuid(std::uint8_t family, std::uint8_t model);

// TCB_VERSION (ABI spec section 2.2, Table 3; Turin: Table 4).
//   Milan, Genoa: byte 0 BOOT_LOADER, 1 TEE, 2-5 reserved, 6 SNP, 7 MICROCODE.
//   Turin:        byte 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 4-6 reserved, 7 MICROCODE.
struct TcbVersion {
  std::uint64_t raw = 0;
  std::optional<std::uint8_t> fmc;  // Turin only
  std::uint8_t bootloader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;

  bool operator==(const TcbVersion& other) const { return raw == other.raw; }
};
// kUnknown decodes with the Milan/Genoa layout.
TcbVersion decode_tcb(std::uint64_t raw, Product product);
std::uint64_t encode_tcb(const TcbVersion& tcb, Product product);
// {"raw": "<16 hex>", "bootloader": n, "tee": n, "snp": n, "microcode": n[, "fmc": n]}
nlohmann::json tcb_json(const TcbVersion& tcb);

// GUEST_POLICY (ABI spec section 4.3, Table 9). Bit 17 is reserved and must be
// one; bits 63:26 are reserved and must be zero.
struct GuestPolicy {
  std::uint64_t raw = 0;
  std::uint8_t abi_minor = 0;
  std::uint8_t abi_major = 0;
  bool smt = false;                // bit 16
  bool migrate_ma = false;         // bit 18
  bool debug = false;              // bit 19
  bool single_socket = false;      // bit 20
  bool cxl_allow = false;          // bit 21
  bool mem_aes_256_xts = false;    // bit 22
  bool rapl_dis = false;           // bit 23
  bool ciphertext_hiding = false;  // bit 24
  bool page_swap_disable = false;  // bit 25
};
inline constexpr std::uint64_t kPolicyReservedOne = 1ull << 17;
GuestPolicy decode_policy(std::uint64_t raw);
nlohmann::json policy_json(const GuestPolicy& policy);

// PLATFORM_INFO (ABI spec Table 24). Bits the spec does not define yet are
// kept in `unknown_bits` rather than rejected: newer firmware adds bits.
struct PlatformInfo {
  std::uint64_t raw = 0;
  bool smt_enabled = false;                // bit 0
  bool tsme_enabled = false;               // bit 1
  bool ecc_enabled = false;                // bit 2
  bool rapl_disabled = false;              // bit 3
  bool ciphertext_hiding_enabled = false;  // bit 4
  bool alias_check_complete = false;       // bit 5
  bool tio_enabled = false;                // bit 7
  std::uint64_t unknown_bits = 0;
};
PlatformInfo decode_platform_info(std::uint64_t raw);
nlohmann::json platform_info_json(const PlatformInfo& info);

enum class SigningKey : std::uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };
std::string_view signing_key_name(SigningKey key);  // "vcek", "vlek", "none"

struct SignerInfo {
  bool author_key_en = false;  // bit 0
  bool mask_chip_key = false;  // bit 1
  SigningKey signing_key = SigningKey::kVcek;
};

struct AttestationReport {
  std::uint32_t version = 0;
  std::uint32_t guest_svn = 0;
  GuestPolicy policy;
  std::array<std::uint8_t, 16> family_id{};
  std::array<std::uint8_t, 16> image_id{};
  std::uint32_t vmpl = 0;
  std::uint32_t signature_algo = 0;
  std::uint64_t current_tcb = 0;  // raw TCB_VERSION values; decode_tcb() them
  PlatformInfo platform_info;
  SignerInfo signer;
  std::array<std::uint8_t, 64> report_data{};
  std::array<std::uint8_t, 48> measurement{};
  std::array<std::uint8_t, 32> host_data{};
  std::array<std::uint8_t, 48> id_key_digest{};
  std::array<std::uint8_t, 48> author_key_digest{};
  std::array<std::uint8_t, 32> report_id{};
  std::array<std::uint8_t, 32> report_id_ma{};
  std::uint64_t reported_tcb = 0;
  // v3+ only (zero in v2).
  std::uint8_t cpuid_family = 0;
  std::uint8_t cpuid_model = 0;
  std::uint8_t cpuid_stepping = 0;
  std::array<std::uint8_t, 64> chip_id{};
  std::uint64_t committed_tcb = 0;
  std::uint8_t current_build = 0, current_minor = 0, current_major = 0;
  std::uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  std::uint64_t launch_tcb = 0;
  // v5 only (zero before).
  std::uint64_t launch_mit_vector = 0;
  std::uint64_t current_mit_vector = 0;
  // r and s, each 72 bytes little-endian as in the report.
  std::array<std::uint8_t, 2 * kSignatureComponentSize> signature{};

  bool has_cpuid() const { return version >= 3; }
  // The product named by CPUID (v3+), else kUnknown.
  Product cpuid_product() const;
};

// Parses exactly one report: kTruncated below 1184 bytes, kTrailingData above.
// Rejects (kMalformed, naming field and offset) a version outside 2-5, a
// signature algorithm other than ECDSA P-384/SHA-384 (kUnsupported), policy
// bit 17 clear or bits 63:26 set, reserved SIGNING_KEY values 2-6, and any
// non-zero reserved byte or bit (including the unused signature tail).
Result<AttestationReport> parse_report(ByteView data);

// The 1184-byte encoding (the inverse of parse_report, byte for byte for any
// report parse_report accepts). Used by the simulator and tests.
Bytes serialize_report(const AttestationReport& report);

// The bytes the signature covers: data[0, 0x2A0). `data` must be a whole report.
ByteView signed_part(ByteView data);

// The decoded report as JSON claims (lowercase hex for byte strings). `product`
// selects the TCB layout; pass the product the verifier settled on, or
// report.cpuid_product(). Names: version, guest_svn, policy (decoded), family_id,
// image_id, vmpl, signature_algo, current_tcb, platform_info, author_key_en,
// mask_chip_key, signing_key, report_data, measurement, host_data, id_key_digest,
// author_key_digest, report_id, report_id_ma, reported_tcb, cpuid (v3+), chip_id,
// committed_tcb, current_version, committed_version, launch_tcb, mit vectors (v5),
// product.
nlohmann::json report_claims(const AttestationReport& report, Product product);

}  // namespace concierge::evidence::snp
