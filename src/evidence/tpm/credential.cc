// TPM2_MakeCredential in software (TPM 2.0 Part 1, clause 24): the seed is
// shared with the EK (RSA-OAEP or ECDH + KDFe), then the credential is
// protected like an outer-wrapped object (KDFa, AES-CFB, HMAC).
#include "concierge/evidence/tpm/credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstring>
#include <string>
#include <utility>

#include "concierge/evidence/tpm/kdf.h"
#include "core/ossl_util.h"
#include "evidence/tpm/mu.h"

namespace concierge::evidence::tpm {
namespace {

using CipherPtr = ossl::Ptr<EVP_CIPHER, EVP_CIPHER_free>;
using CipherCtxPtr = ossl::Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

// Wipes a buffer holding key material when it goes out of scope.
class Scrubbed {
 public:
  Scrubbed() = default;
  explicit Scrubbed(Bytes b) : b_(std::move(b)) {}
  Scrubbed(Scrubbed&& other) noexcept : b_(std::move(other.b_)) { other.b_.clear(); }
  Scrubbed(const Scrubbed&) = delete;
  Scrubbed& operator=(const Scrubbed&) = delete;
  Scrubbed& operator=(Scrubbed&&) = delete;
  ~Scrubbed() { wipe(b_); }
  Bytes& get() { return b_; }
  ByteView view() const { return b_; }

 private:
  Bytes b_;
};

constexpr char kIdentity[] = "IDENTITY";  // with its NUL: 9 bytes

struct SharedSeed {
  Scrubbed seed;
  Bytes encrypted;  // the TPM2B_ENCRYPTED_SECRET's contents
};

Result<Bytes> random_bytes(std::size_t n) {
  Bytes out(n);
  if (RAND_priv_bytes(out.data(), static_cast<int>(n)) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: no random bytes");
  }
  return out;
}

// RSA: seed = random, encrypted with OAEP(nameAlg, label "IDENTITY\0").
Result<SharedSeed> rsa_seed(const TpmPublic& ek) {
  const EVP_MD* md = ossl::md_for(ek.name_alg);
  SharedSeed out;
  CONCIERGE_ASSIGN_OR_RETURN(out.seed.get(), random_bytes(digest_size(ek.name_alg)));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ek.key.get(), nullptr));
  void* label = OPENSSL_memdup(kIdentity, sizeof kIdentity);
  if (!ctx || label == nullptr || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) {
    OPENSSL_free(label);
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: cannot set up RSA-OAEP");
  }
  // set0 takes ownership of the label on success only.
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof kIdentity) != 1) {
    OPENSSL_free(label);
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: cannot set the OAEP label");
  }
  const Bytes& seed = out.seed.get();
  std::size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, seed.data(), seed.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: RSA-OAEP failed");
  }
  out.encrypted.resize(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.encrypted.data(), &len, seed.data(), seed.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: RSA-OAEP failed");
  }
  out.encrypted.resize(len);
  return out;
}

// ECC: ephemeral ECDH key on the EK's curve; seed = KDFe(nameAlg, Z,
// "IDENTITY", ephemeral.x, ek.x); the ephemeral point is the encrypted secret.
Result<SharedSeed> ecc_seed(const TpmPublic& ek) {
  const auto curve = ek.key.curve();
  if (!curve) return fail(Errc::kUnsupported, "make_credential: the EK's curve is unsupported");
  const std::size_t n = ec_coordinate_size(*curve);
  ossl::PkeyPtr eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                                      *curve == EcCurve::kP256 ? "prime256v1" : "secp384r1"));
  if (!eph) return ossl::fail_ossl(Errc::kCrypto, "make_credential: cannot make an ECDH key");

  std::uint8_t point[1 + 2 * 48];
  std::size_t point_len = 0;
  if (EVP_PKEY_get_octet_string_param(eph.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                      sizeof point, &point_len) != 1 ||
      point_len != 1 + 2 * n || point[0] != 0x04) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: cannot read the ephemeral point");
  }
  ossl::PkeyCtxPtr dctx(EVP_PKEY_CTX_new_from_pkey(nullptr, eph.get(), nullptr));
  std::size_t z_len = 0;
  if (!dctx || EVP_PKEY_derive_init(dctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(dctx.get(), ek.key.get()) != 1 ||
      EVP_PKEY_derive(dctx.get(), nullptr, &z_len) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: ECDH with the EK failed");
  }
  Scrubbed z{Bytes(z_len)};
  if (EVP_PKEY_derive(dctx.get(), z.get().data(), &z_len) != 1 || z_len != n) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: ECDH with the EK failed");
  }
  const ByteView eph_x(point + 1, n);
  const ByteView eph_y(point + 1 + n, n);

  SharedSeed out;
  CONCIERGE_ASSIGN_OR_RETURN(out.seed.get(), kdfe(ek.name_alg, z.view(), "IDENTITY", eph_x,
                                                  ek.ecc_x, 8 * digest_size(ek.name_alg)));
  TPMS_ECC_POINT p{};
  p.x.size = static_cast<UINT16>(n);
  p.y.size = static_cast<UINT16>(n);
  std::memcpy(p.x.buffer, eph_x.data(), n);
  std::memcpy(p.y.buffer, eph_y.data(), n);
  CONCIERGE_ASSIGN_OR_RETURN(out.encrypted,
                             mu::marshal(&Tss2_MU_TPMS_ECC_POINT_Marshal, p, "TPMS_ECC_POINT"));
  return out;
}

Result<Bytes> aes_cfb_encrypt(ByteView key, ByteView plain) {
  const char* name = key.size() == 16   ? "AES-128-CFB"
                     : key.size() == 24 ? "AES-192-CFB"
                                        : "AES-256-CFB";
  CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name, nullptr));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const std::uint8_t iv[16] = {};
  Bytes out(plain.size() + 16);
  int len = 0;
  int tail = 0;
  if (!cipher || !ctx ||
      EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key.data(), iv, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plain.data(),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: AES-CFB failed");
  }
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

Result<Bytes> hmac(HashAlg alg, ByteView key, ByteView data) {
  Bytes out(digest_size(alg));
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, ossl::md_name(alg), nullptr, key.data(), key.size(),
                data.data(), data.size(), out.data(), out.size(), &len) == nullptr ||
      len != out.size()) {
    return ossl::fail_ossl(Errc::kCrypto, "make_credential: HMAC failed");
  }
  return out;
}

Result<void> check_ek(const TpmPublic& ek) {
  constexpr std::uint32_t kStorage = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  if ((ek.attributes & kStorage) != kStorage || (ek.attributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
    return fail(Errc::kInvalidArgument,
                "make_credential: the EK is not a restricted decryption key");
  }
  if (ek.type != TPM2_ALG_RSA && ek.type != TPM2_ALG_ECC) {
    return fail(Errc::kInvalidArgument, "make_credential: the EK is neither RSA nor ECC");
  }
  if (ek.sym_alg != TPM2_ALG_AES || ek.sym_mode != TPM2_ALG_CFB ||
      (ek.sym_key_bits != 128 && ek.sym_key_bits != 192 && ek.sym_key_bits != 256)) {
    return fail(Errc::kUnsupported,
                "make_credential: the EK's symmetric definition is not AES-CFB "
                "(algorithm " +
                    mu::hex16(ek.sym_alg) + ", " + std::to_string(ek.sym_key_bits) +
                    " bits, mode " + mu::hex16(ek.sym_mode) + ")");
  }
  if (ossl::md_for(ek.name_alg) == nullptr) {
    return fail(Errc::kUnsupported, "make_credential: the EK's nameAlg " +
                                        std::string(hash_name(ek.name_alg)) +
                                        " is not available in OpenSSL");
  }
  return {};
}

Result<void> check_name(ByteView name) {
  if (name.size() < 2) {
    return fail_at(Errc::kInvalidArgument, "ak_name", 0,
                   "a name starts with its 2-byte hash algorithm");
  }
  const auto id = static_cast<std::uint16_t>((name[0] << 8) | name[1]);
  const auto alg = hash_from_tcg_id(id);
  if (!alg) {
    return fail_at(Errc::kInvalidArgument, "ak_name", 0,
                   "name algorithm " + mu::hex16(id) + " is not a known hash");
  }
  if (name.size() != 2 + digest_size(*alg)) {
    return fail_at(Errc::kInvalidArgument, "ak_name", 2,
                   "a " + std::string(hash_name(*alg)) + " name has a " +
                       std::to_string(digest_size(*alg)) + "-byte digest, not " +
                       std::to_string(name.size() - 2) + " bytes");
  }
  return {};
}

}  // namespace

Result<Credential> make_credential(const TpmPublic& ek, ByteView ak_name, ByteView secret) {
  CONCIERGE_RETURN_IF_ERROR(check_ek(ek));
  CONCIERGE_RETURN_IF_ERROR(check_name(ak_name));
  const HashAlg alg = ek.name_alg;
  const std::size_t dsize = digest_size(alg);
  if (secret.empty() || secret.size() > dsize) {
    return fail(Errc::kInvalidArgument, "make_credential: the secret must be 1 to " +
                                            std::to_string(dsize) + " bytes (the " +
                                            std::string(hash_name(alg)) + " digest size), not " +
                                            std::to_string(secret.size()));
  }

  CONCIERGE_ASSIGN_OR_RETURN(SharedSeed shared,
                             ek.type == TPM2_ALG_RSA ? rsa_seed(ek) : ecc_seed(ek));
  const ByteView seed = shared.seed.view();

  // encIdentity = CFB(symKey, IV 0, TPM2B_DIGEST(secret))
  Scrubbed sym_key;
  CONCIERGE_ASSIGN_OR_RETURN(sym_key.get(),
                             kdfa(alg, seed, "STORAGE", ak_name, {}, ek.sym_key_bits));
  TPM2B_DIGEST cv{};
  cv.size = static_cast<UINT16>(secret.size());
  std::memcpy(cv.buffer, secret.data(), secret.size());
  auto marshalled_cv = mu::marshal(&Tss2_MU_TPM2B_DIGEST_Marshal, cv, "TPM2B_DIGEST");
  OPENSSL_cleanse(&cv, sizeof cv);
  if (!marshalled_cv) return Unexpected(std::move(marshalled_cv).error());
  Scrubbed plain(std::move(marshalled_cv).value());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes enc_identity, aes_cfb_encrypt(sym_key.view(), plain.view()));

  // outerHMAC = HMAC(HMACkey, encIdentity || name)
  Scrubbed hmac_key;
  CONCIERGE_ASSIGN_OR_RETURN(hmac_key.get(), kdfa(alg, seed, "INTEGRITY", {}, {}, 8 * dsize));
  Bytes mac_input = enc_identity;
  mac_input.insert(mac_input.end(), ak_name.begin(), ak_name.end());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes outer_hmac, hmac(alg, hmac_key.view(), mac_input));

  TPM2B_DIGEST integrity{};
  integrity.size = static_cast<UINT16>(outer_hmac.size());
  std::memcpy(integrity.buffer, outer_hmac.data(), outer_hmac.size());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes blob,
                             mu::marshal(&Tss2_MU_TPM2B_DIGEST_Marshal, integrity, "TPM2B_DIGEST"));
  blob.insert(blob.end(), enc_identity.begin(), enc_identity.end());

  TPM2B_ID_OBJECT id{};
  TPM2B_ENCRYPTED_SECRET es{};
  if (blob.size() > sizeof id.credential || shared.encrypted.size() > sizeof es.secret) {
    return fail(Errc::kInternal, "make_credential: the credential does not fit its TPM2B");
  }
  id.size = static_cast<UINT16>(blob.size());
  std::memcpy(id.credential, blob.data(), blob.size());
  es.size = static_cast<UINT16>(shared.encrypted.size());
  std::memcpy(es.secret, shared.encrypted.data(), shared.encrypted.size());

  Credential out;
  CONCIERGE_ASSIGN_OR_RETURN(out.id_object,
                             mu::marshal(&Tss2_MU_TPM2B_ID_OBJECT_Marshal, id, "TPM2B_ID_OBJECT"));
  CONCIERGE_ASSIGN_OR_RETURN(
      out.encrypted_secret,
      mu::marshal(&Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal, es, "TPM2B_ENCRYPTED_SECRET"));
  return out;
}

}  // namespace concierge::evidence::tpm
