#include "support/soft_tpm_credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <cstring>
#include <string>
#include <vector>

namespace concierge::testing {
namespace {

const char* md_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return "SHA1";
    case HashAlg::kSha256:
      return "SHA2-256";
    case HashAlg::kSha384:
      return "SHA2-384";
    case HashAlg::kSha512:
      return "SHA2-512";
    case HashAlg::kSm3_256:
      return "SM3";
  }
  return "";
}

Unexpected crypto_error(const std::string& what) {
  ERR_clear_error();
  return fail(Errc::kCrypto, "soft_activate_credential: " + what);
}

Result<Bytes> derive(const char* kdf_name, std::vector<OSSL_PARAM> params, std::size_t bytes) {
  params.push_back(OSSL_PARAM_construct_end());
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, kdf_name, nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  Bytes out(bytes);
  const bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out.data(), out.size(), params.data()) == 1;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  if (!ok) return crypto_error(std::string(kdf_name) + " failed");
  return out;
}

OSSL_PARAM octets(const char* key, ByteView v) {
  return OSSL_PARAM_construct_octet_string(key, const_cast<std::uint8_t*>(v.data()), v.size());
}

template <typename T>
Result<T> unmarshal(TSS2_RC (*fn)(const std::uint8_t*, std::size_t, std::size_t*, T*), ByteView in,
                    std::size_t* offset, const char* what) {
  T out{};
  if (fn(in.data(), in.size(), offset, &out) != TSS2_RC_SUCCESS) {
    return fail(Errc::kMalformed, std::string("soft_activate_credential: bad ") + what);
  }
  return out;
}

Result<Bytes> recover_seed(const PrivateKey& ek_private, const evidence::tpm::TpmPublic& ek,
                           ByteView encrypted) {
  const std::size_t dsize = digest_size(ek.name_alg);
  if (ek.type == TPM2_ALG_RSA) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private.get(), nullptr);
    const EVP_MD* md = EVP_get_digestbyname(md_name(ek.name_alg));
    static const char kLabel[] = "IDENTITY";
    void* label = OPENSSL_memdup(kLabel, sizeof kLabel);
    Bytes seed(512);
    std::size_t len = seed.size();
    bool ok = ctx != nullptr && EVP_PKEY_decrypt_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
              EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, sizeof kLabel) == 1;
    if (ok) {
      label = nullptr;  // owned by ctx now
      ok = EVP_PKEY_decrypt(ctx, seed.data(), &len, encrypted.data(), encrypted.size()) == 1;
    }
    OPENSSL_free(label);
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return crypto_error("RSA-OAEP decryption of the seed failed");
    seed.resize(len);
    if (seed.size() != dsize) return crypto_error("the seed has the wrong size");
    return seed;
  }
  std::size_t off = 0;
  CONCIERGE_ASSIGN_OR_RETURN(
      TPMS_ECC_POINT q, unmarshal(&Tss2_MU_TPMS_ECC_POINT_Unmarshal, encrypted, &off, "point"));
  if (off != encrypted.size()) return fail(Errc::kMalformed, "trailing bytes after the point");
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey peer, PublicKey::from_ec_coordinates(
                                                 *ek.key.curve(), ByteView(q.x.buffer, q.x.size),
                                                 ByteView(q.y.buffer, q.y.size)));
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, ek_private.get(), nullptr);
  Bytes z(64);
  std::size_t z_len = z.size();
  const bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
                  EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
                  EVP_PKEY_derive(ctx, z.data(), &z_len) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return crypto_error("ECDH failed");
  z.resize(z_len);
  auto seed =
      openssl_kdfe(ek.name_alg, z, "IDENTITY", ByteView(q.x.buffer, q.x.size), ek.ecc_x, dsize);
  OPENSSL_cleanse(z.data(), z.size());
  return seed;
}

}  // namespace

Result<Bytes> openssl_kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                           ByteView context_v, std::size_t bytes) {
  Bytes context(context_u.begin(), context_u.end());
  context.insert(context.end(), context_v.begin(), context_v.end());
  std::vector<OSSL_PARAM> p = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, const_cast<char*>("counter"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md_name(alg)), 0),
      octets(OSSL_KDF_PARAM_KEY, key),
      octets(OSSL_KDF_PARAM_SALT, as_bytes(label)),  // KBKDF's "label"
  };
  if (!context.empty()) p.push_back(octets(OSSL_KDF_PARAM_INFO, context));  // its "context"
  return derive("KBKDF", std::move(p), bytes);
}

Result<Bytes> openssl_kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u,
                           ByteView party_v, std::size_t bytes) {
  Bytes info(label.begin(), label.end());
  info.push_back(0);
  info.insert(info.end(), party_u.begin(), party_u.end());
  info.insert(info.end(), party_v.begin(), party_v.end());
  std::vector<OSSL_PARAM> p = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md_name(alg)), 0),
      octets(OSSL_KDF_PARAM_KEY, z),
      octets(OSSL_KDF_PARAM_INFO, info),
  };
  return derive("SSKDF", std::move(p), bytes);
}

Result<Bytes> soft_activate_credential(const PrivateKey& ek_private,
                                       const evidence::tpm::TpmPublic& ek_public, ByteView ak_name,
                                       ByteView tpm2b_id_object, ByteView tpm2b_encrypted_secret) {
  std::size_t off = 0;
  CONCIERGE_ASSIGN_OR_RETURN(TPM2B_ENCRYPTED_SECRET es,
                             unmarshal(&Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                                       tpm2b_encrypted_secret, &off, "TPM2B_ENCRYPTED_SECRET"));
  off = 0;
  CONCIERGE_ASSIGN_OR_RETURN(
      TPM2B_ID_OBJECT id,
      unmarshal(&Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, tpm2b_id_object, &off, "TPM2B_ID_OBJECT"));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes seed,
                             recover_seed(ek_private, ek_public, ByteView(es.secret, es.size)));

  const ByteView blob(id.credential, id.size);
  off = 0;
  CONCIERGE_ASSIGN_OR_RETURN(TPM2B_DIGEST integrity, unmarshal(&Tss2_MU_TPM2B_DIGEST_Unmarshal,
                                                               blob, &off, "integrityHMAC"));
  const ByteView enc_identity = blob.subspan(off);

  const HashAlg alg = ek_public.name_alg;
  const std::size_t dsize = digest_size(alg);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes hmac_key, openssl_kdfa(alg, seed, "INTEGRITY", {}, {}, dsize));
  Bytes mac_input(enc_identity.begin(), enc_identity.end());
  mac_input.insert(mac_input.end(), ak_name.begin(), ak_name.end());
  Bytes expected(dsize);
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, md_name(alg), nullptr, hmac_key.data(), hmac_key.size(),
                mac_input.data(), mac_input.size(), expected.data(), expected.size(),
                &mac_len) == nullptr) {
    return crypto_error("HMAC failed");
  }
  if (!equal_constant_time(expected, ByteView(integrity.buffer, integrity.size))) {
    return fail(Errc::kDevice, "integrity check failed");
  }

  CONCIERGE_ASSIGN_OR_RETURN(
      Bytes sym_key, openssl_kdfa(alg, seed, "STORAGE", ak_name, {}, ek_public.sym_key_bits / 8));
  const std::string cipher_name = "AES-" + std::to_string(ek_public.sym_key_bits) + "-CFB";
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, cipher_name.c_str(), nullptr);
  EVP_CIPHER_CTX* cctx = EVP_CIPHER_CTX_new();
  const std::uint8_t iv[16] = {};
  Bytes plain(enc_identity.size() + 16);
  int len = 0;
  int tail = 0;
  const bool ok = cipher != nullptr && cctx != nullptr &&
                  EVP_DecryptInit_ex2(cctx, cipher, sym_key.data(), iv, nullptr) == 1 &&
                  EVP_DecryptUpdate(cctx, plain.data(), &len, enc_identity.data(),
                                    static_cast<int>(enc_identity.size())) == 1 &&
                  EVP_DecryptFinal_ex(cctx, plain.data() + len, &tail) == 1;
  EVP_CIPHER_CTX_free(cctx);
  EVP_CIPHER_free(cipher);
  if (!ok) return crypto_error("AES-CFB decryption failed");
  plain.resize(static_cast<std::size_t>(len + tail));
  off = 0;
  CONCIERGE_ASSIGN_OR_RETURN(TPM2B_DIGEST cv, unmarshal(&Tss2_MU_TPM2B_DIGEST_Unmarshal, plain,
                                                        &off, "decrypted credential"));
  if (off != plain.size()) return fail(Errc::kMalformed, "trailing bytes after the credential");
  return Bytes(cv.buffer, cv.buffer + cv.size);
}

}  // namespace concierge::testing
