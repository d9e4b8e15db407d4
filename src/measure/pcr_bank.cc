#include "concierge/measure/pcr_bank.h"

#include <algorithm>
#include <string>

namespace concierge::measure {

PcrBank::PcrBank(HashAlg alg) : alg_(alg), size_(digest_size(alg)) {
  // PCR i occupies bytes [i * size_, (i + 1) * size_); only those are set.
  // PC Client Platform TPM Profile: PCRs 17-22 reset to all ones, others to zero.
  std::fill_n(values_.begin(), kPcrCount * size_, std::uint8_t{0});
  std::fill_n(values_.begin() + 17 * size_, 6 * size_, std::uint8_t{0xff});
}

Result<void> PcrBank::extend(unsigned pcr, ByteView digest) {
  if (pcr >= kPcrCount) {
    return fail(Errc::kInvalidArgument, "PCR index " + std::to_string(pcr) + " out of range");
  }
  if (digest.size() != size_) {
    return fail(Errc::kInvalidArgument, std::string("a ") + std::string(hash_name(alg_)) +
                                            " extend needs " + std::to_string(size_) +
                                            " bytes, got " + std::to_string(digest.size()));
  }
  std::uint8_t* slot = values_.data() + pcr * size_;
  // The digest context has consumed the old value before the final hash is
  // written, so the slot can be the output.
  CONCIERGE_RETURN_IF_ERROR(
      digest2_into(alg_, ByteView(slot, size_), digest, std::span(slot, size_)));
  touched_ |= 1u << pcr;
  return {};
}

Result<void> PcrBank::measure(unsigned pcr, ByteView data) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes d, digest(alg_, data));
  return extend(pcr, d);
}

Result<void> PcrBank::set_startup_locality(std::uint8_t locality) {
  if (touched(0)) {
    return fail(Errc::kInvalidArgument, "StartupLocality after PCR0 was extended");
  }
  std::fill_n(values_.begin(), size_, std::uint8_t{0});
  values_[size_ - 1] = locality;
  return {};
}

ByteView PcrBank::value(unsigned pcr) const {
  if (pcr >= kPcrCount) return {};
  return ByteView(values_.data() + pcr * size_, size_);
}

}  // namespace concierge::measure
