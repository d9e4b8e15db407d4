// Private to the JWE code of src/core (jwe.h; not installed): the OpenSSL 3
// primitives of ECDH-ES+A256KW, RSA-OAEP-256 and A256GCM, and a byte buffer
// that wipes itself.
//
// The primitives return an Error only when OpenSSL itself fails (kCrypto) or
// an argument has the wrong size (kInvalidArgument, a bug in the caller);
// an unwrap or a tag that does not verify is an empty optional, so that the
// JWE code can turn it into a rejected Verdict.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/jwe.h"
#include "concierge/core/result.h"

namespace concierge::jose::jwe_internal {

inline constexpr std::size_t kCekSize = 32;      // A256GCM key
inline constexpr std::size_t kIvSize = 12;       // RFC 7518 5.3: 96-bit IV
inline constexpr std::size_t kTagSize = 16;      // RFC 7518 5.3: 128-bit tag
inline constexpr std::size_t kWrappedSize = 40;  // RFC 3394 wrap of kCekSize bytes

// A byte buffer for keys and plaintexts: wiped when destroyed or moved from.
// Its size is fixed when made, so no reallocation leaves an unwiped copy.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::size_t size) : bytes_(size) {}
  Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe(bytes_);
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { wipe(bytes_); }

  std::uint8_t* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  ByteView view() const { return bytes_; }
  // Shrinks to `size` bytes (no reallocation); the cut tail is wiped.
  void truncate(std::size_t size);
  // Hands the bytes over; the caller now wipes them.
  Bytes release() && { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

// The JweAlg for a key (public or private): EC P-256/P-384 or RSA >= 2048
// bits; kInvalidArgument otherwise. `what` names the key in the message.
Result<JweAlg> alg_for_pkey(const EVP_PKEY* pkey, std::string_view what);

// `size` bytes from OpenSSL's private DRBG (for keys) or public one (IVs).
Result<Secret> random_secret(std::size_t size);
Result<Bytes> random_bytes(std::size_t size);

// The ECDH shared secret Z (the x coordinate) of `priv` and `peer`, which
// must be on the same curve (OpenSSL refuses others). The peer's point is
// not validated again: PublicKey's constructors already checked it is on
// its curve, which is the whole check on P-256 and P-384.
Result<Secret> ecdh(EVP_PKEY* priv, EVP_PKEY* peer);

// The public JWK ({"kty":"EC","crv","x","y"}) of an EC P-256 or P-384 key,
// public or private (only the public point is read); kInvalidArgument for
// other keys.
Result<nlohmann::json> ec_public_jwk(const EVP_PKEY* pkey);

// The Concat KDF of NIST SP 800-56A 5.8.1 with SHA-256 (OpenSSL's SSKDF), as
// RFC 7518 4.6.2 uses it: OtherInfo = AlgorithmID || PartyUInfo ||
// PartyVInfo (each a 32-bit big-endian length then the octets) ||
// SuppPubInfo (the key size in bits, 32-bit big-endian). `size` bytes out.
Result<Secret> concat_kdf_sha256(ByteView z, std::string_view algorithm_id, ByteView apu,
                                 ByteView apv, std::size_t size);

// AES Key Wrap (RFC 3394, default IV) with a 256-bit KEK. Unwrap gives an
// empty optional when the integrity check fails.
Result<Bytes> aes256_wrap(ByteView kek, ByteView key);
Result<std::optional<Secret>> aes256_unwrap(ByteView kek, ByteView wrapped);

// RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label. Decryption gives an
// empty optional on any failure (the cause is deliberately not reported).
Result<Bytes> rsa_oaep256_encrypt(EVP_PKEY* pub, ByteView message);
std::optional<Secret> rsa_oaep256_decrypt(EVP_PKEY* priv, ByteView ciphertext);

// AES-256-GCM with a 96-bit IV and a 128-bit tag.
struct Sealed {
  Bytes ciphertext;
  Bytes tag;
};
Result<Sealed> aes256gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plaintext);
// The plaintext, or an empty optional when the tag does not verify.
Result<std::optional<Secret>> aes256gcm_decrypt(ByteView key, ByteView iv, ByteView aad,
                                                ByteView ciphertext, ByteView tag);

}  // namespace concierge::jose::jwe_internal
