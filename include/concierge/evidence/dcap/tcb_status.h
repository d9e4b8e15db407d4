// TCB statuses of Intel DCAP collateral and how they combine.
//
// The names are Intel's, as written in the "tcbStatus" fields of TCB Info
// (v2/v3) and Enclave Identity (v2) JSON (Intel SGX/TDX PCS API,
// "TCB Info" and "Enclave Identity" models).
//
// Combining statuses (converge_tcb_status): Intel's Quote Verification Library
// (QVL) converges the platform's TCB level status with the QE Identity status
// and, for TDX, with the TDX module's status. We model each status as a set
// of findings and take their union, which reproduces QVL's convergence table:
//   UpToDate                           {}
//   SWHardeningNeeded                  {sw-hardening}
//   ConfigurationNeeded                {configuration}
//   ConfigurationAndSWHardeningNeeded  {configuration, sw-hardening}
//   OutOfDate                          {out-of-date}
//   OutOfDateConfigurationNeeded       {out-of-date, configuration}
//   Revoked                            {revoked}
// and map the union back: revoked wins; then out-of-date (with configuration:
// OutOfDateConfigurationNeeded, else OutOfDate: an out-of-date TCB needs an
// update, which subsumes SW hardening); then the configuration/SW-hardening
// combinations. So an OutOfDate QE or TDX module on an UpToDate or
// SWHardeningNeeded platform gives OutOfDate, on a ConfigurationNeeded or
// ConfigurationAndSWHardeningNeeded platform OutOfDateConfigurationNeeded, and
// a Revoked QE or module gives Revoked, as in QVL. Unknown on either side
// gives Unknown. Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "concierge/core/verdict.h"
#include "concierge/core/x509.h"  // TimePoint

namespace concierge::evidence::dcap {

enum class TcbStatus {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kUnknown,  // a status string we do not recognise (never matched as acceptable)
};

// Intel's spelling ("UpToDate", "SWHardeningNeeded", ...); "Unknown" for kUnknown.
std::string_view tcb_status_name(TcbStatus status);
// The exact (case-sensitive) Intel name; kUnknown for anything else.
TcbStatus parse_tcb_status(std::string_view name);

// Converges two statuses as described above (commutative).
TcbStatus converge_tcb_status(TcbStatus a, TcbStatus b);

// Freshness of a collateral document (`what`, e.g. "TCB info") at `at`:
// rejected as "<what> collateral expired: nextUpdate <t> is before <at>" when
// next_update < at, and "<what> is not yet valid: issueDate <t> is after <at>"
// when issue_date > at. Both bounds are inclusive.
Verdict check_collateral_fresh(std::string_view what, TimePoint issue_date, TimePoint next_update,
                               TimePoint at);

}  // namespace concierge::evidence::dcap
