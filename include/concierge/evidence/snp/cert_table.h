// The certificate table an extended attestation request returns next to the
// report (AMD GHCB specification #56421, "SNP Extended Guest Request" NAE
// event, certificate table format; Linux SNP_GET_EXT_REPORT).
//
// Layout: entries of 24 bytes, { GUID[16], offset u32le, length u32le },
// terminated by an entry of 24 zero bytes, followed by the certificates
// (DER). Offsets count from the start of the table. The GUID bytes are in RFC
// 4122 order, i.e. the order of the textual form (as Linux and the common
// guest tools write them), not the mixed-endian EFI_GUID order.
//
// Parsing is strict: every offset must point past the header (the entries and
// the terminator) and every certificate must lie inside the buffer; two
// certificates may not overlap, no GUID may occur twice, and every byte that
// is neither header nor certificate must be zero (hosts pad the buffer to a
// page multiple). Errors name the entry index and the offset. The certificate
// bytes are not parsed here (see x509.h). Pure functions on values;
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::evidence::snp {

struct CertGuid {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const CertGuid& other) const = default;
};

// Lowercase "63da758d-e664-4564-adc5-f4b93be8accd".
std::string guid_to_string(const CertGuid& guid);
// 36 characters, hex digits in either case and hyphens at 8, 13, 18, 23.
Result<CertGuid> guid_from_string(std::string_view text);

enum class CertKind {
  kVcek,   // 63da758d-e664-4564-adc5-f4b93be8accd
  kVlek,   // a8074bc2-a25a-483e-aae6-39c045a0b8a1
  kAsk,    // 4ab7b379-bbac-4fe4-a02f-05aef327c782 (the ASK, or the ASVK with a VLEK)
  kArk,    // c0b406a4-a803-4952-9743-3fb6014cd0ae
  kOther,  // any other GUID (kept, not interpreted)
};
std::string_view cert_kind_name(CertKind kind);  // "vcek", "vlek", "ask", "ark", "other"
CertKind cert_kind_of(const CertGuid& guid);
// The GUID of a kind; kOther has none (returns the all-zero GUID).
CertGuid cert_guid_of(CertKind kind);

struct CertTableEntry {
  CertGuid guid;
  Bytes data;                // the certificate as stored (normally DER)
  std::uint32_t offset = 0;  // set by parse_cert_table; ignored by encode_cert_table

  CertKind kind() const { return cert_kind_of(guid); }
};

// Parses a table. An empty input is a table without entries (the host gave no
// certificates). Errors: kTruncated when the entries run past the end without
// a terminator; kMalformed for a zero GUID with a non-zero offset or length,
// a zero length, an offset inside the header or a certificate past the end,
// overlapping certificates, a repeated GUID, or non-zero bytes outside the
// certificates (`field` is "entry[i]" or "padding", `offset` the byte offset).
Result<std::vector<CertTableEntry>> parse_cert_table(ByteView table);

// The table for `entries`, in the given order: header, terminator, then each
// certificate right after the previous one. kInvalidArgument for a zero GUID,
// empty data, a repeated GUID, or a table larger than 4 GiB.
Result<Bytes> encode_cert_table(const std::vector<CertTableEntry>& entries);

// The first entry of a kind, or nullptr.
const CertTableEntry* find_cert(const std::vector<CertTableEntry>& entries, CertKind kind);

}  // namespace concierge::evidence::snp
