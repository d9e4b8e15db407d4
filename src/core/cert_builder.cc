// Certificate and CRL issuing through OpenSSL 3's X509 / X509_CRL builders.
#include "concierge/core/cert_builder.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <climits>
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "core/ossl_util.h"

namespace concierge {
namespace {

using AsnIntPtr = ossl::Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using AsnObjPtr = ossl::Ptr<ASN1_OBJECT, ASN1_OBJECT_free>;
using AsnOctetsPtr = ossl::Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using AsnBitsPtr = ossl::Ptr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using AsnTimePtr = ossl::Ptr<ASN1_TIME, ASN1_TIME_free>;
using NamePtr = ossl::Ptr<X509_NAME, X509_NAME_free>;
using ExtPtr = ossl::Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using BasicPtr = ossl::Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using AkidPtr = ossl::Ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using RevokedPtr = ossl::Ptr<X509_REVOKED, X509_REVOKED_free>;

constexpr std::uint16_t kAllKeyUsage = (1u << 9) - 1;

int nid_of(NameAttribute a) {
  switch (a) {
    case NameAttribute::kCommonName:
      return NID_commonName;
    case NameAttribute::kOrganization:
      return NID_organizationName;
    case NameAttribute::kOrganizationalUnit:
      return NID_organizationalUnitName;
    case NameAttribute::kCountry:
      return NID_countryName;
    case NameAttribute::kLocality:
      return NID_localityName;
    case NameAttribute::kState:
      return NID_stateOrProvinceName;
  }
  return NID_undef;
}

Result<AsnIntPtr> integer_of(ByteView magnitude, const char* what) {
  if (magnitude.size() > INT_MAX)
    return fail(Errc::kInvalidArgument, std::string(what) + " too long");
  ossl::BnPtr bn(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
  AsnIntPtr out(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!out) return ossl::fail_ossl(Errc::kCrypto, std::string("cannot encode the ") + what);
  return out;
}

Result<Bytes> random_serial() {
  Bytes s(16);
  if (RAND_bytes(s.data(), static_cast<int>(s.size())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot draw a random serial number");
  }
  s[0] &= 0x7F;
  return s;
}

Result<AsnTimePtr> time_of(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  AsnTimePtr out(ASN1_TIME_set(nullptr, static_cast<time_t>(secs)));
  if (!out) return ossl::fail_ossl(Errc::kInvalidArgument, "time out of the X.509 range");
  return out;
}

Result<NamePtr> name_of(const DistinguishedName& dn) {
  NamePtr name(X509_NAME_new());
  if (!name) return ossl::fail_ossl(Errc::kCrypto, "X509_NAME_new");
  for (const NameEntry& e : dn) {
    if (e.value.size() > INT_MAX ||
        X509_NAME_add_entry_by_NID(name.get(), nid_of(e.attribute), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(e.value.data()),
                                   static_cast<int>(e.value.size()), -1, 0) != 1) {
      return ossl::fail_ossl(Errc::kInvalidArgument, "bad name attribute '" + e.value + "'");
    }
  }
  return name;
}

Result<SignatureScheme> scheme_for(const std::optional<SignatureScheme>& wanted,
                                   const PrivateKey& key) {
  if (!wanted) return default_signature_scheme(key);
  const KeyType type = key.type();
  switch (*wanted) {
    case SignatureScheme::kEcdsaSha256:
    case SignatureScheme::kEcdsaSha384:
      if (type != KeyType::kEc) return fail(Errc::kInvalidArgument, "ECDSA needs an EC key");
      break;
    case SignatureScheme::kRsaPkcs1Sha256:
    case SignatureScheme::kRsaPkcs1Sha384:
      if (type != KeyType::kRsa) {
        return fail(Errc::kInvalidArgument, "RSA PKCS#1 v1.5 needs an (unrestricted) RSA key");
      }
      break;
    case SignatureScheme::kRsaPssSha256:
    case SignatureScheme::kRsaPssSha384:
      if (type != KeyType::kRsa && type != KeyType::kRsaPss) {
        return fail(Errc::kInvalidArgument, "RSA-PSS needs an RSA key");
      }
      break;
  }
  return *wanted;
}

HashAlg hash_of(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::kEcdsaSha256:
    case SignatureScheme::kRsaPkcs1Sha256:
    case SignatureScheme::kRsaPssSha256:
      return HashAlg::kSha256;
    case SignatureScheme::kEcdsaSha384:
    case SignatureScheme::kRsaPkcs1Sha384:
    case SignatureScheme::kRsaPssSha384:
      break;
  }
  return HashAlg::kSha384;
}

bool is_pss(SignatureScheme s) {
  return s == SignatureScheme::kRsaPssSha256 || s == SignatureScheme::kRsaPssSha384;
}

// A signing context for X509_sign_ctx / X509_CRL_sign_ctx; for PSS it carries
// the padding parameters, which OpenSSL writes into the AlgorithmIdentifier.
Result<ossl::MdCtxPtr> sign_context(const std::optional<SignatureScheme>& wanted,
                                    const PrivateKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(const SignatureScheme scheme, scheme_for(wanted, key));
  const HashAlg alg = hash_of(scheme);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, ossl::md_name(alg), nullptr, nullptr,
                                    key.get(), nullptr) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set up signing");
  }
  if (is_pss(scheme) &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, ossl::md_name(alg), nullptr) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, static_cast<int>(digest_size(alg))) != 1)) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot set the RSA-PSS parameters");
  }
  return ctx;
}

// SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2 (1)).
Result<AsnOctetsPtr> key_id_of(const X509* cert) {
  const EVP_MD* sha1 = ossl::md_for(HashAlg::kSha1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  AsnOctetsPtr id(ASN1_OCTET_STRING_new());
  if (sha1 == nullptr || !id || X509_pubkey_digest(cert, sha1, md, &len) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), md, static_cast<int>(len)) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot compute a key identifier");
  }
  return id;
}

// The issuer's subjectKeyIdentifier, else the hash of its key.
Result<AsnOctetsPtr> authority_key_id_of(const X509* issuer) {
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(issuer))) {
    AsnOctetsPtr id(ASN1_OCTET_STRING_dup(ski));
    if (!id) return ossl::fail_ossl(Errc::kCrypto, "ASN1_OCTET_STRING_dup");
    return id;
  }
  ossl::clear_errors();
  return key_id_of(issuer);
}

// `issuer` null: self-signed, the key identifier of `cert` itself (the
// certificate under construction, whose extension cache must not be primed).
Result<AkidPtr> akid_of(const X509* issuer, const X509* cert) {
  CONCIERGE_ASSIGN_OR_RETURN(AsnOctetsPtr id,
                             issuer ? authority_key_id_of(issuer) : key_id_of(cert));
  AkidPtr akid(AUTHORITY_KEYID_new());
  if (!akid) return ossl::fail_ossl(Errc::kCrypto, "AUTHORITY_KEYID_new");
  akid->keyid = id.release();
  return akid;
}

Result<void> add_i2d(X509* x, int nid, void* value, bool critical, const char* what) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return ossl::fail_ossl(Errc::kInvalidArgument, std::string("cannot add ") + what);
  }
  return {};
}

Result<void> add_basic_constraints(X509* x, const BasicConstraints& b) {
  if (b.path_len && (!b.ca || *b.path_len < 0)) {
    return fail(Errc::kInvalidArgument,
                "basicConstraints pathLenConstraint needs CA:TRUE and a value >= 0");
  }
  BasicPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return ossl::fail_ossl(Errc::kCrypto, "BASIC_CONSTRAINTS_new");
  bc->ca = b.ca ? 0xFF : 0;
  if (b.path_len) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, *b.path_len) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "pathLenConstraint");
    }
  }
  return add_i2d(x, NID_basic_constraints, bc.get(), b.critical, "basicConstraints");
}

Result<void> add_key_usage(X509* x, const KeyUsage& ku) {
  if (ku.bits == 0 || (ku.bits & ~kAllKeyUsage) != 0) {
    return fail(Errc::kInvalidArgument, "keyUsage needs at least one of the nine defined bits");
  }
  AsnBitsPtr bits(ASN1_BIT_STRING_new());
  if (!bits) return ossl::fail_ossl(Errc::kCrypto, "ASN1_BIT_STRING_new");
  for (int n = 0; n < 9; ++n) {
    if ((ku.bits & (1u << n)) != 0 && ASN1_BIT_STRING_set_bit(bits.get(), n, 1) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "keyUsage bit");
    }
  }
  return add_i2d(x, NID_key_usage, bits.get(), ku.critical, "keyUsage");
}

Result<void> add_custom(X509* x, const CustomExtension& e) {
  AsnObjPtr obj(OBJ_txt2obj(e.oid.c_str(), 1));
  if (!obj) return ossl::fail_ossl(Errc::kInvalidArgument, "malformed OID '" + e.oid + "'");
  if (X509_get_ext_by_OBJ(x, obj.get(), -1) >= 0) {
    return fail(Errc::kInvalidArgument, "extension " + e.oid + " is given twice");
  }
  AsnOctetsPtr value(ASN1_OCTET_STRING_new());
  if (!value || e.der_value.size() > INT_MAX ||
      ASN1_OCTET_STRING_set(value.get(), e.der_value.data(),
                            static_cast<int>(e.der_value.size())) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "extension value");
  }
  ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), e.critical ? 1 : 0, value.get()));
  if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot add extension " + e.oid);
  }
  return {};
}

Result<void> check_issuer_key(const Certificate& issuer, const PrivateKey& key) {
  if (X509_check_private_key(issuer.get(), key.get()) != 1) {
    ossl::clear_errors();
    return fail(Errc::kInvalidArgument, "the issuer key does not match the issuer certificate");
  }
  return {};
}

std::string pem(std::string_view label, ByteView der) {
  const std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(label) + "-----\n";
}

Result<Certificate> reparse(X509* x) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(x, &der);
  if (len <= 0) return ossl::fail_ossl(Errc::kCrypto, "cannot encode the certificate");
  Result<Certificate> out = Certificate::from_der(ByteView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

// Builds and signs; `issuer` null means self-signed by `signer`.
Result<Certificate> build(const CertSpec& spec, EVP_PKEY* subject_key, const X509* issuer,
                          const PrivateKey& signer) {
  ossl::X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "X509_new");
  }
  Bytes random;
  if (!spec.serial) {
    CONCIERGE_ASSIGN_OR_RETURN(random, random_serial());
  }
  CONCIERGE_ASSIGN_OR_RETURN(AsnIntPtr serial,
                             integer_of(spec.serial ? *spec.serial : random, "serial number"));
  CONCIERGE_ASSIGN_OR_RETURN(NamePtr subject, name_of(spec.subject));
  CONCIERGE_ASSIGN_OR_RETURN(AsnTimePtr not_before, time_of(spec.not_before));
  CONCIERGE_ASSIGN_OR_RETURN(AsnTimePtr not_after, time_of(spec.not_after));
  if (X509_set_serialNumber(x.get(), serial.get()) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : subject.get()) != 1 ||
      X509_set1_notBefore(x.get(), not_before.get()) != 1 ||
      X509_set1_notAfter(x.get(), not_after.get()) != 1 ||
      X509_set_pubkey(x.get(), subject_key) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot fill the certificate");
  }
  if (spec.basic_constraints) {
    CONCIERGE_RETURN_IF_ERROR(add_basic_constraints(x.get(), *spec.basic_constraints));
  }
  if (spec.key_usage) CONCIERGE_RETURN_IF_ERROR(add_key_usage(x.get(), *spec.key_usage));
  if (spec.subject_key_identifier) {
    CONCIERGE_ASSIGN_OR_RETURN(AsnOctetsPtr ski, key_id_of(x.get()));
    CONCIERGE_RETURN_IF_ERROR(
        add_i2d(x.get(), NID_subject_key_identifier, ski.get(), false, "subjectKeyIdentifier"));
  }
  if (spec.authority_key_identifier) {
    CONCIERGE_ASSIGN_OR_RETURN(AkidPtr akid, akid_of(issuer, x.get()));
    CONCIERGE_RETURN_IF_ERROR(add_i2d(x.get(), NID_authority_key_identifier, akid.get(), false,
                                      "authorityKeyIdentifier"));
  }
  for (const CustomExtension& e : spec.extensions) {
    CONCIERGE_RETURN_IF_ERROR(add_custom(x.get(), e));
  }
  CONCIERGE_ASSIGN_OR_RETURN(ossl::MdCtxPtr ctx, sign_context(spec.signature, signer));
  if (X509_sign_ctx(x.get(), ctx.get()) <= 0) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot sign the certificate");
  }
  // Re-parsed so that the result carries no state cached while it was built.
  return reparse(x.get());
}

}  // namespace

Result<SignatureScheme> default_signature_scheme(const PrivateKey& key) {
  switch (key.type()) {
    case KeyType::kEc:
      return key.curve() == EcCurve::kP384 ? SignatureScheme::kEcdsaSha384
                                           : SignatureScheme::kEcdsaSha256;
    case KeyType::kRsa:
      return SignatureScheme::kRsaPkcs1Sha256;
    case KeyType::kRsaPss:
      return SignatureScheme::kRsaPssSha256;
    case KeyType::kOther:
      break;
  }
  return fail(Errc::kInvalidArgument, "the signing key is neither EC nor RSA");
}

Bytes serial_from_u64(std::uint64_t v) {
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    const auto b = static_cast<std::uint8_t>(v >> shift);
    if (b != 0 || !out.empty()) out.push_back(b);
  }
  return out;
}

Result<Certificate> issue_certificate(const CertSpec& spec, const PublicKey& subject_key,
                                      const Certificate& issuer, const PrivateKey& issuer_key) {
  CONCIERGE_RETURN_IF_ERROR(check_issuer_key(issuer, issuer_key));
  return build(spec, subject_key.get(), issuer.get(), issuer_key);
}

Result<Certificate> self_sign_certificate(const CertSpec& spec, const PrivateKey& key) {
  return build(spec, key.get(), nullptr, key);
}

std::string certificate_to_pem(const Certificate& cert) { return pem("CERTIFICATE", cert.der()); }

std::string crl_to_pem(const Crl& crl) { return pem("X509 CRL", crl.der()); }

Result<Crl> issue_crl(const CrlSpec& spec, const Certificate& issuer,
                      const PrivateKey& issuer_key) {
  CONCIERGE_RETURN_IF_ERROR(check_issuer_key(issuer, issuer_key));
  ossl::CrlPtr crl(X509_CRL_new());
  CONCIERGE_ASSIGN_OR_RETURN(AsnTimePtr this_update, time_of(spec.this_update));
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot fill the CRL");
  }
  if (spec.next_update) {
    CONCIERGE_ASSIGN_OR_RETURN(AsnTimePtr next, time_of(*spec.next_update));
    if (X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "CRL nextUpdate");
    }
  }
  for (const RevokedCert& r : spec.revoked) {
    CONCIERGE_ASSIGN_OR_RETURN(AsnIntPtr serial, integer_of(r.serial, "revoked serial number"));
    AsnTimePtr when;
    if (r.revoked_at) {
      CONCIERGE_ASSIGN_OR_RETURN(when, time_of(*r.revoked_at));
    }
    RevokedPtr entry(X509_REVOKED_new());
    if (!entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), when ? when.get() : this_update.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "cannot add a revoked entry");
    }
    entry.release();  // owned by the CRL now
  }
  if (X509_CRL_sort(crl.get()) != 1) return ossl::fail_ossl(Errc::kCrypto, "X509_CRL_sort");
  if (spec.crl_number) {
    CONCIERGE_ASSIGN_OR_RETURN(AsnIntPtr number, integer_of(*spec.crl_number, "CRL number"));
    if (X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) !=
        1) {
      return ossl::fail_ossl(Errc::kCrypto, "cannot add cRLNumber");
    }
  }
  if (spec.authority_key_identifier) {
    CONCIERGE_ASSIGN_OR_RETURN(AkidPtr akid, akid_of(issuer.get(), nullptr));
    if (X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0,
                              X509V3_ADD_DEFAULT) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "cannot add authorityKeyIdentifier");
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(ossl::MdCtxPtr ctx, sign_context(spec.signature, issuer_key));
  if (X509_CRL_sign_ctx(crl.get(), ctx.get()) <= 0) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot sign the CRL");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return ossl::fail_ossl(Errc::kCrypto, "cannot encode the CRL");
  Result<Crl> out = Crl::from_der(ByteView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

}  // namespace concierge
