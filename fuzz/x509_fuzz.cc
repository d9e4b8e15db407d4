// libFuzzer target: untrusted bytes into certificate (DER, PEM, PEM bundle)
// and CRL (DER, PEM) parsing, then every accessor of what parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "concierge/core/x509.h"

namespace {

void exercise(const concierge::Certificate& cert) {
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.serial_hex();
  (void)cert.not_before_unix();
  (void)cert.not_after_unix();
  (void)cert.self_signed();
  (void)cert.fingerprint_sha256();
  (void)cert.der();
  (void)cert.extension("2.5.29.19");
  (void)cert.extension("1.3.6.1.4.1.3704.1.3.1");
  if (auto key = cert.public_key()) {
    (void)key->type();
    (void)key->curve();
    (void)key->bits();
  }
}

void exercise(const concierge::Crl& crl) {
  (void)crl.issuer();
  (void)crl.this_update();
  (void)crl.next_update();
  (void)crl.lists_serial("01");
  (void)crl.der();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const concierge::ByteView bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto cert = concierge::Certificate::from_der(bytes)) exercise(*cert);
  if (auto cert = concierge::Certificate::from_pem(text)) exercise(*cert);
  if (auto certs = concierge::Certificate::from_pem_bundle(text)) {
    for (const auto& c : *certs) exercise(c);
  }
  if (auto crl = concierge::Crl::from_der(bytes)) exercise(*crl);
  if (auto crl = concierge::Crl::from_pem(text)) exercise(*crl);
  return 0;
}
