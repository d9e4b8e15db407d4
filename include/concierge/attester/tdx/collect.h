// Intel TDX evidence collection inside a TD: one quote binding 64 bytes of
// REPORTDATA, and the CCEL ACPI table and log area the firmware left, from
// which a verifier replays RTMR0-3 (evidence/dcap/ccel.h).
//
// The quote comes from configfs-tsm (tsm.h) with provider "tdx_guest" (Linux
// 6.7+; the kernel asks the host's quoting service through a TDVMCALL). A
// configfs-tsm with another provider, or none, is not a TDX interface: the
// call fails with kNotFound saying what was found. There is no fallback: the
// /dev/tdx_guest device only returns TD reports, which are MAC'd for the
// local platform, not quotes.
//
// The quote is checked before it is returned: it must parse
// (evidence/dcap/quote.h parse_quote; zero padding after it is trimmed), be a
// TD quote, and carry the REPORTDATA asked for; otherwise the provider
// returned something else and the call fails (kDevice, or the parser's error
// for bytes that are not a quote). Nothing is verified: that is the
// verifier's business.
//
// CCEL (Linux 6.4+ exposes it): the table at /sys/firmware/acpi/tables/CCEL,
// the log area (LAML bytes, padded after the last record) at
// /sys/firmware/acpi/tables/data/CCEL. Both are read before the quote is
// asked for, so a TD that cannot read them (they are root-only) spends no
// quote. The table must parse, be a TDX one (CC type 2), and the log area
// must be no longer than LAML and replay (replay_ccel); errors name the file.
// A TD without a CCEL table (older firmware or kernel) is not an error: the
// result has no CCEL and says why (`ccel_detail`).
//
// Errors: kNotFound when no configfs-tsm "tdx_guest" provider exists; kIo
// when a CCEL file exists but cannot be read; kMalformed/kTruncated/... for a
// CCEL table or log that does not parse; kDevice for a quote that is not the
// one asked for; otherwise tsm_report's errors.
// Thread safety: calls share no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "concierge/attester/tsm.h"
#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/evidence/dcap/ccel.h"

namespace concierge::attester::tdx {

inline constexpr std::size_t kReportDataSize = 64;  // TDREPORT REPORTDATA
inline constexpr const char* kTdxGuestProvider = "tdx_guest";
inline constexpr const char* kDefaultCcelTable = "/sys/firmware/acpi/tables/CCEL";
inline constexpr const char* kDefaultCcelData = "/sys/firmware/acpi/tables/data/CCEL";

struct CollectOptions {
  std::filesystem::path tsm_root = kDefaultTsmRoot;
  std::filesystem::path ccel_table = kDefaultCcelTable;
  std::filesystem::path ccel_data = kDefaultCcelData;
  bool ccel = true;       // read the CCEL table and log area
  TsmHook tsm_test_hook;  // TEST-ONLY, passed to tsm_report()
};

struct CcelFiles {
  Bytes table;  // the ACPI table as read
  Bytes log;    // the whole log area as read, padding included
  evidence::dcap::CcelTable parsed;
};

struct CollectedQuote {
  Bytes quote;                    // exactly the quote (zero padding trimmed)
  std::optional<CcelFiles> ccel;  // absent: no CCEL table here, or options.ccel false
  std::string ccel_detail;        // why `ccel` is absent (empty when present)
};

// The CCEL table and log area at the given paths, checked as above; nullopt
// (with `detail` saying why) when there is no table.
Result<std::optional<CcelFiles>> read_ccel(const std::filesystem::path& table,
                                           const std::filesystem::path& data,
                                           std::string* detail = nullptr);

// One quote binding `report_data` (the verifier's nonce, or a hash of it and
// a key), and the CCEL files.
Result<CollectedQuote> collect_tdx_quote(std::span<const std::uint8_t, kReportDataSize> report_data,
                                         const CollectOptions& options = {});

}  // namespace concierge::attester::tdx
