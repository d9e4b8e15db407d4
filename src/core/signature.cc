#include "concierge/core/signature.h"

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>
#include <string>

#include "core/ossl_util.h"

namespace concierge {
namespace {

constexpr std::size_t kMaxInput = INT_MAX;

ByteView strip_leading_zeros(ByteView v) {
  std::size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  return v.subspan(i);
}

Result<const EVP_MD*> need_md(HashAlg alg) {
  const EVP_MD* md = ossl::md_for(alg);
  if (md == nullptr) {
    return fail(Errc::kUnsupported,
                std::string("digest ") + ossl::md_name(alg) + " is not available in this OpenSSL");
  }
  return md;
}

Result<EcCurve> need_ec(const PublicKey& key) {
  if (key.get() == nullptr || key.type() != KeyType::kEc) {
    return fail(Errc::kInvalidArgument, "ECDSA verification needs an EC public key");
  }
  std::optional<EcCurve> curve = key.curve();
  if (!curve) return fail(Errc::kUnsupported, "ECDSA: only P-256 and P-384 keys are supported");
  return *curve;
}

// Strictly parses a DER ECDSA-Sig-Value: one structure, re-encoding to the
// same bytes (rejects BER, trailing data, negative or oversized integers).
// On failure returns nullptr and sets `why`.
ossl::EcdsaSigPtr parse_der_strict(ByteView der, std::size_t max_component, std::string& why) {
  if (der.empty() || der.size() > 1024) {
    why = "ECDSA signature DER has an implausible length (" + std::to_string(der.size()) + ")";
    return nullptr;
  }
  const unsigned char* p = der.data();
  ossl::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    ossl::clear_errors();
    why = "ECDSA signature is not a DER ECDSA-Sig-Value";
    return nullptr;
  }
  unsigned char* re = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &re);
  const bool same = len > 0 && static_cast<std::size_t>(len) == der.size() &&
                    std::memcmp(re, der.data(), der.size()) == 0;
  OPENSSL_free(re);
  if (!same) {
    ossl::clear_errors();
    why = "ECDSA signature is not canonical DER";
    return nullptr;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  for (auto [name, bn] : {std::pair{"r", r}, std::pair{"s", s}}) {
    if (BN_is_negative(bn)) {
      why = std::string("ECDSA ") + name + " is negative";
      return nullptr;
    }
    const auto width = static_cast<std::size_t>(BN_num_bytes(bn));
    if (width > max_component) {
      why = std::string("ECDSA ") + name + " is " + std::to_string(width) +
            " bytes wide, the curve allows " + std::to_string(max_component);
      return nullptr;
    }
  }
  return sig;
}

// Shared tail of every verification: interpret EVP's 1 / 0 / <0.
Verdict outcome(int rc, const char* scheme) {
  if (rc == 1) {
    ossl::clear_errors();
    return Verdict::accept();
  }
  // 0 is "does not verify"; a negative value is OpenSSL refusing the
  // signature bytes (e.g. an out-of-range integer): the same outcome for us.
  ossl::clear_errors();
  return Verdict::reject(std::string(scheme) + " signature does not verify");
}

// Verifies a message (md != nullptr) or a prehashed digest (md == nullptr for
// ECDSA; for RSA the md names the digest's algorithm, see prehashed below).
Result<Verdict> digest_verify(EVP_PKEY* pkey, const EVP_MD* md, ByteView message,
                              ByteView signature, int rsa_padding, int pss_salt,
                              const char* scheme) {
  if (message.size() > kMaxInput) return fail(Errc::kInvalidArgument, "message too large");
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, std::string(scheme) + ": cannot start verification");
  }
  if (rsa_padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, rsa_padding) != 1 ||
        (rsa_padding == RSA_PKCS1_PSS_PADDING &&
         (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
      return ossl::fail_ossl(Errc::kCrypto, std::string(scheme) + ": cannot set the padding");
    }
  }
  const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                  message.size());
  return outcome(rc, scheme);
}

Result<Verdict> prehashed_verify(EVP_PKEY* pkey, const EVP_MD* md, ByteView digest,
                                 ByteView signature, int rsa_padding, int pss_salt,
                                 const char* scheme) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, std::string(scheme) + ": cannot start verification");
  }
  if (rsa_padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), rsa_padding) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1 ||
        (rsa_padding == RSA_PKCS1_PSS_PADDING &&
         (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), pss_salt) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1))) {
      return ossl::fail_ossl(Errc::kCrypto, std::string(scheme) + ": cannot set the padding");
    }
  }
  const int rc =
      EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(), digest.size());
  return outcome(rc, scheme);
}

// ECDSA over a message (md) or a digest (md == nullptr), DER signature.
Result<Verdict> ecdsa_verify(const PublicKey& key, const EVP_MD* md, ByteView data, ByteView der) {
  CONCIERGE_ASSIGN_OR_RETURN(EcCurve curve, need_ec(key));
  std::string why;
  if (!parse_der_strict(der, ec_coordinate_size(curve), why)) return Verdict::reject(why);
  if (md != nullptr) return digest_verify(key.get(), md, data, der, 0, 0, "ECDSA");
  return prehashed_verify(key.get(), nullptr, data, der, 0, 0, "ECDSA");
}

// Converts raw big-endian r || s to DER, or explains why it cannot be a
// signature for `curve`.
std::optional<Bytes> raw_to_der_for(ByteView r_s, EcCurve curve, std::string& why) {
  if (r_s.empty() || r_s.size() % 2 != 0 || r_s.size() > 1024) {
    why = "ECDSA r || s must have two halves of equal length, got " + std::to_string(r_s.size()) +
          " bytes";
    return std::nullopt;
  }
  const std::size_t half = r_s.size() / 2;
  const std::size_t n = ec_coordinate_size(curve);
  const ByteView r = strip_leading_zeros(r_s.first(half));
  const ByteView s = strip_leading_zeros(r_s.subspan(half));
  for (auto [name, v] : {std::pair{"r", r}, std::pair{"s", s}}) {
    if (v.size() > n) {
      why = std::string("ECDSA ") + name + " is " + std::to_string(v.size()) + " bytes wide, " +
            std::string(ec_curve_name(curve)) + " allows " + std::to_string(n);
      return std::nullopt;
    }
  }
  Result<Bytes> der = ecdsa_raw_to_der(r, s);
  if (!der) {
    why = der.error().message;
    return std::nullopt;
  }
  return std::move(der).value();
}

Result<Verdict> ecdsa_verify_raw(const PublicKey& key, const EVP_MD* md, ByteView data,
                                 ByteView r_s) {
  CONCIERGE_ASSIGN_OR_RETURN(EcCurve curve, need_ec(key));
  std::string why;
  std::optional<Bytes> der = raw_to_der_for(r_s, curve, why);
  if (!der) return Verdict::reject(why);
  return ecdsa_verify(key, md, data, *der);
}

Result<void> check_prehash(ByteView digest) {
  if (digest.size() < 20 || digest.size() > 64) {
    return fail(Errc::kInvalidArgument,
                "a prehashed digest must be 20..64 bytes, got " + std::to_string(digest.size()));
  }
  return {};
}

// RSA common checks: key type and signature length. Returns a rejection when
// the signature cannot be one for this key.
Result<std::optional<Verdict>> rsa_precheck(const PublicKey& key, bool pss, ByteView signature) {
  const KeyType t = key.get() == nullptr ? KeyType::kOther : key.type();
  if (!(t == KeyType::kRsa || (pss && t == KeyType::kRsaPss))) {
    return fail(Errc::kInvalidArgument,
                pss ? "RSA-PSS verification needs an RSA public key"
                    : "RSA PKCS#1 v1.5 verification needs an RSA (not RSA-PSS) public key");
  }
  const auto size = static_cast<std::size_t>(EVP_PKEY_get_size(key.get()));
  if (signature.size() != size) {
    return std::optional<Verdict>(Verdict::reject("RSA signature is " +
                                                  std::to_string(signature.size()) +
                                                  " bytes, the key needs " + std::to_string(size)));
  }
  return std::optional<Verdict>();
}

int salt_value(PssSalt salt) {
  return salt == PssSalt::kAuto ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST;
}

Result<Verdict> rsa_verify(const PublicKey& key, HashAlg alg, ByteView data, ByteView signature,
                           bool pss, PssSalt salt, bool prehashed) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Verdict> early, rsa_precheck(key, pss, signature));
  if (early) return *early;
  CONCIERGE_ASSIGN_OR_RETURN(const EVP_MD* md, need_md(alg));
  const int padding = pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
  const char* scheme = pss ? "RSA-PSS" : "RSA PKCS#1 v1.5";
  if (!prehashed) {
    return digest_verify(key.get(), md, data, signature, padding, salt_value(salt), scheme);
  }
  if (data.size() != digest_size(alg)) {
    return fail(Errc::kInvalidArgument, std::string(scheme) + ": prehashed digest must be " +
                                            std::to_string(digest_size(alg)) + " bytes");
  }
  return prehashed_verify(key.get(), md, data, signature, padding, salt_value(salt), scheme);
}

}  // namespace

Result<Verdict> verify_ecdsa_der(const PublicKey& key, HashAlg alg, ByteView message,
                                 ByteView der_signature) {
  CONCIERGE_ASSIGN_OR_RETURN(const EVP_MD* md, need_md(alg));
  return ecdsa_verify(key, md, message, der_signature);
}

Result<Verdict> verify_ecdsa_raw(const PublicKey& key, HashAlg alg, ByteView message,
                                 ByteView r_s) {
  CONCIERGE_ASSIGN_OR_RETURN(const EVP_MD* md, need_md(alg));
  return ecdsa_verify_raw(key, md, message, r_s);
}

Result<Verdict> verify_ecdsa_le(const PublicKey& key, HashAlg alg, ByteView message,
                                ByteView r_s_le, std::size_t component_len) {
  if (component_len == 0 || component_len > 512) {
    return fail(Errc::kInvalidArgument, "ECDSA little-endian component length must be 1..512");
  }
  if (r_s_le.size() != 2 * component_len) {
    return Verdict::reject("ECDSA little-endian signature is " + std::to_string(r_s_le.size()) +
                           " bytes, expected 2 x " + std::to_string(component_len));
  }
  CONCIERGE_ASSIGN_OR_RETURN(Bytes r_s, ecdsa_swap_endianness(r_s_le));
  return verify_ecdsa_raw(key, alg, message, r_s);
}

Result<Verdict> verify_ecdsa_prehashed_der(const PublicKey& key, ByteView digest,
                                           ByteView der_signature) {
  CONCIERGE_RETURN_IF_ERROR(check_prehash(digest));
  return ecdsa_verify(key, nullptr, digest, der_signature);
}

Result<Verdict> verify_ecdsa_prehashed_raw(const PublicKey& key, ByteView digest, ByteView r_s) {
  CONCIERGE_RETURN_IF_ERROR(check_prehash(digest));
  return ecdsa_verify_raw(key, nullptr, digest, r_s);
}

Result<Verdict> verify_rsa_pkcs1(const PublicKey& key, HashAlg alg, ByteView message,
                                 ByteView signature) {
  return rsa_verify(key, alg, message, signature, false, PssSalt::kDigestLength, false);
}

Result<Verdict> verify_rsa_pss(const PublicKey& key, HashAlg alg, ByteView message,
                               ByteView signature, PssSalt salt) {
  return rsa_verify(key, alg, message, signature, true, salt, false);
}

Result<Verdict> verify_rsa_pkcs1_prehashed(const PublicKey& key, HashAlg alg, ByteView digest,
                                           ByteView signature) {
  return rsa_verify(key, alg, digest, signature, false, PssSalt::kDigestLength, true);
}

Result<Verdict> verify_rsa_pss_prehashed(const PublicKey& key, HashAlg alg, ByteView digest,
                                         ByteView signature, PssSalt salt) {
  return rsa_verify(key, alg, digest, signature, true, salt, true);
}

Result<Bytes> ecdsa_raw_to_der(ByteView r, ByteView s) {
  if (r.size() > 1024 || s.size() > 1024) {
    return fail(Errc::kMalformed, "ECDSA r or s is implausibly large");
  }
  ossl::BnPtr rb(BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr));
  ossl::BnPtr sb(BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr));
  ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!rb || !sb || !sig || ECDSA_SIG_set0(sig.get(), rb.get(), sb.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot build an ECDSA signature");
  }
  rb.release();  // now owned by sig
  sb.release();
  unsigned char* buf = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &buf);
  if (len <= 0) return ossl::fail_ossl(Errc::kCrypto, "cannot encode an ECDSA signature");
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t component_len) {
  if (component_len == 0 || component_len > 512) {
    return fail(Errc::kInvalidArgument, "ECDSA component length must be 1..512");
  }
  std::string why;
  ossl::EcdsaSigPtr sig = parse_der_strict(der, component_len, why);
  if (!sig) return fail(Errc::kMalformed, why);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes out(2 * component_len);
  const int n = static_cast<int>(component_len);
  if (BN_bn2binpad(r, out.data(), n) != n || BN_bn2binpad(s, out.data() + n, n) != n) {
    return ossl::fail_ossl(Errc::kInternal, "cannot write ECDSA r || s");
  }
  return out;
}

Result<Bytes> ecdsa_swap_endianness(ByteView r_s) {
  if (r_s.empty() || r_s.size() % 2 != 0) {
    return fail(Errc::kMalformed, "ECDSA r || s must have two halves of equal length");
  }
  Bytes out(r_s.begin(), r_s.end());
  const auto half = static_cast<std::ptrdiff_t>(r_s.size() / 2);
  std::reverse(out.begin(), out.begin() + half);
  std::reverse(out.begin() + half, out.end());
  return out;
}

}  // namespace concierge
