// SEV-SNP report collection: configfs-tsm first, the sev-guest ioctls second.
#include "concierge/attester/snp/collect.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::attester::snp {
namespace {

// ATTESTATION_REPORT offsets (evidence/snp/report.h). The attester reads
// only these two fields; parsing the rest is the verifier's business.
using evidence::snp::kReportSize;
constexpr std::size_t kVmplOffset = 0x30;
constexpr std::size_t kReportDataOffset = 0x50;

constexpr const char* kSevGuestProvider = "sev_guest";

// Exactly one report: trims zero padding after 1184 bytes, refuses the rest.
Result<Bytes> exact_report(Bytes blob, std::string_view source) {
  if (blob.size() < kReportSize) {
    return fail(Errc::kTruncated, std::string(source) + " returned " + std::to_string(blob.size()) +
                                      " bytes; an SEV-SNP report is 1184");
  }
  if (blob.size() > kReportSize) {
    ByteReader tail(ByteView(blob).subspan(kReportSize), kReportSize);
    if (!tail.rest_is_zero()) {
      return fail_at(Errc::kMalformed, "report", kReportSize,
                     std::string(source) + " returned " + std::to_string(blob.size()) +
                         " bytes and those after the 1184-byte report are not zero padding");
    }
    blob.resize(kReportSize);
  }
  return blob;
}

// The report must be the one we asked for.
Result<void> check_binding(ByteView report, std::span<const std::uint8_t, kReportDataSize> data,
                           std::uint32_t vmpl, std::string_view source) {
  ByteReader r(report);
  CONCIERGE_RETURN_IF_ERROR(r.skip(kVmplOffset, "header"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t got_vmpl, r.u32le("vmpl"));
  CONCIERGE_RETURN_IF_ERROR(r.skip(kReportDataOffset - kVmplOffset - 4, "header"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView got_data, r.bytes(kReportDataSize, "report_data"));
  if (!std::equal(got_data.begin(), got_data.end(), data.begin())) {
    return fail(Errc::kDevice, std::string(source) +
                                   " returned a report whose REPORT_DATA is not the one requested");
  }
  if (got_vmpl != vmpl) {
    return fail(Errc::kDevice, std::string(source) + " returned a report for VMPL " +
                                   std::to_string(got_vmpl) + ", not " + std::to_string(vmpl));
  }
  return {};
}

}  // namespace

std::string_view mechanism_name(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::kConfigfsTsm:
      return "configfs-tsm";
    case Mechanism::kSevGuestIoctl:
      return "sev-guest-ioctl";
  }
  return "unknown";
}

Result<CollectedReport> collect_snp_report(
    std::span<const std::uint8_t, kReportDataSize> report_data, std::uint32_t vmpl,
    const CollectOptions& o) {
  if (vmpl > kMaxVmpl) {
    return fail(Errc::kInvalidArgument, "VMPL " + std::to_string(vmpl) + " is above 3");
  }
  CollectedReport out;

  TsmOptions t;
  t.root = o.tsm_root;
  t.privlevel = vmpl;
  t.expected_provider = kSevGuestProvider;
  t.test_hook = o.tsm_test_hook;
  auto tsm = tsm_report(report_data, t);
  if (tsm) {
    const std::string source = "configfs-tsm (" + o.tsm_root.string() + ")";
    CONCIERGE_ASSIGN_OR_RETURN(out.report, exact_report(std::move(tsm->outblob), source));
    CONCIERGE_RETURN_IF_ERROR(check_binding(out.report, report_data, vmpl, source));
    if (o.certificates) out.certificates = std::move(tsm->auxblob);
    out.mechanism = Mechanism::kConfigfsTsm;
    return out;
  }
  // No configfs-tsm, no provider, or another TEE's provider: not an SNP
  // interface. Anything else is a real failure of the SNP interface.
  if (tsm.error().code != Errc::kNotFound) return Unexpected(tsm.error());
  const std::string tsm_reason = tsm.error().message;

  auto ioctl = sev_guest_report(report_data, vmpl, o.certificates, o.device);
  if (!ioctl) {
    if (ioctl.error().code == Errc::kNotFound) {
      return fail(Errc::kNotFound,
                  "no SEV-SNP guest interface: " + tsm_reason + "; " + ioctl.error().message);
    }
    return Unexpected(ioctl.error());
  }
  const std::string source = o.device.string();
  CONCIERGE_ASSIGN_OR_RETURN(out.report, exact_report(std::move(ioctl->report), source));
  CONCIERGE_RETURN_IF_ERROR(check_binding(out.report, report_data, vmpl, source));
  out.certificates = std::move(ioctl->certificates);
  out.mechanism = Mechanism::kSevGuestIoctl;
  return out;
}

}  // namespace concierge::attester::snp
