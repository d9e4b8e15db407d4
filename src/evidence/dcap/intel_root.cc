// Intel's SGX Root CA, compiled in.
//
// The PEM text below is Intel's published Intel SGX Root CA certificate (the
// "Intel SGX Provisioning Certification Root CA" that Intel distributes from
// certificates.trustedservices.intel.com; also the last certificate of every
// production PCK chain in a quote), verbatim.
// tests/evidence/dcap/intel_root_test.cc pins its SHA-256 fingerprint.
#include "concierge/evidence/dcap/intel_root.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace concierge::evidence::dcap {
namespace {

// clang-format off
constexpr std::string_view kIntelSgxRootCaPem = R"pem(-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
)pem";
// clang-format on

}  // namespace

std::string_view intel_sgx_root_ca_pem() { return kIntelSgxRootCaPem; }

const Certificate& intel_sgx_root_ca() {
  static const Certificate root = [] {
    Result<Certificate> c = Certificate::from_pem(kIntelSgxRootCaPem);
    if (!c || !c->self_signed()) {
      std::fprintf(stderr, "concierge: the built-in Intel SGX Root CA is malformed: %s\n",
                   c ? "not self-signed" : c.error().to_string().c_str());
      std::abort();
    }
    return std::move(c).value();
  }();
  return root;
}

}  // namespace concierge::evidence::dcap
