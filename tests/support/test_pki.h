// A throwaway PKI for tests: roots, intermediates, leaves and CRLs, a thin
// layer over the library's issuing API (concierge/core/cert_builder.h). Keys
// are EC P-256 unless a key is given (fast; RSA key generation is slow under
// sanitizers).
//
// Failures inside these helpers are test-infrastructure bugs: they record a
// gtest failure and abort. Not thread-safe (serial numbers come from a counter).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/cert_builder.h"
#include "concierge/core/private_key.h"
#include "concierge/core/x509.h"

namespace concierge::testing {

struct Validity {
  TimePoint not_before;
  TimePoint not_after;
};
// [now + from, now + to]; e.g. valid_for(-std::chrono::hours(1), std::chrono::hours(24)).
Validity valid_for(std::chrono::seconds from, std::chrono::seconds to);
// One hour ago to thirty days from now.
Validity valid_now();

// { oid (dotted), der_value (the extnValue contents), critical }.
using CustomExtension = concierge::CustomExtension;

struct CertOptions {
  std::string common_name;
  Validity validity = valid_now();
  std::vector<CustomExtension> extensions;
  // Serial number; a fresh one (unique in the process) when unset.
  std::optional<std::uint64_t> serial;
  // Leaf certificates only: the keyUsage extension as an OpenSSL
  // configuration value, e.g. "critical,keyEncipherment" (a TPM EK);
  // empty means "critical,digitalSignature".
  std::string leaf_key_usage = {};
  // An empty subject name (no O, no CN), as many TPM EK certificates have:
  // their identity is in a critical subjectAltName.
  bool empty_subject = false;
};

// A certificate together with its private key, so it can issue others.
struct Issued {
  Certificate cert;
  PrivateKey key;
};

// Self-signed CA (basicConstraints CA:TRUE, keyUsage keyCertSign+cRLSign).
Issued make_root(const CertOptions& options);
// CA certificate signed by `issuer`.
Issued make_intermediate(const Issued& issuer, const CertOptions& options);
// End-entity certificate (CA:FALSE, digitalSignature) signed by `issuer`.
Issued make_leaf(const Issued& issuer, const CertOptions& options);
// Same, with a given key (e.g. an RSA key).
Issued make_root(const CertOptions& options, PrivateKey key);
Issued make_leaf(const Issued& issuer, const CertOptions& options, PrivateKey key);

// A v2 CRL signed by `issuer` listing the given serials as revoked.
Crl make_crl(const Issued& issuer, const std::vector<std::uint64_t>& revoked_serials,
             Validity validity = valid_now());

// The serial of a certificate made here, as a number.
std::uint64_t serial_of(const Certificate& cert);

// PEM text of a certificate.
std::string to_pem(const Certificate& cert);

// The DER of a subjectAltName (GeneralNames) holding one directoryName whose
// attributes are the given (dotted OID, UTF8String value) pairs, each its own
// RDN, in order: what TPM EK certificates carry (TCG EK Credential Profile).
Bytes directory_name_san(const std::vector<std::pair<std::string, std::string>>& attributes);

}  // namespace concierge::testing
