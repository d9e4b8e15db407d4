// Issuing X.509 certificates and CRLs with OpenSSL 3: the certificate
// authority half of x509.h, for evidence simulators (a software AMD secure
// processor, a software TPM's EK issuer) and tests. Not a production CA: no
// policy checks beyond well-formedness, keys come from PrivateKey (in memory).
//
// Certificates are X.509 v3 (RFC 5280 section 4.1); CRLs are v2 (RFC 5280
// section 5.1). The issuer name is the issuer certificate's subject (or the
// subject itself when self-signed). Extensions are written in this order:
// basicConstraints, keyUsage, subjectKeyIdentifier, authorityKeyIdentifier,
// then the custom ones as given; each is optional.
//
// Signatures: ECDSA (SHA-256, SHA-384), RSA PKCS#1 v1.5 (SHA-256, SHA-384) and
// RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest
// (RFC 4055; SHA-384 / MGF1-SHA-384 / salt 48 is what AMD's ARK, ASK and ASVK
// use, AMD #57230). The signature algorithm must suit the signing key.
//
// Outcomes: kInvalidArgument for an unusable request (a malformed OID, an
// extension given twice, a signature scheme the key cannot make, an issuer key
// that does not match the issuer certificate, a bad name attribute such as a
// country that is not two letters); kCrypto when OpenSSL fails otherwise.
// Thread safety: every function is thread-safe (keys are only read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"

namespace concierge {

// Attribute types of a distinguished name (RFC 5280 section 4.1.2.4). The
// country is written as a PrintableString of two letters, the others as
// UTF8String.
enum class NameAttribute {
  kCommonName,          // CN, 2.5.4.3
  kOrganization,        // O, 2.5.4.10
  kOrganizationalUnit,  // OU, 2.5.4.11
  kCountry,             // C, 2.5.4.6
  kLocality,            // L, 2.5.4.7
  kState,               // ST, 2.5.4.8
};

struct NameEntry {
  NameAttribute attribute;
  std::string value;  // UTF-8
};

// The attributes in the order given, each its own RDN. Empty: an empty name
// (allowed for a subject when a critical subjectAltName carries the identity,
// RFC 5280 section 4.1.2.6).
using DistinguishedName = std::vector<NameEntry>;

enum class SignatureScheme {
  kEcdsaSha256,
  kEcdsaSha384,
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPssSha256,  // MGF1-SHA-256, salt 32
  kRsaPssSha384,  // MGF1-SHA-384, salt 48
};

// The default for a signing key: ECDSA with SHA-256 (P-256) or SHA-384
// (P-384); RSA PKCS#1 v1.5 SHA-256; PSS SHA-256 for a PSS-restricted RSA key.
Result<SignatureScheme> default_signature_scheme(const PrivateKey& key);

// keyUsage bits (RFC 5280 section 4.2.1.3): bit n of the mask is KeyUsage bit n.
namespace key_usage {
inline constexpr std::uint16_t kDigitalSignature = 1u << 0;
inline constexpr std::uint16_t kNonRepudiation = 1u << 1;
inline constexpr std::uint16_t kKeyEncipherment = 1u << 2;
inline constexpr std::uint16_t kDataEncipherment = 1u << 3;
inline constexpr std::uint16_t kKeyAgreement = 1u << 4;
inline constexpr std::uint16_t kKeyCertSign = 1u << 5;
inline constexpr std::uint16_t kCrlSign = 1u << 6;
inline constexpr std::uint16_t kEncipherOnly = 1u << 7;
inline constexpr std::uint16_t kDecipherOnly = 1u << 8;
}  // namespace key_usage

struct KeyUsage {
  std::uint16_t bits = 0;  // non-empty, key_usage:: bits only
  bool critical = true;
};

// basicConstraints (RFC 5280 section 4.2.1.9). path_len only with ca, >= 0.
struct BasicConstraints {
  bool ca = false;
  std::optional<int> path_len;
  bool critical = true;
};

// Any extension, written as given: `der_value` becomes the extnValue contents
// and is not checked (it may deliberately be malformed, or not DER at all).
struct CustomExtension {
  std::string oid;  // dotted, e.g. "1.3.6.1.4.1.3704.1.3.1"
  Bytes der_value;
  bool critical = false;
};

struct CertSpec {
  DistinguishedName subject;
  // The serial number's magnitude, big-endian (leading zeros ignored; empty
  // means zero). Any non-negative value, including 0 (RFC 5280 wants a
  // positive serial; AMD's VCEKs carry 0). Unset: 16 random bytes with the
  // top bit clear.
  std::optional<Bytes> serial;
  TimePoint not_before;  // UTCTime through 2049, GeneralizedTime after
  TimePoint not_after;
  std::optional<BasicConstraints> basic_constraints;
  std::optional<KeyUsage> key_usage;
  // SHA-1 of the subjectPublicKey bits (RFC 5280 section 4.2.1.2, method 1).
  bool subject_key_identifier = true;
  // keyIdentifier only: the issuer's subjectKeyIdentifier, or, when it has
  // none, its key's SHA-1 as above. For a self-signed certificate, the
  // certificate's own key.
  bool authority_key_identifier = true;
  std::vector<CustomExtension> extensions;
  // Unset: default_signature_scheme(signing key).
  std::optional<SignatureScheme> signature;
};

// The minimal big-endian magnitude of `v` (empty for 0), for CertSpec::serial.
Bytes serial_from_u64(std::uint64_t v);

// A certificate for `subject_key`, issued and signed by `issuer_key`, the key
// of `issuer` (checked: kInvalidArgument when they do not match).
Result<Certificate> issue_certificate(const CertSpec& spec, const PublicKey& subject_key,
                                      const Certificate& issuer, const PrivateKey& issuer_key);

// A self-signed certificate for `key` (issuer = subject).
Result<Certificate> self_sign_certificate(const CertSpec& spec, const PrivateKey& key);

struct RevokedCert {
  Bytes serial;                         // as CertSpec::serial
  std::optional<TimePoint> revoked_at;  // unset: the CRL's this_update
};

struct CrlSpec {
  TimePoint this_update;
  std::optional<TimePoint> next_update;
  std::vector<RevokedCert> revoked;  // written sorted by serial
  // cRLNumber (RFC 5280 section 5.2.3), a non-negative integer magnitude as
  // CertSpec::serial. Unset: no extension.
  std::optional<Bytes> crl_number;
  // authorityKeyIdentifier as for certificates (RFC 5280 section 5.2.1).
  bool authority_key_identifier = false;
  std::optional<SignatureScheme> signature;
};

// PEM text ("-----BEGIN CERTIFICATE-----" / "X509 CRL", base64 in 64-column
// lines, RFC 7468) of a certificate or CRL, e.g. to save what was issued.
std::string certificate_to_pem(const Certificate& cert);
std::string crl_to_pem(const Crl& crl);

// A v2 CRL issued by `issuer` and signed by `issuer_key` (which must match).
Result<Crl> issue_crl(const CrlSpec& spec, const Certificate& issuer, const PrivateKey& issuer_key);

}  // namespace concierge
