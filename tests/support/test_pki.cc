#include "support/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>

namespace concierge::testing {
namespace {

void must(bool ok, const char* what) {
  if (ok) return;
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ADD_FAILURE() << "test_pki: " << what << ": " << buf;
  std::fprintf(stderr, "test_pki: %s: %s\n", what, buf);
  std::abort();
}

std::uint64_t next_serial() {
  static std::uint64_t counter = 0x1000;
  return ++counter;
}

std::time_t to_time_t(TimePoint t) { return std::chrono::system_clock::to_time_t(t); }

void set_time(ASN1_TIME* field, TimePoint t) {
  must(ASN1_TIME_set(field, to_time_t(t)) != nullptr, "ASN1_TIME_set");
}

void add_conf_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  must(ext != nullptr, "X509V3_EXT_conf_nid");
  must(X509_add_ext(x, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

void add_custom_ext(X509* x, const CustomExtension& e) {
  ASN1_OBJECT* obj = OBJ_txt2obj(e.oid.c_str(), 1);
  must(obj != nullptr, "OBJ_txt2obj");
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  must(value != nullptr && ASN1_OCTET_STRING_set(value, e.der_value.data(),
                                                 static_cast<int>(e.der_value.size())) == 1,
       "ASN1_OCTET_STRING_set");
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, e.critical ? 1 : 0, value);
  must(ext != nullptr && X509_add_ext(x, ext, -1) == 1, "custom extension");
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(value);
  ASN1_OBJECT_free(obj);
}

enum class Kind { kRoot, kCa, kLeaf };

Issued build(const Issued* issuer, const CertOptions& o, PrivateKey key, Kind kind) {
  X509* x = X509_new();
  must(x != nullptr && X509_set_version(x, 2) == 1, "X509_new");
  must(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), o.serial.value_or(next_serial())) == 1,
       "serial");
  X509_NAME* name = X509_NAME_new();
  must(name != nullptr, "X509_NAME_new");
  must(o.empty_subject ||
           (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>("Concierge Test"), -1,
                                       -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(
                name, "CN", MBSTRING_UTF8,
                reinterpret_cast<const unsigned char*>(o.common_name.c_str()), -1, -1, 0) == 1),
       "subject name");
  must(X509_set_subject_name(x, name) == 1, "X509_set_subject_name");
  must(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : name) == 1,
       "X509_set_issuer_name");
  X509_NAME_free(name);
  set_time(X509_getm_notBefore(x), o.validity.not_before);
  set_time(X509_getm_notAfter(x), o.validity.not_after);
  must(X509_set_pubkey(x, key.get()) == 1, "X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
  if (kind == Kind::kLeaf) {
    add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_conf_ext(x, &ctx, NID_key_usage,
                 o.leaf_key_usage.empty() ? "critical,digitalSignature" : o.leaf_key_usage.c_str());
  } else {
    add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_conf_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
  for (const CustomExtension& e : o.extensions) add_custom_ext(x, e);

  EVP_PKEY* signer = issuer ? issuer->key.get() : key.get();
  must(X509_sign(x, signer, EVP_sha256()) > 0, "X509_sign");
  return Issued{Certificate::adopt(x), std::move(key)};
}

PrivateKey fresh_key() {
  Result<PrivateKey> key = PrivateKey::generate_ec(EcCurve::kP256);
  must(key.has_value(), "generate_ec");
  return std::move(key).value();
}

}  // namespace

Validity valid_for(std::chrono::seconds from, std::chrono::seconds to) {
  const TimePoint now = std::chrono::system_clock::now();
  return Validity{now + from, now + to};
}

Validity valid_now() { return valid_for(-std::chrono::hours(1), std::chrono::hours(24 * 30)); }

Issued make_root(const CertOptions& options) { return make_root(options, fresh_key()); }

Issued make_root(const CertOptions& options, PrivateKey key) {
  return build(nullptr, options, std::move(key), Kind::kRoot);
}

Issued make_intermediate(const Issued& issuer, const CertOptions& options) {
  return build(&issuer, options, fresh_key(), Kind::kCa);
}

Issued make_leaf(const Issued& issuer, const CertOptions& options) {
  return make_leaf(issuer, options, fresh_key());
}

Issued make_leaf(const Issued& issuer, const CertOptions& options, PrivateKey key) {
  return build(&issuer, options, std::move(key), Kind::kLeaf);
}

Crl make_crl(const Issued& issuer, const std::vector<std::uint64_t>& revoked_serials,
             Validity validity) {
  X509_CRL* crl = X509_CRL_new();
  must(crl != nullptr && X509_CRL_set_version(crl, 1) == 1, "X509_CRL_new");
  must(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.cert.get())) == 1, "CRL issuer");
  ASN1_TIME* last = ASN1_TIME_new();
  ASN1_TIME* next = ASN1_TIME_new();
  must(last != nullptr && next != nullptr, "ASN1_TIME_new");
  set_time(last, validity.not_before);
  set_time(next, validity.not_after);
  must(X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1,
       "CRL times");
  for (std::uint64_t serial : revoked_serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    must(r != nullptr && s != nullptr && ASN1_INTEGER_set_uint64(s, serial) == 1 &&
             X509_REVOKED_set_serialNumber(r, s) == 1 &&
             X509_REVOKED_set_revocationDate(r, last) == 1 && X509_CRL_add0_revoked(crl, r) == 1,
         "revoked entry");
    ASN1_INTEGER_free(s);
  }
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  must(X509_CRL_sort(crl) == 1, "X509_CRL_sort");
  must(X509_CRL_sign(crl, issuer.key.get(), EVP_sha256()) > 0, "X509_CRL_sign");
  return Crl::adopt(crl);
}

std::uint64_t serial_of(const Certificate& cert) {
  std::uint64_t v = 0;
  must(ASN1_INTEGER_get_uint64(&v, X509_get0_serialNumber(cert.get())) == 1, "serial_of");
  return v;
}

Bytes directory_name_san(const std::vector<std::pair<std::string, std::string>>& attributes) {
  X509_NAME* name = X509_NAME_new();
  must(name != nullptr, "X509_NAME_new");
  for (const auto& [oid, value] : attributes) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    must(obj != nullptr &&
             X509_NAME_add_entry_by_OBJ(name, obj, V_ASN1_UTF8STRING,
                                        reinterpret_cast<const unsigned char*>(value.c_str()),
                                        static_cast<int>(value.size()), -1, 0) == 1,
         "directoryName attribute");
    ASN1_OBJECT_free(obj);
  }
  GENERAL_NAME* gn = GENERAL_NAME_new();
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  must(gn != nullptr && names != nullptr, "GENERAL_NAME_new");
  GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);  // gn owns name
  must(sk_GENERAL_NAME_push(names, gn) > 0, "sk_GENERAL_NAME_push");
  unsigned char* der = nullptr;
  const int len = i2d_GENERAL_NAMES(names, &der);
  must(len > 0, "i2d_GENERAL_NAMES");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  GENERAL_NAMES_free(names);
  return out;
}

std::string to_pem(const Certificate& cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  must(bio != nullptr && PEM_write_bio_X509(bio, cert.get()) == 1, "PEM_write_bio_X509");
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  std::string out(p, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

}  // namespace concierge::testing
