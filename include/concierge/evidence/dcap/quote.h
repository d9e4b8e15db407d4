// Intel DCAP (ECDSA) quotes, shared by SGX and TDX: quote versions 3, 4 and 5.
//
// Sources: Intel "SGX ECDSA Quote Library API" (DCAP) appendix A.4 "Quote
// Format" (v3) and Intel "TDX DCAP Quoting Library API" appendix A.3 (v4) and
// A.4 (v5). All integers are little-endian except the ECDSA values (r||s and
// x||y), which are big-endian as the spec stores them.
//
// Layout:
//   header (48)  version u16, attestation key type u16 (2 = ECDSA-256 with
//                P-256), tee type u32 (v4/v5: 0 SGX, 0x81 TDX; v3: reserved, must
//                be zero), qe_svn u16, pce_svn u16, qe_vendor_id[16],
//                user_data[20]
//   v3/v4:       body (SGX report 384 / TD report 1.0 584), then the signature
//                data size u32
//   v5:          body type u16 (1 SGX, 2 TD 1.0, 3 TD 1.5), body size u32 (must
//                be 384 / 584 / 648), body, then the signature data size u32
//   signature data, v4/v5 (A.3.8 / A.4.9):
//                signature r||s (64), attestation key x||y (64), certification
//                data type u16 (must be 6), size u32, then the QE report
//                certification data: QE report (an SGX report body, 384), QE
//                report signature (64), QE authentication data (u16 size +
//                bytes), nested certification data type u16 (must be 5, the PCK
//                chain), size u32, data
//   signature data, v3 (A.4.4): signature (64), attestation key (64), QE
//                report (384), QE report signature (64), QE authentication data
//                (u16 size + bytes), certification data type u16 (1-5), size
//                u32, data. The QE report is inline: there is no type 6 wrapper.
//                Type 5 is the PEM PCK chain; types 1-4 (PPID forms, PCK leaf)
//                are kept as raw bytes.
//
// Every declared size must match what it contains exactly (no slack inside).
// After the quote only zero bytes may follow (guest drivers hand out quotes in
// zero-padded buffers).
//
// Parsing checks the structure only; it never says whether a quote is
// authentic (that is the verifier's job). Plain values; thread-safe as any
// value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::evidence::dcap {

inline constexpr std::size_t kHeaderSize = 48;
inline constexpr std::size_t kSgxReportBodySize = 384;
inline constexpr std::size_t kTd10ReportBodySize = 584;
inline constexpr std::size_t kTd15ReportBodySize = 648;
inline constexpr std::size_t kEcdsaSignatureSize = 64;      // r||s, big-endian
inline constexpr std::size_t kEcdsaP256PublicKeySize = 64;  // x||y, big-endian

inline constexpr std::uint16_t kAttestationKeyEcdsaP256 = 2;
inline constexpr std::uint16_t kAttestationKeyEcdsaP384 = 3;  // defined, unsupported
inline constexpr std::uint32_t kTeeTypeSgx = 0x00000000;
inline constexpr std::uint32_t kTeeTypeTdx = 0x00000081;
inline constexpr std::uint16_t kCertDataPckChain = 5;  // PEM PCK leaf, intermediate, root
inline constexpr std::uint16_t kCertDataQeReport = 6;  // QE report certification data

// 939a7233-f79c-4ca9-940a-0db3957f0607, the Intel quoting enclave vendor.
inline constexpr std::array<std::uint8_t, 16> kIntelQeVendorId = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

// The report body a quote carries. In v5 it is the body type field (1, 2, 3).
enum class BodyKind : std::uint16_t { kSgx = 1, kTd10 = 2, kTd15 = 3 };
std::size_t body_size(BodyKind kind);

struct Header {
  std::uint16_t version = 0;
  std::uint16_t attestation_key_type = kAttestationKeyEcdsaP256;
  std::uint32_t tee_type = kTeeTypeSgx;  // always zero in v3
  std::uint16_t qe_svn = 0;
  std::uint16_t pce_svn = 0;
  std::array<std::uint8_t, 16> qe_vendor_id = kIntelQeVendorId;
  std::array<std::uint8_t, 20> user_data{};  // Intel QE: QE ID in the first 16
};

// SGX REPORTBODY (SGX ECDSA Quote Library API A.4.3 "Enclave Report Body";
// Intel SDM vol. 3D 38.15 "REPORT"); also the QE report. Reserved bytes at
// 20..31, 96..127, 160..191 and 262..303 must be zero.
struct SgxReportBody {
  std::array<std::uint8_t, 16> cpu_svn{};
  std::uint32_t miscselect = 0;
  std::array<std::uint8_t, 16> isv_ext_prod_id{};
  std::uint64_t attributes_flags = 0;  // ATTRIBUTES bytes 0..7
  std::uint64_t attributes_xfrm = 0;   // ATTRIBUTES bytes 8..15 (an XFAM)
  std::array<std::uint8_t, 32> mr_enclave{};
  std::array<std::uint8_t, 32> mr_signer{};
  std::array<std::uint8_t, 64> config_id{};
  std::uint16_t isv_prod_id = 0;
  std::uint16_t isv_svn = 0;
  std::uint16_t config_svn = 0;
  std::array<std::uint8_t, 16> isv_family_id{};
  std::array<std::uint8_t, 64> report_data{};
};

// TD quote body (TDX DCAP Quoting Library API A.3.2 "TD Quote Body" for
// TDX 1.0; A.4.2 "TD Quote Body Descriptor" for 1.5). The last two fields exist
// only in the 1.5 body (BodyKind::kTd15) and are zero otherwise.
struct TdReportBody {
  std::array<std::uint8_t, 16> tee_tcb_svn{};
  std::array<std::uint8_t, 48> mr_seam{};
  std::array<std::uint8_t, 48> mr_signer_seam{};
  std::uint64_t seam_attributes = 0;
  std::uint64_t td_attributes = 0;
  std::uint64_t xfam = 0;
  std::array<std::uint8_t, 48> mr_td{};
  std::array<std::uint8_t, 48> mr_config_id{};
  std::array<std::uint8_t, 48> mr_owner{};
  std::array<std::uint8_t, 48> mr_owner_config{};
  std::array<std::array<std::uint8_t, 48>, 4> rtmr{};
  std::array<std::uint8_t, 64> report_data{};
  std::array<std::uint8_t, 16> tee_tcb_svn2{};   // 1.5 only
  std::array<std::uint8_t, 48> mr_service_td{};  // 1.5 only
};

// Certification data: a type and its bytes (for type 5, PEM text).
struct CertificationData {
  std::uint16_t type = kCertDataPckChain;
  Bytes data;
};

// The signature data, the same model for every version: in v4/v5 the QE fields
// come from the type 6 wrapper and `certification` is its nested data (type 5);
// in v3 they are inline and `certification` is the top-level data (types 1-5).
struct SignatureData {
  std::array<std::uint8_t, kEcdsaSignatureSize> signature{};            // r||s
  std::array<std::uint8_t, kEcdsaP256PublicKeySize> attestation_key{};  // x||y
  SgxReportBody qe_report;
  std::array<std::uint8_t, kEcdsaSignatureSize> qe_report_signature{};  // r||s
  Bytes qe_auth_data;
  CertificationData certification;
};

// Where a field sits in the parsed input: quote.subspan(offset, size).
struct ByteRange {
  std::size_t offset = 0;
  std::size_t size = 0;
  ByteView of(ByteView quote) const { return quote.subspan(offset, size); }
};

// Byte ranges for verification, filled by parse_quote (serialize_quote ignores
// them; a hand-built Quote gets them by parsing its serialization).
struct QuoteLayout {
  ByteRange signed_data;      // what the attestation key signs: v3/v4 header||body;
                              // v5 header||body type||body size||body
  ByteRange body;             // the report body alone
  ByteRange signature;        // r||s over signed_data
  ByteRange attestation_key;  // x||y
  ByteRange qe_report;        // 384 bytes, signed by the PCK key
  ByteRange qe_report_signature;
  ByteRange qe_auth_data;        // the bytes only, without the u16 size
  ByteRange certification_data;  // PCK chain bytes (the data, without type and size)
  std::size_t quote_size = 0;    // bytes up to the end of signature data
};

struct Quote {
  Header header;
  BodyKind kind = BodyKind::kSgx;
  std::variant<SgxReportBody, TdReportBody> body;  // SgxReportBody iff kind == kSgx
  SignatureData sig;
  QuoteLayout layout;  // set by parse_quote

  bool is_tdx() const { return kind != BodyKind::kSgx; }
  const SgxReportBody* sgx() const { return std::get_if<SgxReportBody>(&body); }
  const TdReportBody* td() const { return std::get_if<TdReportBody>(&body); }
  // The PCK chain text when the certification data is type 5, else nullopt. A
  // view into this Quote; Intel QEs end it with a NUL byte, which PEM readers skip.
  std::optional<std::string_view> pck_chain_pem() const;
};

// Parses one quote. Errors name the field and absolute offset: kTruncated when
// the input ends inside a field; kUnsupported for versions other than 3-5 and
// attestation key types other than 2; kMalformed for an unknown tee type (or a
// non-zero v3 reserved tee type), a v5 body type that is unknown or disagrees
// with the tee type, a v5 body size other than the body type's, a non-zero
// reserved byte in an SGX report body, certification data of the wrong type
// (v4/v5: 6 at top level, 5 nested; v3: 1-5), or a declared size (signature data,
// certification data) that differs from what it contains; kTrailingData for a
// non-zero byte after the quote (zero padding is accepted).
Result<Quote> parse_quote(ByteView data);

// The exact bytes of the quote (no padding): serialize_quote(parse_quote(x))
// equals x up to quote_size. Sizes are computed, not taken from the layout.
// kInvalidArgument if the Quote is inconsistent: version outside 3-5, a TD body
// before v4, a body alternative that disagrees with `kind`, a tee type that
// disagrees with `kind`, a TD 1.5 body outside v5, or certification data of a
// type parse_quote would reject.
Result<Bytes> serialize_quote(const Quote& quote);

// One SGX report body (e.g. the QE report): exactly 384 bytes. `base_offset`
// is added to error offsets so errors point into the enclosing input.
Result<SgxReportBody> parse_sgx_report_body(ByteView data, std::size_t base_offset = 0);
Bytes serialize_sgx_report_body(const SgxReportBody& body);
// One TD report body of `kind` (kTd10: 584 bytes, kTd15: 648 bytes).
Result<TdReportBody> parse_td_report_body(ByteView data, BodyKind kind,
                                          std::size_t base_offset = 0);
Bytes serialize_td_report_body(const TdReportBody& body, BodyKind kind);

// TD attributes (TDX module ABI, TDINFO_STRUCT.ATTRIBUTES). Other bits are
// reserved and kept in `raw` only.
struct TdAttributes {
  std::uint64_t raw = 0;
  bool debug = false;            // bit 0 (TUD.DEBUG)
  bool sept_ve_disable = false;  // bit 28
  bool pks = false;              // bit 30
  bool kl = false;               // bit 31 (Key Locker)
  bool perfmon = false;          // bit 63
};
TdAttributes decode_td_attributes(std::uint64_t raw);

// SGX SECS.ATTRIBUTES flags (Intel SDM vol. 3D 35.7.1). Others kept in `raw`.
struct SgxAttributes {
  std::uint64_t raw = 0;
  bool init = false;           // bit 0
  bool debug = false;          // bit 1
  bool mode64bit = false;      // bit 2
  bool provisionkey = false;   // bit 4
  bool einittokenkey = false;  // bit 5
  bool kss = false;            // bit 7
  bool aexnotify = false;      // bit 10
};
SgxAttributes decode_sgx_attributes(std::uint64_t flags);

// JSON decoders; "raw" is the value as 16 (or 8) lowercase hex digits, most
// significant first (not the little-endian byte order of the quote).
// {"raw", "debug", "sept_ve_disable", "pks", "kl", "perfmon"}
nlohmann::json td_attributes_json(std::uint64_t raw);
// XFAM / XFRM (XCR0 layout): {"raw", "x87" (bit 0), "sse" (1), "avx" (2),
// "avx512" (5-7 all set), "pk" (9), "amx" (17-18 all set)}
nlohmann::json xfam_json(std::uint64_t raw);
// {"flags": raw flags, "xfrm": xfam_json, "init", "debug", "mode64bit",
// "provisionkey", "einittokenkey", "kss", "aexnotify"}
nlohmann::json sgx_attributes_json(std::uint64_t flags, std::uint64_t xfrm);
// MISCSELECT: {"raw" (8 hex digits), "exinfo" (bit 0), "cpinfo" (bit 1)}
nlohmann::json miscselect_json(std::uint32_t raw);

// An SGX report body's claims: mrenclave, mrsigner, isvprodid, isvsvn,
// attributes (decoded), miscselect (decoded), report_data, cpusvn, configsvn,
// configid, isvextprodid, isvfamilyid. Byte strings are lowercase hex.
nlohmann::json sgx_report_claims(const SgxReportBody& body);

// The quote's claims: quote_version, tee ("sgx" / "tdx"), qe_svn, pce_svn,
// qe_vendor_id, attestation_key_type, then the body's. SGX: as
// sgx_report_claims. TDX: mrtd, rtmr0..rtmr3, mrconfigid, mrowner,
// mrownerconfig, mrseam, mrsignerseam, seam_attributes, report_data,
// td_attributes (decoded), xfam (decoded), tee_tcb_svn, and for TD 1.5
// tee_tcb_svn2 and mrservicetd; "td_report_version" is "1.0" or "1.5".
nlohmann::json quote_claims(const Quote& quote);

}  // namespace concierge::evidence::dcap
