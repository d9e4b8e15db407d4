#include "concierge/core/private_key.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <climits>

#include "concierge/core/signature.h"
#include "core/ossl_util.h"

namespace concierge {
namespace {

// Never prompt on a terminal for a passphrase: encrypted keys simply fail.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

Result<EVP_PKEY*> generate(EVP_PKEY_CTX* ctx, const char* what) {
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_generate(ctx, &pkey) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, std::string("cannot generate ") + what);
  }
  return pkey;
}

}  // namespace

Result<PrivateKey> PrivateKey::generate_ec(EcCurve curve) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(),
                                  curve == EcCurve::kP256 ? "prime256v1" : "secp384r1") != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set up EC key generation");
  }
  CONCIERGE_ASSIGN_OR_RETURN(EVP_PKEY * pkey, generate(ctx.get(), "an EC key"));
  return PrivateKey(pkey);
}

Result<PrivateKey> PrivateKey::generate_rsa(int bits) {
  if (bits != 2048 && bits != 3072 && bits != 4096) {
    return fail(Errc::kInvalidArgument, "RSA key size must be 2048, 3072 or 4096 bits");
  }
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set up RSA key generation");
  }
  CONCIERGE_ASSIGN_OR_RETURN(EVP_PKEY * pkey, generate(ctx.get(), "an RSA key"));
  return PrivateKey(pkey);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > INT_MAX) return fail(Errc::kInvalidArgument, "private key PEM is too large");
  ossl::BioPtr bio = ossl::mem_bio(as_bytes(pem));
  EVP_PKEY* pkey =
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (pkey == nullptr) {
    return ossl::fail_ossl(Errc::kMalformed, "not an unencrypted PEM private key");
  }
  return PrivateKey(pkey);
}

PrivateKey::PrivateKey(PrivateKey&& other) noexcept : pkey_(other.pkey_) { other.pkey_ = nullptr; }

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(pkey_);
    pkey_ = other.pkey_;
    other.pkey_ = nullptr;
  }
  return *this;
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(pkey_); }

Result<std::string> PrivateKey::to_pem() const {
  // A secure-memory BIO cleanses its buffer when freed.
  ossl::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || pkey_ == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), pkey_, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot write the private key as PEM");
  }
  return ossl::bio_string(bio.get());
}

Result<PublicKey> PrivateKey::public_key() const {
  // EC: the point itself, without OpenSSL 3.0's DER encoder and decoder.
  if (const std::optional<EcCurve> curve = ossl::curve_of(pkey_)) {
    if (auto point = ossl::ec_public_point(pkey_, *curve)) {
      return PublicKey::from_ec_point(*curve, *point);
    }
    ossl::clear_errors();
  }
  unsigned char* buf = nullptr;
  const int len = pkey_ == nullptr ? -1 : i2d_PUBKEY(pkey_, &buf);
  if (len <= 0) return ossl::fail_ossl(Errc::kCrypto, "cannot extract the public key");
  Result<PublicKey> key = PublicKey::from_der(ByteView(buf, static_cast<std::size_t>(len)));
  OPENSSL_free(buf);
  return key;
}

KeyType PrivateKey::type() const { return ossl::key_type_of(pkey_); }

std::optional<EcCurve> PrivateKey::curve() const { return ossl::curve_of(pkey_); }

namespace {

Result<Bytes> digest_sign(EVP_PKEY* pkey, HashAlg alg, ByteView message, int rsa_padding) {
  const EVP_MD* md = ossl::md_for(alg);
  if (md == nullptr) return fail(Errc::kUnsupported, "digest not available in this OpenSSL");
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot start signing");
  }
  if (rsa_padding != 0 && (EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_padding) != 1 ||
                           (rsa_padding == RSA_PKCS1_PSS_PADDING &&
                            (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)))) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set the RSA padding");
  }
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot size the signature");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "signing failed");
  }
  sig.resize(len);
  return sig;
}

}  // namespace

Result<Bytes> PrivateKey::sign_ecdsa_der(HashAlg alg, ByteView message) const {
  if (type() != KeyType::kEc) return fail(Errc::kInvalidArgument, "ECDSA needs an EC key");
  return digest_sign(pkey_, alg, message, 0);
}

Result<Bytes> PrivateKey::sign_ecdsa_raw(HashAlg alg, ByteView message) const {
  std::optional<EcCurve> c = curve();
  if (!c) return fail(Errc::kInvalidArgument, "raw ECDSA needs a P-256 or P-384 key");
  CONCIERGE_ASSIGN_OR_RETURN(Bytes der, sign_ecdsa_der(alg, message));
  return ecdsa_der_to_raw(der, ec_coordinate_size(*c));
}

Result<Bytes> PrivateKey::sign_ecdsa_prehashed_der(ByteView digest) const {
  if (type() != KeyType::kEc) return fail(Errc::kInvalidArgument, "ECDSA needs an EC key");
  if (digest.size() < 20 || digest.size() > 64) {
    return fail(Errc::kInvalidArgument, "a prehashed digest must be 20..64 bytes");
  }
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot start signing");
  }
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "signing failed");
  }
  sig.resize(len);
  return sig;
}

Result<Bytes> PrivateKey::sign_rsa_pkcs1(HashAlg alg, ByteView message) const {
  if (type() != KeyType::kRsa) return fail(Errc::kInvalidArgument, "PKCS#1 needs an RSA key");
  return digest_sign(pkey_, alg, message, RSA_PKCS1_PADDING);
}

Result<Bytes> PrivateKey::sign_rsa_pss(HashAlg alg, ByteView message) const {
  if (type() != KeyType::kRsa && type() != KeyType::kRsaPss) {
    return fail(Errc::kInvalidArgument, "RSA-PSS needs an RSA key");
  }
  return digest_sign(pkey_, alg, message, RSA_PKCS1_PSS_PADDING);
}

}  // namespace concierge
