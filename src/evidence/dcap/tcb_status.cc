// TCB status names and the findings-union convergence (see tcb_status.h).
#include "concierge/evidence/dcap/tcb_status.h"

#include <array>
#include <string>

#include "concierge/core/time.h"

namespace concierge::evidence::dcap {
namespace {

struct Named {
  TcbStatus status;
  std::string_view name;
};

constexpr std::array<Named, 8> kNames = {{
    {TcbStatus::kUpToDate, "UpToDate"},
    {TcbStatus::kSWHardeningNeeded, "SWHardeningNeeded"},
    {TcbStatus::kConfigurationNeeded, "ConfigurationNeeded"},
    {TcbStatus::kConfigurationAndSWHardeningNeeded, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::kOutOfDate, "OutOfDate"},
    {TcbStatus::kOutOfDateConfigurationNeeded, "OutOfDateConfigurationNeeded"},
    {TcbStatus::kRevoked, "Revoked"},
    {TcbStatus::kUnknown, "Unknown"},
}};

enum Finding : unsigned {
  kSw = 1,
  kConfig = 2,
  kOutOfDate = 4,
  kRevokedBit = 8,
};

unsigned findings(TcbStatus s) {
  switch (s) {
    case TcbStatus::kUpToDate:
      return 0;
    case TcbStatus::kSWHardeningNeeded:
      return kSw;
    case TcbStatus::kConfigurationNeeded:
      return kConfig;
    case TcbStatus::kConfigurationAndSWHardeningNeeded:
      return kConfig | kSw;
    case TcbStatus::kOutOfDate:
      return kOutOfDate;
    case TcbStatus::kOutOfDateConfigurationNeeded:
      return kOutOfDate | kConfig;
    case TcbStatus::kRevoked:
      return kRevokedBit;
    case TcbStatus::kUnknown:
      break;
  }
  return 0;
}

}  // namespace

std::string_view tcb_status_name(TcbStatus status) {
  for (const Named& n : kNames) {
    if (n.status == status) return n.name;
  }
  return "Unknown";
}

TcbStatus parse_tcb_status(std::string_view name) {
  for (const Named& n : kNames) {
    if (n.status != TcbStatus::kUnknown && n.name == name) return n.status;
  }
  return TcbStatus::kUnknown;
}

TcbStatus converge_tcb_status(TcbStatus a, TcbStatus b) {
  if (a == TcbStatus::kUnknown || b == TcbStatus::kUnknown) return TcbStatus::kUnknown;
  const unsigned f = findings(a) | findings(b);
  if (f & kRevokedBit) return TcbStatus::kRevoked;
  if (f & kOutOfDate) {
    return (f & kConfig) ? TcbStatus::kOutOfDateConfigurationNeeded : TcbStatus::kOutOfDate;
  }
  if ((f & kConfig) && (f & kSw)) return TcbStatus::kConfigurationAndSWHardeningNeeded;
  if (f & kConfig) return TcbStatus::kConfigurationNeeded;
  if (f & kSw) return TcbStatus::kSWHardeningNeeded;
  return TcbStatus::kUpToDate;
}

Verdict check_collateral_fresh(std::string_view what, TimePoint issue_date, TimePoint next_update,
                               TimePoint at) {
  if (next_update < at) {
    return Verdict::reject(std::string(what) + " collateral expired: nextUpdate " +
                           format_rfc3339(next_update) + " is before " + format_rfc3339(at));
  }
  if (issue_date > at) {
    return Verdict::reject(std::string(what) + " is not yet valid: issueDate " +
                           format_rfc3339(issue_date) + " is after " + format_rfc3339(at));
  }
  return Verdict::accept();
}

}  // namespace concierge::evidence::dcap
