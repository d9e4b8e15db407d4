// PCR banks in software: the extend-only registers of a TPM, one bank per
// hash algorithm, 24 PCRs each (TPM 2.0 PC Client platform).
//
// Reset values follow the TCG PC Client Platform TPM Profile: PCRs 0-16 and 23
// start at zero, 17-22 (the dynamic-launch PCRs) at all 0xFF. PCR0's reset
// value encodes the startup locality in its last byte (0, 3, or 4 for an
// H-CRTM), as the StartupLocality event reports (PFP section 10.4.5.3).
// Thread safety: none (mutable value type).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"

namespace concierge::measure {

inline constexpr unsigned kPcrCount = 24;

class PcrBank {
 public:
  explicit PcrBank(HashAlg alg);

  HashAlg alg() const { return alg_; }
  // PCR := H(PCR || digest). The digest must have the bank's size.
  Result<void> extend(unsigned pcr, ByteView digest);
  // Extends with H(data).
  Result<void> measure(unsigned pcr, ByteView data);
  // Sets PCR0's reset value for a startup locality (0, 3, or 4 = H-CRTM).
  // Only valid before PCR0 was extended.
  Result<void> set_startup_locality(std::uint8_t locality);

  ByteView value(unsigned pcr) const;
  // Whether the PCR was extended at least once.
  bool touched(unsigned pcr) const { return (touched_ >> pcr) & 1u; }
  bool any_touched() const { return touched_ != 0; }

 private:
  HashAlg alg_;
  std::size_t size_;
  // Packed by the bank's digest size; bytes past kPcrCount * size_ are unused.
  std::array<std::uint8_t, kPcrCount * 64> values_;
  std::uint32_t touched_ = 0;
};

}  // namespace concierge::measure
