// /dev/sev-guest ioctls: SNP_GET_REPORT and SNP_GET_EXT_REPORT.
#include "concierge/attester/snp/sev_guest.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "concierge/core/byte_reader.h"

#if __has_include(<linux/sev-guest.h>)
#include <linux/sev-guest.h>
#define CONCIERGE_HAVE_SEV_GUEST_H 1
#endif

namespace concierge::attester::snp {
namespace {

// The uapi structures, defined here rather than taken from the system header:
// their field names changed between kernels (the status word was `fw_err` in
// the first releases, later the fw_error/vmm_error union), the layout did not.
// When the system has the header, the layout and ioctl numbers are checked
// against it below.
struct SnpReportReq {
  std::uint8_t user_data[kReportDataSize];
  std::uint32_t vmpl;
  std::uint8_t rsvd[28];
};
struct SnpGuestRequestIoctl {
  std::uint8_t msg_version;
  std::uint64_t req_data;
  std::uint64_t resp_data;
  std::uint64_t exitinfo2;  // bits 31:0 fw_error, bits 63:32 vmm_error
};
struct SnpExtReportReq {
  SnpReportReq data;
  std::uint64_t certs_address;
  std::uint32_t certs_len;
};
constexpr std::size_t kReportRespSize = 4000;  // struct snp_report_resp

static_assert(sizeof(SnpReportReq) == 96);
static_assert(sizeof(SnpGuestRequestIoctl) == 32);
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) == 24);
static_assert(sizeof(SnpExtReportReq) == 112);
static_assert(offsetof(SnpExtReportReq, certs_len) == 104);

constexpr unsigned long kSnpGetReport = _IOWR('S', 0x0, SnpGuestRequestIoctl);
constexpr unsigned long kSnpGetExtReport = _IOWR('S', 0x2, SnpGuestRequestIoctl);

constexpr std::uint32_t kVmmErrInvalidLen = 1;   // SNP_GUEST_VMM_ERR_INVALID_LEN
constexpr std::uint32_t kVmmErrBusy = 2;         // SNP_GUEST_VMM_ERR_BUSY
constexpr std::uint64_t kNoFirmwareCall = 0xff;  // SEV_RET_NO_FW_CALL, set before the request

// The driver's certificate buffer (SEV_FW_BLOB_MAX_SIZE): the first request
// asks for all of it, so the length retry is for hosts that need more.
constexpr std::uint32_t kInitialCertsLen = 0x4000;
constexpr std::uint32_t kMaxCertsLen = 1u << 20;
constexpr int kMaxLengthRetries = 3;

#ifdef CONCIERGE_HAVE_SEV_GUEST_H
static_assert(sizeof(struct snp_report_req) == sizeof(SnpReportReq));
static_assert(sizeof(struct snp_report_resp) == kReportRespSize);
static_assert(sizeof(struct snp_guest_request_ioctl) == sizeof(SnpGuestRequestIoctl));
static_assert(sizeof(struct snp_ext_report_req) == sizeof(SnpExtReportReq));
static_assert(offsetof(struct snp_ext_report_req, certs_len) ==
              offsetof(SnpExtReportReq, certs_len));
static_assert(SNP_GET_REPORT == kSnpGetReport);
static_assert(SNP_GET_EXT_REPORT == kSnpGetExtReport);
#endif

// MSG_REPORT_RSP STATUS values (SNP firmware ABI).
const char* status_name(std::uint32_t status) {
  switch (status) {
    case 0x16:
      return "INVALID_PARAM";
    case 0x27:
      return "INVALID_KEY";
    default:
      return nullptr;
  }
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

Error ioctl_error(const char* name, const std::filesystem::path& device, int err,
                  std::uint64_t exitinfo2) {
  std::string msg = std::string(name) + " on " + device.string() + ": " + std::strerror(err);
  if (exitinfo2 == kNoFirmwareCall) {
    msg += " (the request did not reach the firmware)";
  } else if (exitinfo2 != 0) {
    const auto fw = static_cast<std::uint32_t>(exitinfo2);
    const auto vmm = static_cast<std::uint32_t>(exitinfo2 >> 32);
    msg += " (fw_error " + hex32(fw) + ", vmm_error " + hex32(vmm);
    if (vmm == kVmmErrInvalidLen) msg += " INVALID_LEN";
    if (vmm == kVmmErrBusy) msg += " BUSY";
    msg += ")";
  }
  return make_error(Errc::kDevice, std::move(msg));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The ioctl, restarted on EINTR: 0 or the errno.
int issue(int fd, unsigned long request, SnpGuestRequestIoctl& io) {
  for (;;) {
    if (::ioctl(fd, request, &io) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

Result<Bytes> parse_report_response(ByteView resp) {
  ByteReader r(resp);
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t status, r.u32le("status"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, r.u32le("report_size"));
  CONCIERGE_RETURN_IF_ERROR(r.skip(24, "reserved"));
  if (status != 0) {
    const char* name = status_name(status);
    return fail(Errc::kDevice, "the SEV firmware refused the report request: status " +
                                   hex32(status) + (name ? std::string(" ") + name : ""));
  }
  if (size == 0) return fail_at(Errc::kMalformed, "report_size", 4, "is zero");
  CONCIERGE_ASSIGN_OR_RETURN(ByteView report, r.bytes(size, "report"));
  return Bytes(report.begin(), report.end());
}

Result<std::size_t> certificate_table_size(ByteView table) {
  ByteReader r(table);
  std::uint64_t used = 0;
  for (;;) {
    const std::size_t at = r.offset();
    if (r.remaining() < 24) {
      return fail_at(Errc::kMalformed, "certificate table", at,
                     "ends without its all-zero terminating entry");
    }
    CONCIERGE_ASSIGN_OR_RETURN(ByteView guid, r.bytes(16, "guid"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t offset, r.u32le("offset"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t length, r.u32le("length"));
    bool zero = offset == 0 && length == 0;
    for (std::uint8_t b : guid) zero = zero && b == 0;
    if (zero) break;
    const std::uint64_t end = std::uint64_t{offset} + length;
    if (end > table.size()) {
      return fail_at(Errc::kMalformed, "certificate entry", at,
                     "points past the table (offset " + std::to_string(offset) + " + length " +
                         std::to_string(length) + " > " + std::to_string(table.size()) + ")");
    }
    if (end > used) used = end;
  }
  return static_cast<std::size_t>(used);
}

Result<SevGuestReport> sev_guest_report(std::span<const std::uint8_t, kReportDataSize> report_data,
                                        std::uint32_t vmpl, bool extended,
                                        const std::filesystem::path& device) {
  if (vmpl > kMaxVmpl) {
    return fail(Errc::kInvalidArgument, "VMPL " + std::to_string(vmpl) + " is above 3");
  }
  Fd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    const int e = errno;
    if (e == ENOENT || e == ENXIO || e == ENODEV) {
      return fail(Errc::kNotFound, "no " + device.string() +
                                       ": not an SEV-SNP guest, or the sev-guest driver is not "
                                       "loaded");
    }
    return fail(Errc::kIo, "cannot open " + device.string() + ": " + std::strerror(e) +
                               (e == EACCES || e == EPERM ? " (it needs root)" : ""));
  }

  SnpReportReq req{};
  std::memcpy(req.user_data, report_data.data(), kReportDataSize);
  req.vmpl = vmpl;
  Bytes resp(kReportRespSize);
  SevGuestReport out;

  if (!extended) {
    SnpGuestRequestIoctl io{};
    io.msg_version = 1;
    io.req_data = reinterpret_cast<std::uintptr_t>(&req);
    io.resp_data = reinterpret_cast<std::uintptr_t>(resp.data());
    if (const int err = issue(fd.get(), kSnpGetReport, io); err != 0) {
      return Unexpected(ioctl_error("SNP_GET_REPORT", device, err, io.exitinfo2));
    }
    CONCIERGE_ASSIGN_OR_RETURN(out.report, parse_report_response(resp));
    return out;
  }

  std::uint32_t certs_len = kInitialCertsLen;
  for (int attempt = 0;; ++attempt) {
    Bytes certs(certs_len);
    SnpExtReportReq ext{};
    ext.data = req;
    ext.certs_address = reinterpret_cast<std::uintptr_t>(certs.data());
    ext.certs_len = certs_len;
    SnpGuestRequestIoctl io{};
    io.msg_version = 1;
    io.req_data = reinterpret_cast<std::uintptr_t>(&ext);
    io.resp_data = reinterpret_cast<std::uintptr_t>(resp.data());
    const int err = issue(fd.get(), kSnpGetExtReport, io);
    if (err == 0) {
      CONCIERGE_ASSIGN_OR_RETURN(out.report, parse_report_response(resp));
      CONCIERGE_ASSIGN_OR_RETURN(std::size_t used, certificate_table_size(certs));
      if (used > 0) {
        certs.resize(used);
        out.certificates = std::move(certs);
      }
      return out;
    }
    const auto vmm = static_cast<std::uint32_t>(io.exitinfo2 >> 32);
    if (vmm != kVmmErrInvalidLen) {
      return Unexpected(ioctl_error("SNP_GET_EXT_REPORT", device, err, io.exitinfo2));
    }
    // The host needs a larger certificate buffer; the driver wrote the size
    // back into certs_len.
    const std::uint32_t needed = ext.certs_len;
    const long page = ::sysconf(_SC_PAGESIZE);
    if (attempt + 1 >= kMaxLengthRetries || needed <= certs_len || needed > kMaxCertsLen ||
        (page > 0 && needed % static_cast<std::uint32_t>(page) != 0)) {
      return fail(Errc::kDevice, "SNP_GET_EXT_REPORT on " + device.string() +
                                     ": the host asks for a certificate buffer of " +
                                     std::to_string(needed) + " bytes after " +
                                     std::to_string(certs_len) + "; giving up");
    }
    certs_len = needed;
  }
}

}  // namespace concierge::attester::snp
