// TCG PC Client firmware event logs: parsing.
//
// Formats (TCG PC Client Platform Firmware Profile Specification v1.05,
// sections 10.2 and 10.3):
//  - legacy SHA-1 log: a sequence of TCG_PCClientPCREvent records
//    (pcrIndex u32, eventType u32, digest[20], eventDataSize u32, event[]);
//  - crypto-agile log: a first TCG_PCClientPCREvent of type EV_NO_ACTION whose
//    data is the TCG_EfiSpecIDEvent ("Spec ID Event03", section 10.4.5.1),
//    then TCG_PCR_EVENT2 records (pcrIndex u32, eventType u32,
//    TPML_DIGEST_VALUES {count u32, (hashAlg u16, digest[size])*},
//    eventSize u32, event[]). All integers little-endian.
// Digest sizes come from the Spec ID header, so an algorithm this code does
// not know is still skipped by the size the header gives. Trailing zero bytes
// after the last record are accepted (CCEL logs from TDX guests are
// zero-padded); any other trailing bytes, and a record that ends early, are
// errors naming the byte offset.
//
// Ownership: an EventLog owns one immutable copy of the log bytes and one
// array of all digests (both shared by copies of the EventLog); Event::data,
// Event::digests and EventDigest::value view into them and stay valid as long
// as any copy of the EventLog lives. Thread safety: an
// EventLog is immutable after parsing and may be read from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::measure {

struct EventDigest {
  std::uint16_t alg_id = 0;  // TCG TPM_ALG_ID
  ByteView value;
};

struct Event {
  std::size_t index = 0;   // position in the log; 0 is the first record
  std::size_t offset = 0;  // byte offset of the record in the log
  std::uint32_t pcr = 0;
  std::uint32_t type = 0;
  std::span<const EventDigest> digests;  // views into EventLog::digest_storage
  ByteView data;

  // The digest for a TCG algorithm ID, or nullptr.
  const EventDigest* digest_for(std::uint16_t alg_id) const;
};

struct AlgorithmSize {
  std::uint16_t alg_id = 0;
  std::uint16_t digest_size = 0;
};

// TCG_EfiSpecIDEvent (PFP section 10.4.5.1).
struct SpecIdEvent {
  std::uint32_t platform_class = 0;
  std::uint8_t spec_version_minor = 0;
  std::uint8_t spec_version_major = 0;
  std::uint8_t spec_errata = 0;
  std::uint8_t uintn_size = 0;
  std::vector<AlgorithmSize> algorithms;
  Bytes vendor_info;
  // The header's eventSize stopped before vendorInfo, which followed the
  // record instead (as tpm2-tools lays it out); accepted, flagged here.
  bool vendor_info_outside_event = false;
};

enum class LogFormat { kLegacySha1, kCryptoAgile };

struct EventLog {
  LogFormat format = LogFormat::kLegacySha1;
  std::optional<SpecIdEvent> spec_id;    // crypto-agile logs only
  std::vector<Event> events;             // every record, the header included
  std::size_t size = 0;                  // bytes of records
  std::size_t padding = 0;               // trailing zero bytes after them
  std::shared_ptr<const Bytes> storage;  // the bytes the views point into
  // Every event's digests, in one allocation; Event::digests view into it.
  std::shared_ptr<const std::vector<EventDigest>> digest_storage;
};

// Limits that keep hostile input from costing memory: a record may not claim
// more than kMaxDigests digests; sizes are also bounded by the input itself.
inline constexpr std::uint32_t kMaxDigests = 16;

Result<EventLog> parse_event_log(ByteView data);
Result<EventLog> parse_event_log(Bytes&& data);

// Parses the TCG_EfiSpecIDEvent structure (the data of the first event).
// `base_offset` is the data's offset in the log, for error messages.
Result<SpecIdEvent> parse_spec_id_event(ByteView data, std::size_t base_offset = 0);

}  // namespace concierge::measure
