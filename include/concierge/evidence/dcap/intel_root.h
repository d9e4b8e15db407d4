// The Intel SGX Root CA: the trust anchor of every DCAP endorsement (PCK
// certificates for SGX and TDX quotes, and the TCB Signing certificate that
// signs TCB Info and QE Identity collateral).
//
// Intel "SGX PCK Certificate and Certificate Revocation List Profile
// Specification", "Certificate Hierarchy": Intel SGX Root CA -> Intel SGX PCK
// Platform CA / Intel SGX PCK Processor CA -> PCK certificate, and Intel SGX
// Root CA -> Intel SGX TCB Signing. The root is a self-signed ECDSA P-256
// certificate ("CN = Intel SGX Root CA", valid 2018-05-21 to 2049-12-31).
//
// The certificate is compiled into the binary as PEM text (Intel's published
// IntelSGXRootCA certificate, verbatim); tests/evidence/dcap/intel_root_test.cc
// pins its SHA-256 fingerprint. Another root (Intel's test root used by its
// sample collateral, a pinned copy) is passed to pck_chain.h's functions
// instead.
//
// Ownership and thread safety: intel_sgx_root_ca() is parsed once, on first
// use, and may be read from any thread (a Certificate shares an immutable
// OpenSSL object).
#pragma once

#include <string_view>

#include "concierge/core/x509.h"

namespace concierge::evidence::dcap {

// SHA-256 of the built-in root's DER, lowercase hex.
inline constexpr std::string_view kIntelSgxRootCaSha256 =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

// The PEM text compiled in.
std::string_view intel_sgx_root_ca_pem();

// The built-in Intel SGX Root CA (a malformed built-in certificate is a build
// defect: the process aborts).
const Certificate& intel_sgx_root_ca();

}  // namespace concierge::evidence::dcap
