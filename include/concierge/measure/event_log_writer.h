// Writes valid crypto-agile TCG event logs (PFP section 10.2.2): the Spec ID
// Event03 header for the chosen banks, then TCG_PCR_EVENT2 records.
// Not thread-safe. Used by the software chain of trust and by tests.
#pragma once

#include <cstdint>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"

namespace concierge::measure {

struct OwnedDigest {
  std::uint16_t alg_id = 0;
  Bytes value;
};

class EventLogWriter {
 public:
  // One bank per algorithm, in this order, in the header and in every record.
  explicit EventLogWriter(std::vector<HashAlg> algs);

  const std::vector<HashAlg>& algorithms() const { return algs_; }

  // Appends the EV_NO_ACTION StartupLocality event (0, 3, or 4 = H-CRTM).
  void add_startup_locality(std::uint8_t locality);
  // Appends an event whose digests are the hash of `measured` in every bank.
  Result<std::vector<OwnedDigest>> add_measured(std::uint32_t pcr, std::uint32_t type,
                                                ByteView measured, ByteView data);
  // Appends an event whose digest is the hash of its data (e.g. separators).
  Result<std::vector<OwnedDigest>> add(std::uint32_t pcr, std::uint32_t type, ByteView data);
  // Appends an event with given digests (any algorithms; used by tests).
  void add_raw(std::uint32_t pcr, std::uint32_t type, const std::vector<OwnedDigest>& digests,
               ByteView data);

  // The log: header and every event appended so far.
  Bytes bytes() const;

 private:
  std::vector<HashAlg> algs_;
  Bytes records_;
};

}  // namespace concierge::measure
