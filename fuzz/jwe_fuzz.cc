// libFuzzer target: JWE decryption (jwe.h) of arbitrary bytes as JSON text.
//  - jwe_decrypt, against a P-256 and an RSA-2048 key made once per process,
//    must never crash, and fails only with kMalformed, kUnsupported or
//    kInvalidArgument (an "alg" for the other key type);
//  - it can never accept a JWE that was not encrypted to the key, except one
//    the fuzzer forged by chance (it cannot: that needs the content key), so
//    an accepted result is a bug;
//  - a rejected result carries no plaintext or header.
// The seeds worth adding are JWEs made with jwe_encrypt to these keys' public
// halves; they cannot be checked in, the keys being fresh each run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "concierge/core/jwe.h"
#include "concierge/core/private_key.h"

namespace {

const concierge::PrivateKey& ec_key() {
  static const concierge::PrivateKey kKey = [] {
    auto key = concierge::PrivateKey::generate_ec(concierge::EcCurve::kP256);
    if (!key) std::abort();
    return std::move(*key);
  }();
  return kKey;
}

const concierge::PrivateKey& rsa_key() {
  static const concierge::PrivateKey kKey = [] {
    auto key = concierge::PrivateKey::generate_rsa(2048);
    if (!key) std::abort();
    return std::move(*key);
  }();
  return kKey;
}

void check(const concierge::Result<concierge::jose::JweDecryption>& d) {
  using concierge::Errc;
  if (!d) {
    const Errc c = d.error().code;
    if (c != Errc::kMalformed && c != Errc::kUnsupported && c != Errc::kInvalidArgument) {
      __builtin_trap();
    }
    return;
  }
  if (d->verdict.accepted) __builtin_trap();
  if (!d->plaintext.empty() || !d->header.is_null()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(concierge::jose::jwe_decrypt(text, ec_key()));
  check(concierge::jose::jwe_decrypt(text, rsa_key()));
  return 0;
}
