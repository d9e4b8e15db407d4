// SEV-SNP evidence collection inside the guest: one attestation report (and
// the host's certificate table when it supplies one) from whichever interface
// the kernel offers.
//
// Order: configfs-tsm (tsm.h) when its root folder exists and its provider is
// "sev_guest"; otherwise the sev-guest ioctls (sev_guest.h). A configfs-tsm
// with another provider ("tdx_guest") or none is not an SNP interface and is
// passed over, as is a missing root. Once an interface is chosen, its failure
// is the result: there is no second try through the other one (the driver may
// have disabled its message key, see sev_guest.h).
//
// The report must be 1184 bytes (evidence/snp/report.h kReportSize); a longer
// blob is accepted only when the bytes after 1184 are all zero (padding), and
// then trimmed. It must also carry what was asked: REPORT_DATA (offset 0x50)
// equal to `report_data` and VMPL (offset 0x30) equal to `vmpl`; otherwise the
// interface returned someone else's report and the call fails (kDevice).
// Nothing is verified here: authenticity is the verifier's business.
//
// Errors: kNotFound when no SEV-SNP guest interface exists (the message says
// what was looked at and why each was passed over); kTruncated/kMalformed for
// a report of the wrong size; otherwise the interface's own errors.
// Thread safety: calls share no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include "concierge/attester/snp/sev_guest.h"
#include "concierge/attester/tsm.h"
#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::attester::snp {

enum class Mechanism { kConfigfsTsm, kSevGuestIoctl };
// "configfs-tsm", "sev-guest-ioctl"
std::string_view mechanism_name(Mechanism mechanism);

struct CollectOptions {
  std::filesystem::path tsm_root = kDefaultTsmRoot;
  std::filesystem::path device = kDefaultSevGuestDevice;
  // Ask for the host's certificate table (configfs-tsm: auxblob; ioctl:
  // SNP_GET_EXT_REPORT rather than SNP_GET_REPORT).
  bool certificates = true;
  TsmHook tsm_test_hook;  // TEST-ONLY, passed to tsm_report()
};

struct CollectedReport {
  Bytes report;                       // exactly 1184 bytes
  std::optional<Bytes> certificates;  // GHCB certificate table, when the host has one
  Mechanism mechanism = Mechanism::kConfigfsTsm;
};

// One report binding `report_data` (the verifier's nonce, or a hash of it and
// a key) at privilege level `vmpl` (0-3; the guest's own VMPL or above).
Result<CollectedReport> collect_snp_report(
    std::span<const std::uint8_t, kReportDataSize> report_data, std::uint32_t vmpl = 0,
    const CollectOptions& options = {});

}  // namespace concierge::attester::snp
