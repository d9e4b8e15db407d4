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

#include <cstddef>
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

}  // namespace concierge::measure
