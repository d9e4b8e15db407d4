// PrivateKey: a move-only owner of an OpenSSL 3 EVP_PKEY private key (EC
// P-256/P-384, RSA), with the signing operations matching signature.h. Meant
// for tests and simulators (evidence generators), not for guarding production
// secrets: there is no HSM support and PEM export is unencrypted.
//
// Ownership: the object owns one reference to its EVP_PKEY; the destructor frees
// it through EVP_PKEY_free, which clears the private components (BN_clear_free)
// before releasing their memory. get() lends the pointer.
// Thread safety: const members may be called concurrently.
#pragma once

#include <openssl/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"

namespace concierge {

class PrivateKey {
 public:
  static Result<PrivateKey> generate_ec(EcCurve curve);
  // bits: 2048, 3072 or 4096.
  static Result<PrivateKey> generate_rsa(int bits);
  // An unencrypted PEM private key (PKCS#8 "PRIVATE KEY", or the traditional
  // "EC PRIVATE KEY" / "RSA PRIVATE KEY").
  static Result<PrivateKey> from_pem(std::string_view pem);

  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  // Unencrypted PKCS#8 PEM. The returned string holds the secret: callers
  // should wipe it when done (see wipe() in bytes.h).
  Result<std::string> to_pem() const;
  Result<PublicKey> public_key() const;
  KeyType type() const;
  std::optional<EcCurve> curve() const;

  Result<Bytes> sign_ecdsa_der(HashAlg alg, ByteView message) const;
  // Big-endian r || s, each ec_coordinate_size(curve) bytes.
  Result<Bytes> sign_ecdsa_raw(HashAlg alg, ByteView message) const;
  // Signs an already-computed digest (20..64 bytes); DER output.
  Result<Bytes> sign_ecdsa_prehashed_der(ByteView digest) const;
  Result<Bytes> sign_rsa_pkcs1(HashAlg alg, ByteView message) const;
  // Salt length = digest length, MGF1 with the same hash.
  Result<Bytes> sign_rsa_pss(HashAlg alg, ByteView message) const;

  // The underlying key, lent; never null for a live (not moved-from) object.
  EVP_PKEY* get() const { return pkey_; }

 private:
  explicit PrivateKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  EVP_PKEY* pkey_;
};

}  // namespace concierge
