// libFuzzer target: untrusted bytes into the PCK SGX extension parser, both as
// an extension value and (when they parse as one) as a certificate carrying
// it; every parsed value is turned into claims.
#include <cstddef>
#include <cstdint>

#include "concierge/core/x509.h"
#include "concierge/evidence/dcap/pck_extension.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace dcap = concierge::evidence::dcap;
  const concierge::ByteView bytes(data, size);
  if (auto ext = dcap::parse_pck_extension(bytes)) (void)dcap::pck_extension_claims(*ext);
  if (auto cert = concierge::Certificate::from_der(bytes)) {
    if (auto ext = dcap::parse_pck_extension(*cert)) (void)dcap::pck_extension_claims(*ext);
  }
  return 0;
}
