#include "support/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

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

template <typename T>
T must_value(Result<T> r, const char* what) {
  if (!r) {
    ADD_FAILURE() << "test_pki: " << what << ": " << r.error().to_string();
    std::fprintf(stderr, "test_pki: %s: %s\n", what, r.error().to_string().c_str());
    std::abort();
  }
  return std::move(r).value();
}

// An OpenSSL configuration value such as "critical,keyEncipherment" (the form
// CertOptions::leaf_key_usage takes) as a KeyUsage.
KeyUsage parse_key_usage(const std::string& text) {
  static const std::pair<const char*, std::uint16_t> kNames[] = {
      {"digitalSignature", key_usage::kDigitalSignature},
      {"nonRepudiation", key_usage::kNonRepudiation},
      {"keyEncipherment", key_usage::kKeyEncipherment},
      {"dataEncipherment", key_usage::kDataEncipherment},
      {"keyAgreement", key_usage::kKeyAgreement},
      {"keyCertSign", key_usage::kKeyCertSign},
      {"cRLSign", key_usage::kCrlSign},
      {"encipherOnly", key_usage::kEncipherOnly},
      {"decipherOnly", key_usage::kDecipherOnly},
  };
  KeyUsage ku{0, false};
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    std::string word = text.substr(pos, comma - pos);
    std::erase(word, ' ');
    pos = comma + 1;
    if (word.empty()) continue;
    if (word == "critical") {
      ku.critical = true;
      continue;
    }
    bool known = false;
    for (const auto& [name, bit] : kNames) {
      if (word == name) {
        ku.bits |= bit;
        known = true;
      }
    }
    must(known, "unknown keyUsage name in leaf_key_usage");
  }
  return ku;
}

DistinguishedName subject_of(const CertOptions& o) {
  if (o.empty_subject) return {};
  return {{NameAttribute::kOrganization, "Concierge Test"},
          {NameAttribute::kCommonName, o.common_name}};
}

// The signature every certificate and CRL made here carries: SHA-256 with
// ECDSA, or with RSA PKCS#1 v1.5 for an RSA issuer.
SignatureScheme scheme_of(const PrivateKey& signer) {
  return signer.type() == KeyType::kEc ? SignatureScheme::kEcdsaSha256
                                       : SignatureScheme::kRsaPkcs1Sha256;
}

enum class Kind { kRoot, kCa, kLeaf };

Issued build(const Issued* issuer, const CertOptions& o, PrivateKey key, Kind kind) {
  CertSpec spec;
  spec.subject = subject_of(o);
  spec.serial = serial_from_u64(o.serial.value_or(next_serial()));
  spec.not_before = o.validity.not_before;
  spec.not_after = o.validity.not_after;
  spec.basic_constraints = BasicConstraints{kind != Kind::kLeaf, std::nullopt, true};
  spec.key_usage = kind == Kind::kLeaf
                       ? (o.leaf_key_usage.empty() ? KeyUsage{key_usage::kDigitalSignature, true}
                                                   : parse_key_usage(o.leaf_key_usage))
                       : KeyUsage{key_usage::kKeyCertSign | key_usage::kCrlSign, true};
  spec.subject_key_identifier = true;
  spec.authority_key_identifier = issuer != nullptr;
  spec.extensions = o.extensions;
  spec.signature = scheme_of(issuer ? issuer->key : key);
  if (issuer == nullptr) {
    Certificate cert = must_value(self_sign_certificate(spec, key), "self_sign_certificate");
    return Issued{std::move(cert), std::move(key)};
  }
  PublicKey pub = must_value(key.public_key(), "public_key");
  Certificate cert =
      must_value(issue_certificate(spec, pub, issuer->cert, issuer->key), "issue_certificate");
  return Issued{std::move(cert), std::move(key)};
}

PrivateKey fresh_key() {
  return must_value(PrivateKey::generate_ec(EcCurve::kP256), "generate_ec");
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
  CrlSpec spec;
  spec.this_update = validity.not_before;
  spec.next_update = validity.not_after;
  for (std::uint64_t serial : revoked_serials) {
    spec.revoked.push_back(RevokedCert{serial_from_u64(serial), std::nullopt});
  }
  spec.signature = scheme_of(issuer.key);
  return must_value(issue_crl(spec, issuer.cert, issuer.key), "issue_crl");
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

std::string to_pem(const Certificate& cert) { return certificate_to_pem(cert); }

}  // namespace concierge::testing
