// PublicKey: a move-only owner of an OpenSSL 3 EVP_PKEY holding a public key
// (EC P-256/P-384 or RSA), built from PEM, DER (SubjectPublicKeyInfo), raw EC
// coordinates or an RSA modulus/exponent.
//
// Ownership: a PublicKey owns one reference to its EVP_PKEY and releases it in
// its destructor. get() lends the pointer (no reference is transferred); it is
// valid as long as the PublicKey lives. clone() takes another reference to the
// same (immutable) key.
// Thread safety: const member functions may be called concurrently; OpenSSL 3
// keys are not modified by verification.
#pragma once

#include <openssl/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge {

enum class KeyType {
  kEc,      // id-ecPublicKey
  kRsa,     // rsaEncryption
  kRsaPss,  // id-RSASSA-PSS (an RSA key restricted to PSS)
  kOther,   // anything else OpenSSL can parse (Ed25519, DSA...); not usable here
};

enum class EcCurve { kP256, kP384 };

// Size in bytes of a field element / the group order (32 or 48).
std::size_t ec_coordinate_size(EcCurve curve);
std::string_view ec_curve_name(EcCurve curve);  // "P-256", "P-384"

class PublicKey {
 public:
  // A PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block. Leading text is skipped;
  // only the first key is read.
  static Result<PublicKey> from_pem(std::string_view pem);
  // DER SubjectPublicKeyInfo; the whole input must be one structure.
  static Result<PublicKey> from_der(ByteView spki);
  // Uncompressed point: X || Y, each big-endian and exactly
  // ec_coordinate_size(curve) bytes. A leading 0x04 (SEC1 uncompressed form)
  // is accepted too. A point not on the curve is kMalformed.
  static Result<PublicKey> from_ec_point(EcCurve curve, ByteView xy);
  // The same with separate coordinates, big-endian, each at most
  // ec_coordinate_size(curve) bytes (shorter values are left-padded with
  // zeros, as TPM2B_ECC_PARAMETER may be).
  static Result<PublicKey> from_ec_coordinates(EcCurve curve, ByteView x, ByteView y);
  // RSA from big-endian modulus and public exponent. The modulus must have
  // at least 1024 bits; the exponent must be odd and greater than 1.
  static Result<PublicKey> from_rsa(ByteView modulus, ByteView exponent);
  // Takes ownership of one reference to `pkey` (which must not be null).
  static PublicKey adopt(EVP_PKEY* pkey);

  PublicKey(PublicKey&& other) noexcept;
  PublicKey& operator=(PublicKey&& other) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  ~PublicKey();

  // Another owner of the same key (EVP_PKEY_up_ref).
  PublicKey clone() const;

  Result<std::string> to_pem() const;  // "-----BEGIN PUBLIC KEY-----"
  Result<Bytes> to_der() const;        // SubjectPublicKeyInfo

  KeyType type() const;
  // The named curve of an EC key; nullopt for other keys and other curves.
  std::optional<EcCurve> curve() const;
  // Key size in bits (modulus size for RSA, group order size for EC).
  int bits() const;

  // The underlying key, lent (no reference transferred); never null.
  EVP_PKEY* get() const { return pkey_; }

 private:
  explicit PublicKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  EVP_PKEY* pkey_;
};

}  // namespace concierge
