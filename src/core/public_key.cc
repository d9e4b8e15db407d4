#include "concierge/core/public_key.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/ossl_util.h"

namespace concierge {
namespace {

using ParamBldPtr = ossl::Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = ossl::Ptr<OSSL_PARAM, OSSL_PARAM_free>;

const char* ossl_group(EcCurve curve) {
  return curve == EcCurve::kP256 ? "prime256v1" : "secp384r1";
}

// The DER SubjectPublicKeyInfo of a named-curve EC key is this fixed prefix
// followed by the uncompressed point (RFC 5480 section 2: id-ecPublicKey
// with the namedCurve parameter; SEC1 2.3.3 for the point). OpenSSL 3.0
// reaches the same bytes through its generic decoder and encoder, which cost
// several times an ECDH; these are used for exactly these two shapes, and
// anything else goes to d2i_PUBKEY / i2d_PUBKEY.
constexpr std::uint8_t kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
constexpr std::uint8_t kP384SpkiPrefix[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                            0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                            0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};

ByteView spki_prefix(EcCurve curve) {
  return curve == EcCurve::kP256 ? ByteView(kP256SpkiPrefix) : ByteView(kP384SpkiPrefix);
}

// The curve whose SPKI prefix `spki` starts with, when the rest is exactly
// one uncompressed point of that curve.
std::optional<EcCurve> ec_spki_curve(ByteView spki) {
  for (EcCurve c : {EcCurve::kP256, EcCurve::kP384}) {
    const ByteView prefix = spki_prefix(c);
    if (spki.size() == prefix.size() + 1 + 2 * ec_coordinate_size(c) &&
        std::equal(prefix.begin(), prefix.end(), spki.begin()) && spki[prefix.size()] == 0x04) {
      return c;
    }
  }
  return std::nullopt;
}

ByteView strip_leading_zeros(ByteView v) {
  std::size_t i = 0;
  while (i < v.size() && v[i] == 0) ++i;
  return v.subspan(i);
}

// Builds a public key of `type` ("EC", "RSA") from the parameters in `bld`.
Result<EVP_PKEY*> from_params(const char* type, OSSL_PARAM_BLD* bld, const char* what) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, std::string(what) + ": cannot set up key import");
  }
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::fail_ossl(Errc::kMalformed, std::string(what) + ": not a valid public key");
  }
  return pkey;
}

}  // namespace

std::size_t ec_coordinate_size(EcCurve curve) { return curve == EcCurve::kP256 ? 32 : 48; }

std::string_view ec_curve_name(EcCurve curve) {
  return curve == EcCurve::kP256 ? "P-256" : "P-384";
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > INT_MAX) return fail(Errc::kInvalidArgument, "public key PEM is too large");
  ossl::BioPtr bio = ossl::mem_bio(as_bytes(pem));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (pkey == nullptr) return ossl::fail_ossl(Errc::kMalformed, "not a PEM public key");
  return PublicKey(pkey);
}

Result<PublicKey> PublicKey::from_der(ByteView spki) {
  if (spki.size() > INT_MAX) return fail(Errc::kInvalidArgument, "public key DER is too large");
  if (const std::optional<EcCurve> curve = ec_spki_curve(spki)) {
    auto key = from_ec_point(*curve, spki.subspan(spki_prefix(*curve).size()));
    if (!key) return fail(Errc::kMalformed, "SubjectPublicKeyInfo: " + key.error().message);
    return key;
  }
  const unsigned char* p = spki.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  if (pkey == nullptr) {
    return ossl::fail_ossl(Errc::kMalformed, "not a DER SubjectPublicKeyInfo");
  }
  PublicKey key(pkey);
  const auto used = static_cast<std::size_t>(p - spki.data());
  if (used != spki.size()) {
    return fail_at(Errc::kTrailingData, "SubjectPublicKeyInfo", used,
                   std::to_string(spki.size() - used) + " bytes after the key");
  }
  return key;
}

Result<PublicKey> PublicKey::from_ec_point(EcCurve curve, ByteView xy) {
  const std::size_t n = ec_coordinate_size(curve);
  if (xy.size() == 2 * n + 1 && xy[0] == 0x04) xy = xy.subspan(1);
  if (xy.size() != 2 * n) {
    return fail(Errc::kMalformed, std::string(ec_curve_name(curve)) + " point must be " +
                                      std::to_string(2 * n) + " bytes (X || Y), got " +
                                      std::to_string(xy.size()));
  }
  return from_ec_coordinates(curve, xy.first(n), xy.subspan(n));
}

Result<PublicKey> PublicKey::from_ec_coordinates(EcCurve curve, ByteView x, ByteView y) {
  const std::size_t n = ec_coordinate_size(curve);
  x = strip_leading_zeros(x);
  y = strip_leading_zeros(y);
  if (x.size() > n || y.size() > n) {
    return fail(Errc::kMalformed, std::string("EC coordinate wider than ") +
                                      std::string(ec_curve_name(curve)) + " allows");
  }
  Bytes point(1 + 2 * n, 0);
  point[0] = 0x04;  // SEC1 uncompressed
  std::memcpy(point.data() + 1 + (n - x.size()), x.data(), x.size());
  std::memcpy(point.data() + 1 + n + (n - y.size()), y.data(), y.size());

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, ossl_group(curve),
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "EC key import");
  }
  CONCIERGE_ASSIGN_OR_RETURN(EVP_PKEY * pkey, from_params("EC", bld.get(), "EC point"));
  PublicKey key(pkey);
  // Import checks the point is on the curve; the quick check also rejects the
  // point at infinity. The full check (EVP_PKEY_public_check) would add a
  // scalar multiplication by the group order to exclude points outside the
  // prime-order subgroup, which cannot exist on P-256 and P-384 (cofactor 1,
  // SEC 2 sections 2.4.2 and 2.5.1); it cost as much as one ECDSA
  // verification per imported key.
  ossl::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return ossl::fail_ossl(Errc::kMalformed, "EC point is not a valid public key");
  }
  return key;
}

Result<PublicKey> PublicKey::from_rsa(ByteView modulus, ByteView exponent) {
  modulus = strip_leading_zeros(modulus);
  exponent = strip_leading_zeros(exponent);
  if (modulus.size() * 8 < 1024 || modulus.size() > 2048) {
    return fail(Errc::kUnsupported,
                "RSA modulus of " + std::to_string(modulus.size()) + " bytes (need 128..2048)");
  }
  if (exponent.empty() || exponent.size() > 8 || (exponent.back() & 1) == 0 ||
      (exponent.size() == 1 && exponent[0] == 1)) {
    return fail(Errc::kMalformed,
                "RSA public exponent must be odd, greater than 1, at most 64 bits");
  }
  ossl::BnPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  ossl::BnPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "RSA key import");
  }
  CONCIERGE_ASSIGN_OR_RETURN(EVP_PKEY * pkey, from_params("RSA", bld.get(), "RSA key"));
  return PublicKey(pkey);
}

PublicKey PublicKey::adopt(EVP_PKEY* pkey) { return PublicKey(pkey); }

PublicKey::PublicKey(PublicKey&& other) noexcept : pkey_(other.pkey_) { other.pkey_ = nullptr; }

PublicKey& PublicKey::operator=(PublicKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(pkey_);
    pkey_ = other.pkey_;
    other.pkey_ = nullptr;
  }
  return *this;
}

PublicKey::~PublicKey() { EVP_PKEY_free(pkey_); }

PublicKey PublicKey::clone() const {
  if (pkey_ != nullptr) EVP_PKEY_up_ref(pkey_);
  return PublicKey(pkey_);
}

Result<std::string> PublicKey::to_pem() const {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || pkey_ == nullptr || PEM_write_bio_PUBKEY(bio.get(), pkey_) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "cannot write the public key as PEM");
  }
  return ossl::bio_string(bio.get());
}

Result<Bytes> PublicKey::to_der() const {
  // A key whose point is kept compressed (decoded from such an SPKI) keeps
  // that form through i2d_PUBKEY below (the encoded-key parameter would
  // give it uncompressed).
  if (const std::optional<EcCurve> curve = ossl::curve_of(pkey_);
      curve && ossl::ec_point_format_is_uncompressed(pkey_)) {
    if (auto point = ossl::ec_public_point(pkey_, *curve)) {
      const ByteView prefix = spki_prefix(*curve);
      Bytes out(prefix.begin(), prefix.end());
      out.insert(out.end(), point->begin(), point->end());
      return out;
    }
    ossl::clear_errors();
  }
  unsigned char* buf = nullptr;
  int len = pkey_ == nullptr ? -1 : i2d_PUBKEY(pkey_, &buf);
  if (len <= 0) return ossl::fail_ossl(Errc::kCrypto, "cannot write the public key as DER");
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

KeyType PublicKey::type() const { return ossl::key_type_of(pkey_); }

std::optional<EcCurve> PublicKey::curve() const { return ossl::curve_of(pkey_); }

int PublicKey::bits() const { return pkey_ == nullptr ? 0 : EVP_PKEY_get_bits(pkey_); }

namespace ossl {

KeyType key_type_of(const EVP_PKEY* pkey) {
  if (pkey == nullptr) return KeyType::kOther;
  if (EVP_PKEY_is_a(pkey, "EC")) return KeyType::kEc;
  if (EVP_PKEY_is_a(pkey, "RSA-PSS")) return KeyType::kRsaPss;
  if (EVP_PKEY_is_a(pkey, "RSA")) return KeyType::kRsa;
  return KeyType::kOther;
}

std::optional<EcCurve> curve_of(const EVP_PKEY* pkey) {
  if (key_type_of(pkey) != KeyType::kEc) return std::nullopt;
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) {
    ossl::clear_errors();
    return std::nullopt;
  }
  const std::string_view group(name, len);
  if (group == "prime256v1" || group == "P-256") return EcCurve::kP256;
  if (group == "secp384r1" || group == "P-384") return EcCurve::kP384;
  return std::nullopt;
}

bool ec_point_format_is_uncompressed(const EVP_PKEY* pkey) {
  char format[32] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, format,
                                     sizeof format, &len) != 1) {
    clear_errors();
    return false;
  }
  return std::string_view(format, len) == "uncompressed";
}

Result<Bytes> ec_public_point(const EVP_PKEY* pkey, EcCurve curve) {
  Bytes point(1 + 2 * ec_coordinate_size(curve));
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &len) != 1 ||
      len != point.size() || point[0] != 0x04) {
    return fail_ossl(Errc::kCrypto, "cannot read the EC public point");
  }
  return point;
}

}  // namespace ossl

}  // namespace concierge
