// AMD SEV-SNP endorsement key certificates: the X.509 extensions of a VCEK
// (Versioned Chip Endorsement Key) or VLEK (Versioned Loaded Endorsement Key)
// certificate, and their match against an attestation report.
//
// Extensions (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS
// Interface Specification" #57230, "VCEK Certificate" extensions table; the
// VLEK certificate carries the same, with cspID instead of hwID):
//   1.3.6.1.4.1.3704.1.1    structVersion  INTEGER
//   1.3.6.1.4.1.3704.1.2    productName1   IA5String ("Milan-B0", "Genoa-B1", "Turin-C0")
//   1.3.6.1.4.1.3704.1.3.1  blSPL          INTEGER 0..255
//   1.3.6.1.4.1.3704.1.3.2  teeSPL         INTEGER 0..255
//   1.3.6.1.4.1.3704.1.3.3  snpSPL         INTEGER 0..255
//   1.3.6.1.4.1.3704.1.3.8  ucodeSPL       INTEGER 0..255
//   1.3.6.1.4.1.3704.1.3.9  fmcSPL         INTEGER 0..255 (Turin)
//   1.3.6.1.4.1.3704.1.4    hwID           64 bytes (Turin 8) - VCEK
//   1.3.6.1.4.1.3704.1.5    cspID          IA5String - VLEK
// Each value but hwID is DER, decoded strictly (the whole extension value is
// one element, and re-encoding it gives the same bytes). An SPL of 128..255 is
// a two-byte DER INTEGER (02 02 00 D1), which is accepted; a negative or
// larger value is malformed. The KDS writes hwID as the raw bytes (the
// extnValue OCTET STRING holds them directly, with no inner tag); a DER OCTET
// STRING holding 64 or 8 bytes is accepted as well.
//
// Outcomes: parse_vcek_extensions returns an Error for malformed extensions (the
// certificate is garbage); vcek_matches_report returns a Verdict (the
// certificate is for another chip or TCB). The extensions are read whether or
// not the certificate verifies: trust them only with an accepted chain (see
// amd_chain.h). Pure functions on values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::evidence::snp {

inline constexpr std::string_view kOidStructVersion = "1.3.6.1.4.1.3704.1.1";
inline constexpr std::string_view kOidProductName = "1.3.6.1.4.1.3704.1.2";
inline constexpr std::string_view kOidBlSpl = "1.3.6.1.4.1.3704.1.3.1";
inline constexpr std::string_view kOidTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
inline constexpr std::string_view kOidSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
inline constexpr std::string_view kOidUcodeSpl = "1.3.6.1.4.1.3704.1.3.8";
inline constexpr std::string_view kOidFmcSpl = "1.3.6.1.4.1.3704.1.3.9";
inline constexpr std::string_view kOidHwId = "1.3.6.1.4.1.3704.1.4";
inline constexpr std::string_view kOidCspId = "1.3.6.1.4.1.3704.1.5";

inline constexpr std::size_t kHwIdSize = 64;      // Milan, Genoa
inline constexpr std::size_t kTurinHwIdSize = 8;  // Turin: the first 8 bytes of CHIP_ID

// What a VCEK or VLEK certificate says. Absent extensions are nullopt / empty.
struct VcekInfo {
  SigningKey kind = SigningKey::kVcek;  // kVcek: has hwID; kVlek: has cspID
  std::optional<std::int64_t> struct_version;
  std::string product_name;  // productName1 as written ("Milan-B0"); "" when absent
  std::optional<std::uint8_t> bl_spl;
  std::optional<std::uint8_t> tee_spl;
  std::optional<std::uint8_t> snp_spl;
  std::optional<std::uint8_t> ucode_spl;
  std::optional<std::uint8_t> fmc_spl;
  Bytes hwid;          // VCEK: 64 bytes (Turin 8); empty for a VLEK
  std::string csp_id;  // VLEK: the cloud service provider; "" for a VCEK

  // parse_product(product_name), kUnknown when absent or unrecognised.
  Product product() const;
};

// Reads the AMD extensions of `cert`. Errors (kMalformed, `field` naming the
// extension, e.g. "ucodeSPL"): a value that is not the DER type above, has
// bytes after it (kTrailingData), an SPL outside 0..255, a non-ASCII string,
// an hwID that is not 64 or 8 bytes (raw or in a DER OCTET STRING), both hwID
// and cspID, or neither (then the certificate is not a VCEK or VLEK).
Result<VcekInfo> parse_vcek_extensions(const Certificate& cert);

// Whether the certificate describes the chip and TCB of `report`. `product` is
// the product the verifier settled on (CPUID, or the chain's ARK); it selects
// the REPORTED_TCB layout (decode_tcb). Checks, in order:
//   - the certificate kind equals the report's SIGNING_KEY (a VLEK-signed
//     report needs a VLEK, and SIGNING_KEY "none" is rejected);
//   - productName, when it names a product, is `product` (unless kUnknown);
//   - VCEK: hwID equals CHIP_ID (an 8-byte hwID equals its first 8 bytes and
//     the other 56 must be zero), unless MASK_CHIP_KEY is set; VLEK: no hwID;
//   - blSPL, teeSPL, snpSPL, ucodeSPL equal REPORTED_TCB's BOOT_LOADER, TEE,
//     SNP, MICROCODE; on Turin fmcSPL equals FMC too (elsewhere an fmcSPL is
//     rejected). A missing SPL extension is rejected.
// A rejection names the field and both values, e.g. "VCEK ucodeSPL 209
// differs from REPORTED_TCB microcode 68".
Verdict vcek_matches_report(const VcekInfo& info, const AttestationReport& report, Product product);

// Claims for the verifier's output: {"kind": "vcek"|"vlek", "struct_version",
// "product_name", "spl": {"bootloader", "tee", "snp", "microcode"[, "fmc"]},
// "hwid" (hex, VCEK) | "csp_id" (VLEK)}; absent values are left out.
nlohmann::json vcek_claims(const VcekInfo& info);

}  // namespace concierge::evidence::snp
