// The Intel SGX extension of a PCK (Provisioning Certification Key)
// certificate, shared by SGX and TDX quote verification (DCAP).
//
// Intel "SGX PCK Certificate and Certificate Revocation List Profile
// Specification" (rev 1.4 and later), "Certificate Formats", the Intel SGX
// Extensions table. The extension 1.2.840.113741.1.13.1 (non-critical) holds
// a SEQUENCE of SEQUENCE { OID, value }:
//   .1  PPID                 OCTET STRING (16)
//   .2  TCB                  SEQUENCE of 18 SEQUENCE { OID, value }:
//         .2.1 - .2.16       sgxTcbComp01SVN .. sgxTcbComp16SVN  INTEGER 0..255
//         .2.17              pcesvn                              INTEGER 0..65535
//         .2.18              cpusvn                              OCTET STRING (16)
//   .3  PCE-ID               OCTET STRING (2)
//   .4  FMSPC                OCTET STRING (6)
//   .5  SGX Type             ENUMERATED (0 Standard, 1 Scalable,
//                            2 Scalable with Integrity)
//   .6  PlatformInstanceID   OCTET STRING (16)   optional (Platform CA leaves)
//   .7  Configuration        SEQUENCE of SEQUENCE { OID, BOOLEAN }, optional:
//         .7.1 dynamicPlatform, .7.2 cachedKeys, .7.3 smtEnabled (each optional)
//
// Parsing is strict: DER only (every SEQUENCE is re-encoded by OpenSSL and
// compared with the input; a BOOLEAN must be 00 or FF), exact sizes, every
// element at most once, no element or member outside the table (an unknown
// OID under the SGX arc is kUnsupported: a newer profile than we implement),
// nothing after the outer SEQUENCE (kTrailingData). PPID, TCB (all 18
// members), PCE-ID, FMSPC and SGX Type are required. Errors name the element
// in `field` ("FMSPC", "sgxTcbComp05SVN", "smtEnabled") and give
// its byte offset in the extension value.
//
// The extension is read whether or not the certificate verifies: trust it only
// with an accepted chain (pck_chain.h). Pure functions on values; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"

namespace concierge::evidence::dcap {

inline constexpr std::string_view kOidSgxExtensions = "1.2.840.113741.1.13.1";

inline constexpr std::size_t kPpidSize = 16;
inline constexpr std::size_t kCpuSvnSize = 16;
inline constexpr std::size_t kPceIdSize = 2;
inline constexpr std::size_t kFmspcSize = 6;
inline constexpr std::size_t kPlatformInstanceIdSize = 16;
inline constexpr std::size_t kTcbComponentCount = 16;

enum class SgxType : std::uint8_t {
  kStandard = 0,
  kScalable = 1,
  kScalableWithIntegrity = 2,
};

// "standard", "scalable", "scalable_with_integrity".
std::string_view sgx_type_name(SgxType type);

// Configuration (.7); each flag is absent when its member is.
struct PckConfiguration {
  std::optional<bool> dynamic_platform;  // .7.1
  std::optional<bool> cached_keys;       // .7.2
  std::optional<bool> smt_enabled;       // .7.3
};

struct PckExtension {
  Bytes ppid;  // 16 bytes
  // sgxTcbComp01SVN .. sgxTcbComp16SVN, in that order.
  std::array<std::uint8_t, kTcbComponentCount> tcb_components{};
  std::uint16_t pcesvn = 0;
  Bytes cpusvn;  // 16 bytes
  Bytes pceid;   // 2 bytes, as written (big-endian)
  Bytes fmspc;   // 6 bytes
  SgxType sgx_type = SgxType::kStandard;
  std::optional<Bytes> platform_instance_id;  // 16 bytes when present
  std::optional<PckConfiguration> configuration;
};

// Parses the extension value (the extnValue contents: the DER of the outer
// SEQUENCE). Errors: kMalformed (also for truncated input), kTrailingData,
// kUnsupported (an unknown member OID or SGX Type value), each with `field`
// and `offset` as above.
Result<PckExtension> parse_pck_extension(ByteView der);

// The extension of `cert`. kNotFound (field "sgxExtensions") when the
// certificate has none (it is not a PCK certificate); otherwise as above.
Result<PckExtension> parse_pck_extension(const Certificate& cert);

// Claims for the verifier's output: {"fmspc", "pceid", "cpusvn" (lowercase
// hex), "pcesvn", "tcb_components" (16 numbers), "sgx_type" (as
// sgx_type_name), and when present "configuration": {"dynamic_platform",
// "cached_keys", "smt_enabled"}}. The PPID and the Platform Instance ID, which
// identify one platform, are left out.
nlohmann::json pck_extension_claims(const PckExtension& ext);

}  // namespace concierge::evidence::dcap
