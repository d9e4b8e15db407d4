// SEV-SNP attestation reports through the sev-guest driver's ioctls on
// /dev/sev-guest (Linux include/uapi/linux/sev-guest.h,
// Documentation/virt/coco/sev-guest.rst): the fallback for kernels without
// configfs-tsm (before 6.7).
//
//   SNP_GET_REPORT     = _IOWR('S', 0x0, struct snp_guest_request_ioctl)
//   SNP_GET_EXT_REPORT = _IOWR('S', 0x2, struct snp_guest_request_ioctl)
//
// The request is struct snp_report_req {user_data[64], vmpl, rsvd[28]} (for the
// extended report wrapped in struct snp_ext_report_req with a certificate
// buffer); the response is the 4000-byte MSG_REPORT_RSP message of the SNP
// firmware ABI (AMD #56860): u32 STATUS, u32 REPORT_SIZE, 24 reserved bytes,
// then the ATTESTATION_REPORT. The extended request also asks the host for its
// certificate table (GHCB spec #56421, section 4.1.8.1: entries of GUID[16],
// u32 offset, u32 length ended by an all-zero entry, then the certificates).
// When the buffer is too small the driver answers vmm_error
// SNP_GUEST_VMM_ERR_INVALID_LEN (1) and the page-multiple size the host needs
// in certs_len; the request is retried with that size.
//
// Caution: the driver disables its VMPCK message key (for the guest's life)
// after most failed requests, to avoid AES-GCM IV reuse; a failure is
// therefore reported and never retried, except the certificate-length case,
// which the driver handles safely.
//
// Errors: kInvalidArgument for a VMPL over 3; kNotFound when the device does
// not exist (not an SNP guest, or the sev-guest driver is not loaded); kIo when
// it cannot be opened; kDevice when the ioctl fails or the firmware answers a
// non-zero STATUS (the message names the ioctl, errno, fw_error and
// vmm_error); kMalformed/kTruncated when the response does not follow
// MSG_REPORT_RSP or the host's certificate table is malformed (strict: a bad
// table fails the call rather than being dropped silently).
// Thread safety: calls share no state (the driver serializes requests).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::attester::snp {

inline constexpr const char* kDefaultSevGuestDevice = "/dev/sev-guest";
inline constexpr std::size_t kReportDataSize = 64;
inline constexpr std::uint32_t kMaxVmpl = 3;

struct SevGuestReport {
  Bytes report;                       // REPORT_SIZE bytes of MSG_REPORT_RSP
  std::optional<Bytes> certificates;  // the host's certificate table, trimmed; absent if none
};

// One report for `report_data` at `vmpl`. With `extended`, SNP_GET_EXT_REPORT
// (with the host's certificates when it has some), else SNP_GET_REPORT.
Result<SevGuestReport> sev_guest_report(
    std::span<const std::uint8_t, kReportDataSize> report_data, std::uint32_t vmpl,
    bool extended = true, const std::filesystem::path& device = kDefaultSevGuestDevice);

// The report in a MSG_REPORT_RSP buffer: kDevice when STATUS is not zero
// (naming it: 0x16 INVALID_PARAM, 0x27 INVALID_KEY), kMalformed when
// REPORT_SIZE is zero, kTruncated when it runs past the buffer. Bounds-checked; exposed for tests.
Result<Bytes> parse_report_response(ByteView msg_report_rsp);

// The number of bytes of a GHCB certificate table that are used: the
// furthest offset + length of its entries (0 when the first entry is the
// all-zero terminator). kMalformed when no terminator is found or an entry
// points past the buffer. Exposed for tests.
Result<std::size_t> certificate_table_size(ByteView table);

}  // namespace concierge::attester::snp
