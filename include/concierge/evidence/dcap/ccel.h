// Intel TDX runtime measurements: the ACPI CCEL table, the CC event log it
// points to, and the replay of that log into RTMR0-3.
//
// CCEL table (ACPI 6.5 section 5.2.34 "Confidential Computing Event Log
// Table"; UEFI 2.10 chapter 38 "Confidential Computing"; Intel TDX Virtual
// Firmware Design Guide), 56 bytes, little-endian:
//   0  signature "CCEL"      4  length u32       8  revision u8
//   9  checksum u8          10  OEM ID[6]       16  OEM table ID[8]
//  24  OEM revision u32     28  creator ID[4]   32  creator revision u32
//  36  CC type u8 (1 AMD SEV, 2 Intel TDX)      37  CC subtype u8
//  38  reserved u16 (zero)  40  LAML u64 (log area minimum length)
//  48  LASA u64 (log area start address)
// The length field must be at least 56 and equal the input's size; bytes past
// 56 (a later revision's fields) are accepted and not interpreted. All bytes
// of the table sum to 0 mod 256 (the ACPI checksum); the real TDVF table
// (go-tdx-guest's ccel_table.dat) does, so a wrong sum is rejected unless
// the caller asks to tolerate it (CcelParseOptions), which then clears
// CcelTable::checksum_ok.
//
// The log area (Linux: /sys/firmware/acpi/tables/data/CCEL, LAML bytes) is a
// TCG crypto-agile event log (PFP 10.2.2) parsed by measure::parse_event_log.
// TDVF fills the area with 0xFF before logging, so the records are followed
// by a run of 0xFF (or, from other firmware, 0x00) up to LAML; the parser
// accepts a trailing run of either byte after the last whole record (and
// records it in EventLog::padding), so nothing is trimmed here. Padding that
// mixes other bytes in is malformed, with the offset where records stopped.
//
// Index convention. In a CCEL log the record's "pcrIndex" field holds the CC
// measurement register index (UEFI 2.10 EFI_CC_MEASUREMENT_PROTOCOL,
// MapPcrToMrIndex): for TDX 0 = MRTD, 1 = RTMR0, 2 = RTMR1, 3 = RTMR2,
// 4 = RTMR3. (Verified: go-tdx-guest's CCEL log replayed this way equals
// RTMR0-3 of cos-113-tdx-quote.dat, the quote from the same TD.)
// RtmrReplay::log keeps those indices as they are in the log. Reference
// values, however, number the RTMRs themselves: reference "pcr" i (JSON
// {"pcrs": {"sha384": {"0": ...}}}) is RTMR i, i.e. CC MR index - 1, and
// the bank is always sha384. A reference made with reference_from_log() over
// a raw CCEL log is therefore off by one; make it with
// rtmr_reference_values() instead.
//
// Replay: RTMR i starts at 48 zero bytes and is extended as
// SHA-384(RTMR || digest) with the SHA-384 digest of every event whose index
// is i + 1, in log order. EV_NO_ACTION events are never extended. Events for
// index 0 (MRTD) are counted but not replayed: the TDX module builds MRTD from
// the TD's initial memory, and firmware events about it are informational.
// (The replay itself is measure::replay's, into a bank numbered by CC MR
// index, with its event-data digest checks as warnings.)
//
// Errors from parse_ccel_table and replay_ccel name the field and the absolute
// byte offset. Trust outcomes (check_rtmrs, appraise_rtmrs) are Verdicts.
// Thread safety: pure functions of their arguments; RtmrReplay is a value
// whose EventLog views shared immutable storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/evidence/dcap/quote.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/reference.h"
#include "concierge/measure/replay.h"

namespace concierge::evidence::dcap {

inline constexpr std::size_t kCcelTableSize = 56;
inline constexpr std::uint8_t kCcTypeSev = 1;
inline constexpr std::uint8_t kCcTypeTdx = 2;
inline constexpr std::size_t kRtmrCount = 4;
inline constexpr std::size_t kRtmrSize = 48;  // SHA-384
// CC measurement register indices (UEFI 2.10 MapPcrToMrIndex, TDX).
inline constexpr std::uint32_t kCcMrIndexMrtd = 0;
inline constexpr std::uint32_t kCcMrIndexRtmr0 = 1;  // RTMR i is index i + 1

struct CcelTable {
  // ACPI description header (ACPI 6.5 section 5.2.6).
  std::uint32_t length = 0;
  std::uint8_t revision = 0;
  std::uint8_t checksum = 0;  // the byte as stored
  std::array<std::uint8_t, 6> oem_id{};
  std::array<std::uint8_t, 8> oem_table_id{};
  std::uint32_t oem_revision = 0;
  std::array<std::uint8_t, 4> creator_id{};
  std::uint32_t creator_revision = 0;
  // CCEL fields.
  std::uint8_t cc_type = 0;
  std::uint8_t cc_subtype = 0;
  std::uint64_t laml = 0;  // log area minimum length, bytes
  std::uint64_t lasa = 0;  // log area start address (guest physical)
  // Whether all `length` bytes sum to 0 mod 256. Always true unless
  // CcelParseOptions::accept_bad_checksum was given.
  bool checksum_ok = false;
};

struct CcelParseOptions {
  // Accept a table whose bytes do not sum to zero (setting checksum_ok to
  // false) instead of rejecting it: for tools that show a damaged table.
  bool accept_bad_checksum = false;
};

// Errors: kTruncated (fewer than 56 bytes or fewer than `length`),
// kMalformed (signature not "CCEL", length below 56, a non-zero reserved
// field, a wrong checksum), kTrailingData (more bytes than `length`).
Result<CcelTable> parse_ccel_table(ByteView data);
Result<CcelTable> parse_ccel_table(ByteView data, const CcelParseOptions& options);

// "TDX", "SEV", or "unknown (N)".
std::string cc_type_name(std::uint8_t cc_type);

// {"cc_type": 2, "cc_type_name": "TDX", "cc_subtype", "laml", "lasa" (0x hex),
//  "length", "revision", "oem_id", "oem_table_id" (text, trailing spaces kept),
//  "oem_revision", "creator_id", "creator_revision", "checksum_ok"}
nlohmann::json ccel_table_json(const CcelTable& table);

struct RtmrReplay {
  std::array<std::array<std::uint8_t, kRtmrSize>, kRtmrCount> rtmr{};
  measure::EventLog log;   // as parsed: event.pcr is the CC MR index
  std::size_t events = 0;  // records in the log, the Spec ID header included
  std::array<std::size_t, kRtmrCount> rtmr_events{};  // events extended into RTMR i
  std::size_t mrtd_events = 0;                        // events for MR index 0, not replayed
  std::size_t no_action_events = 0;                   // EV_NO_ACTION records, the header included
  std::vector<measure::ReplayWarning> warnings;       // event-data digest checks etc.
};

// Parses the log area (trailing 0xFF / 0x00 padding allowed) and replays it.
// Errors: the parser's; kMalformed when the log is a legacy SHA-1 log (no
// Spec ID Event03), when an event that would be extended (not EV_NO_ACTION,
// index 1-4) carries no SHA-384 digest, or when an event that is not
// EV_NO_ACTION has an index above 4 (field "MrIndex" at the record's offset);
// kUnsupported when the Spec ID header lists no SHA-384 digests.
Result<RtmrReplay> replay_ccel(ByteView log_bytes);

// The replay against the quote's RTMRs. Accepted when all four are equal;
// otherwise rejected naming the first that differs:
//   "RTMR1 differs: the quote has <96 hex>, the CCEL log replays to <96 hex>
//    (5 events)"
Verdict check_rtmrs(const RtmrReplay& replay, const TdReportBody& body);

// {"rtmr0".."rtmr3": hex, "events": n, "rtmr_events": [n0, n1, n2, n3],
//  "mrtd_events": n, "no_action_events": n, "padding": bytes after the records,
//  "warnings": ["event 12 at offset 0x4f0: ..."]}
nlohmann::json rtmr_replay_json(const RtmrReplay& replay);

// Appraises the replayed RTMRs against reference values, bank sha384, with
// reference "pcr" i = RTMR i (see above), through measure::appraise_pcrs:
// for RTMR 0..3 in order, a reference value that differs rejects, naming the
// first event not among the reference digests when there is one; otherwise a
// known-digest set that misses one of the RTMR's events rejects naming it:
//   "RTMR1 differs from the reference value; first event not among the
//    reference digests: #12 EV_EFI_BOOT_SERVICES_APPLICATION ..."
//   "RTMR2: event #40 EV_IPL ... is not among the reference digests"
// Event numbers are positions in the CCEL log. MRTD events are not appraised
// (MRTD is the quote's mr_td, for policy to compare). Like appraise_pcrs, this
// trusts the replayed values: check_rtmrs must have accepted first.
Verdict appraise_rtmrs(const RtmrReplay& replay, const measure::ReferenceValues& ref);

// Reference values from a known-good replay, in the convention above: the
// sha384 value of every RTMR some event extended, and the SHA-384 digest of
// every event extended into an RTMR.
measure::ReferenceValues rtmr_reference_values(const RtmrReplay& replay);

}  // namespace concierge::evidence::dcap
