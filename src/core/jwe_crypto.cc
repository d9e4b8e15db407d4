// OpenSSL 3 primitives of the JWE code (jwe_crypto.h).
#include "core/jwe_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <climits>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/public_key.h"
#include "core/ossl_util.h"

namespace concierge::jose::jwe_internal {
namespace {

using CipherPtr = ossl::Ptr<EVP_CIPHER, EVP_CIPHER_free>;
using CipherCtxPtr = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using KdfPtr = ossl::Ptr<EVP_KDF, EVP_KDF_free>;
using KdfCtxPtr = ossl::Ptr<EVP_KDF_CTX, EVP_KDF_CTX_free>;

// EVP_*Update take int lengths: feed larger inputs in pieces.
constexpr std::size_t kChunk = std::size_t{1} << 30;

// EVP_EncryptUpdate / EVP_DecryptUpdate over all of `in`; `out` (nullptr for
// AAD) receives as many bytes as `in` has (true for GCM).
bool update_all(EVP_CIPHER_CTX* ctx, std::uint8_t* out, ByteView in, bool encrypt) {
  while (!in.empty()) {
    const std::size_t n = std::min(in.size(), kChunk);
    int written = 0;
    const int ok = encrypt ? EVP_EncryptUpdate(ctx, out, &written, in.data(), static_cast<int>(n))
                           : EVP_DecryptUpdate(ctx, out, &written, in.data(), static_cast<int>(n));
    if (ok != 1 || (out != nullptr && static_cast<std::size_t>(written) != n)) return false;
    if (out != nullptr) out += n;
    in = in.subspan(n);
  }
  return true;
}

void put_be32(Bytes& out, std::size_t& at, std::uint32_t v) {
  out[at++] = static_cast<std::uint8_t>(v >> 24);
  out[at++] = static_cast<std::uint8_t>(v >> 16);
  out[at++] = static_cast<std::uint8_t>(v >> 8);
  out[at++] = static_cast<std::uint8_t>(v);
}

// A 32-bit length then the octets (RFC 7518 4.6.2 "Datalen || Data").
void put_counted(Bytes& out, std::size_t& at, ByteView data) {
  put_be32(out, at, static_cast<std::uint32_t>(data.size()));
  if (!data.empty()) std::copy(data.begin(), data.end(), out.begin() + static_cast<long>(at));
  at += data.size();
}

Result<CipherCtxPtr> cipher_ctx(const char* name, ByteView key, ByteView iv, bool encrypt) {
  CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name, nullptr));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx) return ossl::fail_ossl(Errc::kCrypto, std::string(name) + " unavailable");
  if (static_cast<std::size_t>(EVP_CIPHER_get_key_length(cipher.get())) != key.size()) {
    return fail(Errc::kInvalidArgument, std::string(name) + ": wrong key size");
  }
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  const unsigned char* iv_ptr = iv.empty() ? nullptr : iv.data();
  const int ok = encrypt
                     ? EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key.data(), iv_ptr, nullptr)
                     : EVP_DecryptInit_ex2(ctx.get(), cipher.get(), key.data(), iv_ptr, nullptr);
  if (ok != 1) return ossl::fail_ossl(Errc::kCrypto, std::string(name) + " set-up failed");
  return ctx;
}

Result<ossl::PkeyCtxPtr> oaep_ctx(EVP_PKEY* pkey, bool encrypt) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx ||
      (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), "SHA256", nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), "SHA256", nullptr) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set up RSA-OAEP-256");
  }
  return ctx;
}

}  // namespace

void Secret::truncate(std::size_t size) {
  if (size >= bytes_.size()) return;
  wipe(std::span<std::uint8_t>(bytes_).subspan(size));
  bytes_.resize(size);
}

Result<JweAlg> alg_for_pkey(const EVP_PKEY* pkey, std::string_view what) {
  switch (ossl::key_type_of(pkey)) {
    case KeyType::kEc:
      if (ossl::curve_of(pkey)) return JweAlg::kEcdhEsA256kw;
      return fail(Errc::kInvalidArgument,
                  "JWE: the " + std::string(what) + " is on a curve other than P-256/P-384");
    case KeyType::kRsa: {
      const int bits = EVP_PKEY_get_bits(pkey);
      if (bits >= 2048) return JweAlg::kRsaOaep256;
      return fail(Errc::kInvalidArgument, "JWE: the " + std::string(what) + " is RSA-" +
                                              std::to_string(bits) + ", at least 2048 is needed");
    }
    case KeyType::kRsaPss:
    case KeyType::kOther:
      break;
  }
  return fail(Errc::kInvalidArgument,
              "JWE: the " + std::string(what) + " is neither EC P-256/P-384 nor RSA");
}

Result<Secret> random_secret(std::size_t size) {
  Secret out(size);
  if (size > INT_MAX || RAND_priv_bytes(out.data(), static_cast<int>(size)) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot draw random key bytes");
  }
  return out;
}

Result<Bytes> random_bytes(std::size_t size) {
  Bytes out(size);
  if (size > INT_MAX || RAND_bytes(out.data(), static_cast<int>(size)) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot draw random bytes");
  }
  return out;
}

Result<Secret> ecdh(EVP_PKEY* priv, EVP_PKEY* peer) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr));
  std::size_t size = 0;
  // No validation of the peer here: every PublicKey was checked to be a
  // point on its curve (not infinity) when it was imported (public_key.h),
  // which is the whole check on P-256 and P-384 (cofactor 1); OpenSSL's
  // full check would add a scalar multiplication by the group order, as
  // costly as the key agreement itself.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, /*validate_peer=*/0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &size) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "ECDH set-up failed");
  }
  Secret z(size);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &size) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "ECDH failed");
  }
  z.truncate(size);
  return z;
}

Result<nlohmann::json> ec_public_jwk(const EVP_PKEY* pkey) {
  const std::optional<EcCurve> curve = ossl::curve_of(pkey);
  if (!curve) {
    return fail(Errc::kInvalidArgument, "JWK: only EC P-256 and P-384 keys are supported");
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes point, ossl::ec_public_point(pkey, *curve));
  const ByteView xy = ByteView(point).subspan(1);  // after 0x04
  const std::size_t n = ec_coordinate_size(*curve);
  return nlohmann::json{{"kty", "EC"},
                        {"crv", std::string(ec_curve_name(*curve))},
                        {"x", base64url_encode(xy.first(n))},
                        {"y", base64url_encode(xy.subspan(n))}};
}

Result<Secret> concat_kdf_sha256(ByteView z, std::string_view algorithm_id, ByteView apu,
                                 ByteView apv, std::size_t size) {
  if (size == 0 || size > 0x1fffffff || apu.size() > UINT32_MAX || apv.size() > UINT32_MAX) {
    return fail(Errc::kInvalidArgument, "Concat KDF: unusable sizes");
  }
  // Built at its final size (no insert into a growing vector).
  Bytes info(4 + algorithm_id.size() + 4 + apu.size() + 4 + apv.size() + 4);
  std::size_t at = 0;
  put_counted(info, at, as_bytes(algorithm_id));
  put_counted(info, at, apu);
  put_counted(info, at, apv);
  put_be32(info, at, static_cast<std::uint32_t>(size * 8));  // SuppPubInfo: keydatalen

  KdfPtr kdf(EVP_KDF_fetch(nullptr, "SSKDF", nullptr));
  KdfCtxPtr ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (!ctx) return ossl::fail_ossl(Errc::kCrypto, "Concat KDF (SSKDF) unavailable");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<std::uint8_t*>(z.data()),
                                        z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  Secret out(size);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "Concat KDF failed");
  }
  return out;
}

Result<Bytes> aes256_wrap(ByteView kek, ByteView key) {
  if (key.size() < 16 || key.size() % 8 != 0 || key.size() > kChunk) {
    return fail(Errc::kInvalidArgument, "AES key wrap: the key must be 16+ bytes, a multiple of 8");
  }
  CONCIERGE_ASSIGN_OR_RETURN(CipherCtxPtr ctx, cipher_ctx("AES-256-WRAP", kek, {}, true));
  Bytes out(key.size() + 8);
  int len = 0;
  int tail = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, key.data(), static_cast<int>(key.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1 ||
      static_cast<std::size_t>(len + tail) != out.size()) {
    return ossl::fail_ossl(Errc::kCrypto, "AES key wrap failed");
  }
  return out;
}

Result<std::optional<Secret>> aes256_unwrap(ByteView kek, ByteView wrapped) {
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0 || wrapped.size() > kChunk) {
    return fail(Errc::kInvalidArgument, "AES key unwrap: the input must be 24+ bytes, 8n");
  }
  CONCIERGE_ASSIGN_OR_RETURN(CipherCtxPtr ctx, cipher_ctx("AES-256-WRAP", kek, {}, false));
  Secret out(wrapped.size());
  int len = 0;
  int tail = 0;
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, wrapped.data(),
                        static_cast<int>(wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1 ||
      static_cast<std::size_t>(len + tail) != wrapped.size() - 8) {
    ossl::clear_errors();
    return std::optional<Secret>();
  }
  out.truncate(wrapped.size() - 8);
  return std::optional<Secret>(std::move(out));
}

Result<Bytes> rsa_oaep256_encrypt(EVP_PKEY* pub, ByteView message) {
  CONCIERGE_ASSIGN_OR_RETURN(ossl::PkeyCtxPtr ctx, oaep_ctx(pub, true));
  std::size_t size = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &size, message.data(), message.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "RSA-OAEP-256 encryption failed");
  }
  Bytes out(size);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &size, message.data(), message.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "RSA-OAEP-256 encryption failed");
  }
  out.resize(size);
  return out;
}

std::optional<Secret> rsa_oaep256_decrypt(EVP_PKEY* priv, ByteView ciphertext) {
  auto ctx = oaep_ctx(priv, false);
  std::size_t size = 0;
  if (!ctx ||
      EVP_PKEY_decrypt(ctx->get(), nullptr, &size, ciphertext.data(), ciphertext.size()) != 1) {
    ossl::clear_errors();
    return std::nullopt;
  }
  Secret out(size);
  if (EVP_PKEY_decrypt(ctx->get(), out.data(), &size, ciphertext.data(), ciphertext.size()) != 1) {
    ossl::clear_errors();
    return std::nullopt;
  }
  out.truncate(size);
  return out;
}

Result<Sealed> aes256gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plaintext) {
  if (iv.size() != kIvSize) return fail(Errc::kInvalidArgument, "A256GCM: the IV must be 12 bytes");
  CONCIERGE_ASSIGN_OR_RETURN(CipherCtxPtr ctx, cipher_ctx("AES-256-GCM", key, iv, true));
  Sealed out{Bytes(plaintext.size()), Bytes(kTagSize)};
  int tail = 0;
  if (!update_all(ctx.get(), nullptr, aad, true) ||
      !update_all(ctx.get(), out.ciphertext.data(), plaintext, true) ||
      EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + out.ciphertext.size(), &tail) != 1 ||
      tail != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          out.tag.data()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "A256GCM encryption failed");
  }
  return out;
}

Result<std::optional<Secret>> aes256gcm_decrypt(ByteView key, ByteView iv, ByteView aad,
                                                ByteView ciphertext, ByteView tag) {
  if (iv.size() != kIvSize || tag.size() != kTagSize) {
    return fail(Errc::kInvalidArgument, "A256GCM: the IV must be 12 bytes, the tag 16");
  }
  CONCIERGE_ASSIGN_OR_RETURN(CipherCtxPtr ctx, cipher_ctx("AES-256-GCM", key, iv, false));
  Secret out(ciphertext.size());
  if (!update_all(ctx.get(), nullptr, aad, false) ||
      !update_all(ctx.get(), out.data(), ciphertext, false) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<std::uint8_t*>(tag.data())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "A256GCM decryption failed");
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + out.size(), &tail) != 1 || tail != 0) {
    ossl::clear_errors();
    return std::optional<Secret>();  // `out` is wiped on the way out
  }
  return std::optional<Secret>(std::move(out));
}

}  // namespace concierge::jose::jwe_internal
