// libFuzzer target: TPM public areas (TPM2B_PUBLIC / TPMT_PUBLIC) and the
// tpm2-tools credential file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/tpm/credential.h"
#include "concierge/evidence/tpm/tpm_public.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // tss2-mu logs rejected values; keep the fuzzer quiet and fast.
  setenv("TSS2_LOG", "all+none", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::tpm;
  const concierge::ByteView in(data, size);

  auto pub = parse_tpm_public(in);
  if (pub) {
    // The TPMT_PUBLIC is the input or the input after its TPM2B size.
    const std::size_t n = pub->tpmt_public.size();
    if (n != size && n + 2 != size) __builtin_trap();
    if (pub->name.size() != 2 + concierge::digest_size(pub->name_alg)) __builtin_trap();
    (void)check_ak_attributes(*pub);
  } else if (!pub.error().offset) {
    __builtin_trap();  // every parse error says where
  }

  auto credential = parse_credential_file(in);
  if (credential) {
    if (encode_credential_file(*credential) != concierge::Bytes(in.begin(), in.end())) {
      __builtin_trap();  // the file is exactly its parts
    }
  } else if (!credential.error().offset) {
    __builtin_trap();
  }
  return 0;
}
