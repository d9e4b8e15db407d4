// libFuzzer target: TPM 2.0 quote (TPMS_ATTEST) and AK public area parsing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/tpm/quote.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // tss2-mu logs rejected values; keep the fuzzer quiet and fast.
  setenv("TSS2_LOG", "all+none", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::tpm;
  const concierge::ByteView in(data, size);
  auto quote = parse_quote(in);
  if (quote) {
    if (quote->raw.size() != size) __builtin_trap();
    for (const auto& s : quote->selections) {
      for (unsigned pcr : s.pcrs) {
        if (pcr >= 32) __builtin_trap();
      }
    }
  } else if (!quote.error().offset) {
    __builtin_trap();  // every parse error says where
  }
  auto key = parse_ak_public(in);
  (void)key;
  return 0;
}
