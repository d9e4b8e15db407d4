// libFuzzer target: PCR selection strings ("sha256:0,1,2+sha1:7"), which the
// TPM commands take from the command line.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include "concierge/attester/tpm/tpm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto selection = concierge::attester::tpm::parse_pcr_selection(text);
  if (!selection) return 0;
  std::set<concierge::HashAlg> banks;
  for (const auto& s : *selection) {
    if (!banks.insert(s.bank).second) __builtin_trap();  // a bank at most once
    if (s.pcrs.empty()) __builtin_trap();
    unsigned previous = 0;
    for (std::size_t i = 0; i < s.pcrs.size(); ++i) {
      if (s.pcrs[i] >= 24 || (i > 0 && s.pcrs[i] <= previous)) __builtin_trap();
      previous = s.pcrs[i];
    }
  }
  return 0;
}
