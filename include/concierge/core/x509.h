// X.509 certificates, CRLs and chain verification through OpenSSL 3.
//
// Ownership: Certificate and Crl each hold one reference to an immutable
// OpenSSL object (X509*, X509_CRL*). Copying takes another reference
// (X509_up_ref / X509_CRL_up_ref), so copies are cheap and share the parsed
// object; the destructor drops the reference. get() lends the pointer.
// Thread safety: const member functions may be called concurrently on the same
// object; verify_chain is thread-safe (it builds its own store per call).
//
// Outcomes: parsing fails with an Error (kMalformed, kTrailingData); a chain
// that does not verify is a ChainVerdict with accepted == false and a reason.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge {

using TimePoint = std::chrono::system_clock::time_point;

class Certificate {
 public:
  // One DER certificate; the whole input must be that certificate.
  static Result<Certificate> from_der(ByteView der);
  // The first "CERTIFICATE" block of a PEM text (text before it is skipped).
  static Result<Certificate> from_pem(std::string_view pem);
  // Every "CERTIFICATE" block, in order. Fails if there is none, or if any
  // block is malformed. Other PEM blocks (keys, CRLs) are skipped.
  static Result<std::vector<Certificate>> from_pem_bundle(std::string_view pem);
  // Takes ownership of one reference to `x509` (non-null).
  static Certificate adopt(X509* x509);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&& other) noexcept;
  Certificate& operator=(Certificate&& other) noexcept;
  ~Certificate();

  // Distinguished names on one line, OpenSSL "oneline" style with UTF-8 kept:
  // "C = US, O = Example, CN = Root".
  std::string subject() const;
  std::string issuer() const;
  // Serial number: lowercase hex of its magnitude, two digits per byte, as
  // `openssl x509 -serial` prints it ("00" for zero); a negative serial
  // (invalid, but seen in the wild) gets a leading "-".
  std::string serial_hex() const;
  TimePoint not_before() const;
  TimePoint not_after() const;
  std::int64_t not_before_unix() const;
  std::int64_t not_after_unix() const;
  bool self_signed() const;  // issuer == subject and its own key verifies it

  Result<PublicKey> public_key() const;
  Bytes fingerprint_sha256() const;  // SHA-256 of der()
  Bytes der() const;

  // The extnValue (the contents of the OCTET STRING, i.e. the DER of the
  // extension's value) of the extension with the dotted OID, e.g.
  // "1.3.6.1.4.1.3704.1.3.1". kNotFound when absent; kInvalidArgument for a
  // malformed OID string; kMalformed if the OID occurs more than once.
  Result<Bytes> extension(std::string_view dotted_oid) const;

  X509* get() const { return x509_; }

 private:
  explicit Certificate(X509* x509) : x509_(x509) {}
  X509* x509_;
};

class Crl {
 public:
  static Result<Crl> from_der(ByteView der);          // whole input
  static Result<Crl> from_pem(std::string_view pem);  // first "X509 CRL" block
  static Crl adopt(X509_CRL* crl);

  Crl(const Crl& other);
  Crl& operator=(const Crl& other);
  Crl(Crl&& other) noexcept;
  Crl& operator=(Crl&& other) noexcept;
  ~Crl();

  std::string issuer() const;
  TimePoint this_update() const;
  std::optional<TimePoint> next_update() const;
  // True when the CRL lists this serial (hex as serial_hex() prints it).
  bool lists_serial(std::string_view serial_hex) const;
  Bytes der() const;

  X509_CRL* get() const { return crl_; }

 private:
  explicit Crl(X509_CRL* crl) : crl_(crl) {}
  X509_CRL* crl_;
};

struct ChainOptions {
  // Verification time; now when unset. Lets old evidence be audited "as of"
  // the time it was produced.
  std::optional<TimePoint> at;
  // CRLs to check. When non-empty, every certificate whose issuer published
  // one of these CRLs (matched by issuer name, then signature-checked by
  // OpenSSL) is checked against it; a revoked certificate, an expired or
  // not-yet-valid CRL, or a CRL with a bad signature rejects the chain.
  // Certificates whose issuer has no CRL here are not revocation-checked,
  // unless require_crl_for_every_ca is set.
  std::vector<Crl> crls;
  // Every certificate below the root must be covered by a CRL from its issuer.
  bool require_crl_for_every_ca = false;
};

// A Verdict plus, when accepted, the verified chain from the leaf (index 0) to
// the trust anchor (last).
struct ChainVerdict : Verdict {
  std::vector<Certificate> chain;
};

// Verifies `leaf` up to one of `roots`, the only trust anchors (no system store,
// no partial chains: an anchor must be a self-signed root, whose own signature
// is checked too). `intermediates` are untrusted candidates and may be in any
// order or include unrelated certificates. A rejection names OpenSSL's reason
// and the depth and subject of the failing certificate (depth 0 = leaf).
// Errors: kInvalidArgument when `roots` is empty; kCrypto when OpenSSL fails
// for a reason other than the chain itself.
Result<ChainVerdict> verify_chain(const Certificate& leaf,
                                  const std::vector<Certificate>& intermediates,
                                  const std::vector<Certificate>& roots,
                                  const ChainOptions& options = {});

}  // namespace concierge
