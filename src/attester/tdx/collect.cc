// TDX quote collection through configfs-tsm, and the CCEL table and log.
#include "concierge/attester/tdx/collect.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "concierge/evidence/dcap/quote.h"

namespace concierge::attester::tdx {
namespace {

namespace fs = std::filesystem;
namespace dcap = evidence::dcap;

// A guard against a stand-in file that never ends; real log areas are a few
// hundred KiB (TDVF: 64 KiB to 1 MiB).
constexpr std::size_t kMaxCcelFile = std::size_t{64} << 20;

// The whole file; nullopt when it does not exist.
Result<std::optional<Bytes>> read_optional_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return std::optional<Bytes>();
    return fail(Errc::kIo, "cannot open " + path.string() + ": " + std::strerror(e));
  }
  Bytes data;
  std::uint8_t buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return fail(Errc::kIo, "reading " + path.string() + ": " + std::strerror(e));
    }
    if (n == 0) break;
    const std::size_t at = data.size();
    data.resize(at + static_cast<std::size_t>(n));
    std::memcpy(data.data() + at, buf, static_cast<std::size_t>(n));
    if (data.size() > kMaxCcelFile) {
      ::close(fd);
      return fail(Errc::kIo,
                  path.string() + " is larger than " + std::to_string(kMaxCcelFile) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<Bytes>(std::move(data));
}

// Prefixes an error with the file it came from.
Unexpected in_file(const fs::path& path, Error e) {
  e.message = path.string() + ": " + e.message;
  return Unexpected(std::move(e));
}

// The quote alone, checked to be a TD quote binding `report_data`.
Result<Bytes> checked_quote(Bytes blob, std::span<const std::uint8_t, kReportDataSize> report_data,
                            const std::string& source) {
  auto q = dcap::parse_quote(blob);
  if (!q) {
    Error e = std::move(q).error();
    e.message = source + " returned something that is not a DCAP quote: " + e.message;
    return Unexpected(std::move(e));
  }
  const dcap::TdReportBody* body = q->td();
  if (body == nullptr) {
    return fail(Errc::kDevice, source + " returned an SGX quote, not a TD quote");
  }
  if (!std::equal(body->report_data.begin(), body->report_data.end(), report_data.begin())) {
    return fail(Errc::kDevice,
                source + " returned a quote whose REPORTDATA is not the one requested");
  }
  blob.resize(q->layout.quote_size);  // parse_quote allowed only zero bytes after it
  return blob;
}

}  // namespace

Result<std::optional<CcelFiles>> read_ccel(const fs::path& table_path, const fs::path& data_path,
                                           std::string* detail) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> table, read_optional_file(table_path));
  if (!table) {
    if (detail) *detail = "no CCEL table at " + table_path.string();
    return std::optional<CcelFiles>();
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> log, read_optional_file(data_path));
  if (!log) {
    return fail(Errc::kNotFound, "there is a CCEL table at " + table_path.string() +
                                     " but no log area at " + data_path.string());
  }
  CcelFiles out;
  auto parsed = dcap::parse_ccel_table(*table);
  if (!parsed) return in_file(table_path, std::move(parsed).error());
  out.parsed = *parsed;
  if (out.parsed.cc_type != dcap::kCcTypeTdx) {
    return in_file(table_path, make_error_at(Errc::kMalformed, "cc_type", 36,
                                             "CC type " + dcap::cc_type_name(out.parsed.cc_type) +
                                                 ", not TDX (2): this is not a TD's event log"));
  }
  if (log->size() > out.parsed.laml) {
    return in_file(data_path,
                   make_error(Errc::kMalformed, "the log area has " + std::to_string(log->size()) +
                                                    " bytes, more than the table's LAML " +
                                                    std::to_string(out.parsed.laml)));
  }
  if (auto replayed = dcap::replay_ccel(*log); !replayed) {
    return in_file(data_path, std::move(replayed).error());
  }
  out.table = std::move(*table);
  out.log = std::move(*log);
  if (detail) detail->clear();
  return std::optional<CcelFiles>(std::move(out));
}

Result<CollectedQuote> collect_tdx_quote(std::span<const std::uint8_t, kReportDataSize> report_data,
                                         const CollectOptions& o) {
  CollectedQuote out;
  if (o.ccel) {
    CONCIERGE_ASSIGN_OR_RETURN(out.ccel, read_ccel(o.ccel_table, o.ccel_data, &out.ccel_detail));
  } else {
    out.ccel_detail = "not asked for";
  }

  TsmOptions t;
  t.root = o.tsm_root;
  t.expected_provider = kTdxGuestProvider;
  t.test_hook = o.tsm_test_hook;
  auto tsm = tsm_report(report_data, t);
  if (!tsm) {
    if (tsm.error().code == Errc::kNotFound) {
      return fail(Errc::kNotFound, "no TDX guest interface: " + tsm.error().message);
    }
    return Unexpected(tsm.error());
  }
  const std::string source = "configfs-tsm (" + o.tsm_root.string() + ")";
  CONCIERGE_ASSIGN_OR_RETURN(out.quote,
                             checked_quote(std::move(tsm->outblob), report_data, source));
  return out;
}

}  // namespace concierge::attester::tdx
