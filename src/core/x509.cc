// Certificate and Crl: parsing and accessors. Chain verification is in
// x509_verify.cc.
#include "concierge/core/x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <climits>
#include <cstring>

#include "concierge/core/encoding.h"
#include "core/ossl_util.h"

namespace concierge {
namespace {

using AsnIntPtr = ossl::Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using AsnObjPtr = ossl::Ptr<ASN1_OBJECT, ASN1_OBJECT_free>;

struct PemBlock {
  std::string name;
  Bytes data;
};

// Reads the PEM blocks of `text` one by one. Returns nullopt at the end of the
// input, an Error for a block that cannot be decoded.
class PemReader {
 public:
  explicit PemReader(std::string_view text) : bio_(ossl::mem_bio(as_bytes(text))) {}

  Result<std::optional<PemBlock>> next() {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (!bio_ || PEM_read_bio(bio_.get(), &name, &header, &data, &len) != 1) {
      const unsigned long e = ERR_peek_last_error();
      if (bio_ && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ossl::clear_errors();
        return std::optional<PemBlock>();
      }
      return ossl::fail_ossl(Errc::kMalformed, "bad PEM block");
    }
    PemBlock block{name, Bytes(data, data + len)};
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    return std::optional<PemBlock>(std::move(block));
  }

 private:
  ossl::BioPtr bio_;
};

bool is_cert_label(std::string_view name) {
  return name == "CERTIFICATE" || name == "X509 CERTIFICATE";
}

std::string name_oneline(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr ||
      X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ossl::clear_errors();
    return {};
  }
  return ossl::bio_string(bio.get());
}

std::string integer_hex(const ASN1_INTEGER* v) {
  ossl::BnPtr bn(ASN1_INTEGER_to_BN(v, nullptr));
  if (!bn) {
    ossl::clear_errors();
    return {};
  }
  if (BN_is_zero(bn.get())) return "00";
  Bytes mag(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), mag.data());
  return (BN_is_negative(bn.get()) ? "-" : "") + hex_encode(mag);
}

template <typename T>
Bytes i2d_bytes(const T* obj, int (*i2d)(const T*, unsigned char**)) {
  unsigned char* buf = nullptr;
  const int len = obj == nullptr ? -1 : i2d(obj, &buf);
  if (len <= 0) {
    ossl::clear_errors();
    return {};
  }
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

TimePoint to_time_point(std::int64_t unix) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(unix)));
}

}  // namespace

// ---- Certificate ----

Result<Certificate> Certificate::from_der(ByteView der) {
  if (der.size() > INT_MAX) return fail(Errc::kInvalidArgument, "certificate too large");
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr) return ossl::fail_ossl(Errc::kMalformed, "not a DER certificate");
  Certificate cert(x);
  const auto used = static_cast<std::size_t>(p - der.data());
  if (used != der.size()) {
    return fail_at(Errc::kTrailingData, "certificate", used,
                   std::to_string(der.size() - used) + " bytes after the certificate");
  }
  return cert;
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  if (pem.size() > INT_MAX) return fail(Errc::kInvalidArgument, "PEM text too large");
  PemReader reader(pem);
  while (true) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<PemBlock> block, reader.next());
    if (!block) return fail(Errc::kMalformed, "no PEM CERTIFICATE block");
    if (is_cert_label(block->name)) return from_der(block->data);
  }
}

Result<std::vector<Certificate>> Certificate::from_pem_bundle(std::string_view pem) {
  if (pem.size() > INT_MAX) return fail(Errc::kInvalidArgument, "PEM text too large");
  PemReader reader(pem);
  std::vector<Certificate> out;
  while (true) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<PemBlock> block, reader.next());
    if (!block) break;
    if (!is_cert_label(block->name)) continue;
    Result<Certificate> cert = from_der(block->data);
    if (!cert) {
      Error e = std::move(cert).error();
      e.message = "PEM certificate #" + std::to_string(out.size() + 1) + ": " + e.message;
      return Unexpected(std::move(e));
    }
    out.push_back(std::move(cert).value());
  }
  if (out.empty()) return fail(Errc::kMalformed, "no PEM CERTIFICATE block");
  return out;
}

Certificate Certificate::adopt(X509* x509) { return Certificate(x509); }

Certificate::Certificate(const Certificate& other) : x509_(other.x509_) {
  if (x509_ != nullptr) X509_up_ref(x509_);
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    if (other.x509_ != nullptr) X509_up_ref(other.x509_);
    X509_free(x509_);
    x509_ = other.x509_;
  }
  return *this;
}

Certificate::Certificate(Certificate&& other) noexcept : x509_(other.x509_) {
  other.x509_ = nullptr;
}

Certificate& Certificate::operator=(Certificate&& other) noexcept {
  if (this != &other) {
    X509_free(x509_);
    x509_ = other.x509_;
    other.x509_ = nullptr;
  }
  return *this;
}

Certificate::~Certificate() { X509_free(x509_); }

std::string Certificate::subject() const {
  return x509_ ? name_oneline(X509_get_subject_name(x509_)) : "";
}

std::string Certificate::issuer() const {
  return x509_ ? name_oneline(X509_get_issuer_name(x509_)) : "";
}

std::string Certificate::serial_hex() const {
  return x509_ ? integer_hex(X509_get0_serialNumber(x509_)) : "";
}

std::int64_t Certificate::not_before_unix() const {
  return x509_ ? ossl::unix_seconds(X509_get0_notBefore(x509_)).value_or(0) : 0;
}

std::int64_t Certificate::not_after_unix() const {
  return x509_ ? ossl::unix_seconds(X509_get0_notAfter(x509_)).value_or(0) : 0;
}

TimePoint Certificate::not_before() const { return to_time_point(not_before_unix()); }
TimePoint Certificate::not_after() const { return to_time_point(not_after_unix()); }

bool Certificate::self_signed() const {
  const bool yes = x509_ != nullptr && X509_self_signed(x509_, 1) == 1;
  ossl::clear_errors();
  return yes;
}

Result<PublicKey> Certificate::public_key() const {
  EVP_PKEY* pkey = x509_ ? X509_get_pubkey(x509_) : nullptr;
  if (pkey == nullptr) {
    return ossl::fail_ossl(Errc::kUnsupported, "certificate public key cannot be decoded");
  }
  return PublicKey::adopt(pkey);
}

Bytes Certificate::fingerprint_sha256() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (x509_ == nullptr || X509_digest(x509_, EVP_sha256(), md, &len) != 1) {
    ossl::clear_errors();
    return {};
  }
  return Bytes(md, md + len);
}

Bytes Certificate::der() const { return i2d_bytes<X509>(x509_, i2d_X509); }

Result<Bytes> Certificate::extension(std::string_view dotted_oid) const {
  // Numeric OIDs only: at least two arcs, digits and single dots.
  bool ok = !dotted_oid.empty() && dotted_oid.size() < 200 && dotted_oid.front() != '.' &&
            dotted_oid.back() != '.' && dotted_oid.find("..") == std::string_view::npos &&
            dotted_oid.find('.') != std::string_view::npos;
  for (char c : dotted_oid) ok = ok && (c == '.' || std::isdigit(static_cast<unsigned char>(c)));
  const std::string oid(dotted_oid);
  AsnObjPtr obj(ok ? OBJ_txt2obj(oid.c_str(), 1) : nullptr);
  if (!obj) {
    ossl::clear_errors();
    return fail(Errc::kInvalidArgument, "not a dotted OID: '" + oid + "'");
  }
  const int idx = x509_ ? X509_get_ext_by_OBJ(x509_, obj.get(), -1) : -1;
  if (idx < 0) return fail(Errc::kNotFound, "certificate has no extension " + oid);
  if (X509_get_ext_by_OBJ(x509_, obj.get(), idx) >= 0) {
    return fail(Errc::kMalformed, "certificate has extension " + oid + " more than once");
  }
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(x509_, idx));
  if (value == nullptr) return fail(Errc::kMalformed, "extension " + oid + " has no value");
  const unsigned char* data = ASN1_STRING_get0_data(value);
  return Bytes(data, data + ASN1_STRING_length(value));
}

// ---- Crl ----

Result<Crl> Crl::from_der(ByteView der) {
  if (der.size() > INT_MAX) return fail(Errc::kInvalidArgument, "CRL too large");
  const unsigned char* p = der.data();
  X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr) return ossl::fail_ossl(Errc::kMalformed, "not a DER CRL");
  Crl crl(c);
  const auto used = static_cast<std::size_t>(p - der.data());
  if (used != der.size()) {
    return fail_at(Errc::kTrailingData, "CRL", used,
                   std::to_string(der.size() - used) + " bytes after the CRL");
  }
  return crl;
}

Result<Crl> Crl::from_pem(std::string_view pem) {
  if (pem.size() > INT_MAX) return fail(Errc::kInvalidArgument, "PEM text too large");
  PemReader reader(pem);
  while (true) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<PemBlock> block, reader.next());
    if (!block) return fail(Errc::kMalformed, "no PEM X509 CRL block");
    if (block->name == "X509 CRL") return from_der(block->data);
  }
}

Crl Crl::adopt(X509_CRL* crl) { return Crl(crl); }

Crl::Crl(const Crl& other) : crl_(other.crl_) {
  if (crl_ != nullptr) X509_CRL_up_ref(crl_);
}

Crl& Crl::operator=(const Crl& other) {
  if (this != &other) {
    if (other.crl_ != nullptr) X509_CRL_up_ref(other.crl_);
    X509_CRL_free(crl_);
    crl_ = other.crl_;
  }
  return *this;
}

Crl::Crl(Crl&& other) noexcept : crl_(other.crl_) { other.crl_ = nullptr; }

Crl& Crl::operator=(Crl&& other) noexcept {
  if (this != &other) {
    X509_CRL_free(crl_);
    crl_ = other.crl_;
    other.crl_ = nullptr;
  }
  return *this;
}

Crl::~Crl() { X509_CRL_free(crl_); }

std::string Crl::issuer() const { return crl_ ? name_oneline(X509_CRL_get_issuer(crl_)) : ""; }

TimePoint Crl::this_update() const {
  return to_time_point(crl_ ? ossl::unix_seconds(X509_CRL_get0_lastUpdate(crl_)).value_or(0) : 0);
}

std::optional<TimePoint> Crl::next_update() const {
  const ASN1_TIME* t = crl_ ? X509_CRL_get0_nextUpdate(crl_) : nullptr;
  std::optional<std::int64_t> s = ossl::unix_seconds(t);
  if (!s) return std::nullopt;
  return to_time_point(*s);
}

bool Crl::lists_serial(std::string_view serial_hex) const {
  if (crl_ == nullptr) return false;
  Result<Bytes> mag = hex_decode(serial_hex);
  if (!mag || mag->empty()) return false;
  ossl::BnPtr bn(BN_bin2bn(mag->data(), static_cast<int>(mag->size()), nullptr));
  AsnIntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  X509_REVOKED* revoked = nullptr;
  const bool listed = serial && X509_CRL_get0_by_serial(crl_, &revoked, serial.get()) == 1;
  ossl::clear_errors();
  return listed;
}

Bytes Crl::der() const { return i2d_bytes<X509_CRL>(crl_, i2d_X509_CRL); }

}  // namespace concierge
