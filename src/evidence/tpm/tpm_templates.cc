// The TCG default EK templates (EK Credential Profile 2.0, B.3.3 L-1 and
// B.3.4 L-2), an AK template, and the EK public area a template gives a key.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "concierge/evidence/tpm/tpm_public.h"
#include "evidence/tpm/mu.h"

namespace concierge::evidence::tpm {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

// A public BIGNUM parameter of `key`, big-endian, left-padded to `size`.
Result<Bytes> bn_param(const PublicKey& key, const char* param, std::size_t size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), param, &raw) != 1) {
    return fail(Errc::kCrypto, std::string("cannot read the key's ") + param);
  }
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  Bytes out(size);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size)) != static_cast<int>(size)) {
    return fail(Errc::kUnsupported, std::string("the key's ") + param + " does not fit " +
                                        std::to_string(size) + " bytes");
  }
  return out;
}

void copy_into(ByteView from, std::uint8_t* to) {
  if (!from.empty()) std::memcpy(to, from.data(), from.size());
}

}  // namespace

TPM2B_PUBLIC ek_template(EkTemplate which) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kEkAttributes;
  p.authPolicy.size = sizeof kEkPolicyASha256;
  std::memcpy(p.authPolicy.buffer, kEkPolicyASha256, sizeof kEkPolicyASha256);
  TPMT_SYM_DEF_OBJECT sym{};
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = 128;
  sym.mode.aes = TPM2_ALG_CFB;
  if (which == EkTemplate::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& r = p.parameters.rsaDetail;
    r.symmetric = sym;
    r.scheme.scheme = TPM2_ALG_NULL;
    r.keyBits = 2048;
    r.exponent = 0;
    p.unique.rsa.size = 256;  // zeros
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& e = p.parameters.eccDetail;
    e.symmetric = sym;
    e.scheme.scheme = TPM2_ALG_NULL;
    e.curveID = TPM2_ECC_NIST_P256;
    e.kdf.scheme = TPM2_ALG_NULL;
    p.unique.ecc.x.size = 32;  // zeros
    p.unique.ecc.y.size = 32;
  }
  return t;
}

TPM2B_PUBLIC ak_template(AkTemplate which) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kAkAttributes;
  if (which == AkTemplate::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& r = p.parameters.rsaDetail;
    r.symmetric.algorithm = TPM2_ALG_NULL;
    r.scheme.scheme = TPM2_ALG_RSASSA;
    r.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    r.keyBits = 2048;
    r.exponent = 0;
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& e = p.parameters.eccDetail;
    e.symmetric.algorithm = TPM2_ALG_NULL;
    e.scheme.scheme = TPM2_ALG_ECDSA;
    e.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    e.curveID = TPM2_ECC_NIST_P256;
    e.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

Result<TpmPublic> ek_public_from_key(const PublicKey& ek_key) {
  TPM2B_PUBLIC t{};
  switch (ek_key.type()) {
    case KeyType::kRsa: {
      if (ek_key.bits() != 2048) {
        return fail(Errc::kUnsupported, "EK key: RSA " + std::to_string(ek_key.bits()) +
                                            " has no default EK template (RSA 2048 only)");
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes e, bn_param(ek_key, OSSL_PKEY_PARAM_RSA_E, 4));
      if (e != Bytes{0x00, 0x01, 0x00, 0x01}) {
        return fail(Errc::kUnsupported, "EK key: the default EK template has exponent 65537");
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes n, bn_param(ek_key, OSSL_PKEY_PARAM_RSA_N, 256));
      t = ek_template(EkTemplate::kRsa2048);
      copy_into(n, t.publicArea.unique.rsa.buffer);
      break;
    }
    case KeyType::kEc: {
      if (ek_key.curve() != EcCurve::kP256) {
        return fail(Errc::kUnsupported,
                    "EK key: only NIST P-256 has a default (low range) EK template");
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes x, bn_param(ek_key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
      CONCIERGE_ASSIGN_OR_RETURN(Bytes y, bn_param(ek_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
      t = ek_template(EkTemplate::kEccP256);
      copy_into(x, t.publicArea.unique.ecc.x.buffer);
      copy_into(y, t.publicArea.unique.ecc.y.buffer);
      break;
    }
    default:
      return fail(Errc::kUnsupported, "EK key: neither RSA nor EC");
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      Bytes tpmt, mu::marshal(&Tss2_MU_TPMT_PUBLIC_Marshal, t.publicArea, "TPMT_PUBLIC"));
  return parse_tpm_public(tpmt);
}

}  // namespace concierge::evidence::tpm
