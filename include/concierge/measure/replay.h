// Replay of a TCG event log into software PCR banks.
//
// Every algorithm listed in the log's header gets a bank (a legacy log has
// only SHA-1); an algorithm this build cannot compute is skipped with a
// warning. EV_NO_ACTION events are never extended; a StartupLocality
// EV_NO_ACTION event sets PCR0's reset value. For the event types whose digest
// the PFP specification defines as the hash of the event data, the digest is
// checked and a mismatch is a warning on that event: real firmware gets this
// wrong, and it must not stop the replay.
// Pure function of its inputs; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "concierge/measure/event_log.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::measure {

struct ReplayWarning {
  std::size_t event_index = 0;
  std::size_t offset = 0;
  std::string message;
  std::string to_string() const;  // "event 12 at offset 0x4f0: ..."
};

struct ReplayResult {
  std::vector<PcrBank> banks;
  std::vector<ReplayWarning> warnings;
  std::uint8_t startup_locality = 0;

  const PcrBank* bank(HashAlg alg) const;
};

struct ReplayOptions {
  // Check the event-data digests of the event types that define them.
  bool check_event_data = true;
};

Result<ReplayResult> replay(const EventLog& log, const ReplayOptions& options = {});

// What an event's digest is the hash of, for the types whose digest the PFP
// defines from the event data (v1.05 section 10.4.1 Table 9, 10.4.4).
enum class EventDataDigest {
  kNone,            // the digest is of something the log does not carry
  kWholeData,       // H(event data)
  kVariableData,    // H(UEFI_VARIABLE_DATA.VariableData) (EV_EFI_VARIABLE_BOOT);
                    // some firmware hashes the whole structure instead
  kVariableRecord,  // H(whole UEFI_VARIABLE_DATA) (EV_EFI_VARIABLE_AUTHORITY);
                    // some firmware hashes only VariableData
};
EventDataDigest event_data_digest(std::uint32_t type);

// UEFI_VARIABLE_DATA.VariableData (PFP 10.4.4), viewing into event_data;
// nullopt when the structure is malformed.
std::optional<ByteView> uefi_variable_data(ByteView event_data);

// The byte strings whose hash the event's digest may be, the form the
// specification defines first; returns how many were written (0: the digest
// is not checkable from the data). Replay accepts a digest matching any.
std::size_t event_data_candidates(const Event& event, std::array<ByteView, 2>& out);

// The locality of a StartupLocality EV_NO_ACTION event (PFP 10.4.5.3), or
// nullopt when the event is not one.
std::optional<std::uint8_t> startup_locality(const Event& event);

}  // namespace concierge::measure
