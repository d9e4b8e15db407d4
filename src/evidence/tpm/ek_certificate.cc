// EK certificates: chain verification (core), the TPM attributes of the
// subjectAltName directoryName, and the EK key comparison (OpenSSL 3).
#include "concierge/evidence/tpm/ek_certificate.h"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <memory>
#include <string>
#include <string_view>

namespace concierge::evidence::tpm {
namespace {

constexpr const char* kSanOid = "2.5.29.17";
constexpr std::string_view kManufacturerOid = "2.23.133.2.1";
constexpr std::string_view kModelOid = "2.23.133.2.2";
constexpr std::string_view kVersionOid = "2.23.133.2.3";

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};

std::string dotted(const ASN1_OBJECT* obj) {
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::string> utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0 || out == nullptr) return std::nullopt;
  std::string text(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return text;
}

// "id:49465800" -> 0x49465800.
std::optional<std::uint32_t> vendor_id(std::string_view m) {
  if (m.size() != 11 || m.substr(0, 3) != "id:") return std::nullopt;
  std::uint32_t v = 0;
  for (char c : m.substr(3)) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isxdigit(u)) return std::nullopt;
    v = (v << 4) |
        static_cast<std::uint32_t>(std::isdigit(u) ? u - '0' : std::tolower(u) - 'a' + 10);
  }
  return v;
}

void read_dir_name(const X509_NAME* name, EkTpmIdentity& id, bool seen[3]) {
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const std::string oid = dotted(X509_NAME_ENTRY_get_object(e));
    const int k = oid == kManufacturerOid ? 0 : oid == kModelOid ? 1 : oid == kVersionOid ? 2 : -1;
    if (k < 0 || seen[k]) continue;
    std::string* slot = k == 0 ? &id.manufacturer : k == 1 ? &id.model : &id.version;
    if (auto text = utf8(X509_NAME_ENTRY_get_data(e))) {
      *slot = std::move(*text);
      seen[k] = true;
    }
  }
}

}  // namespace

Result<EkTpmIdentity> ek_tpm_identity(const Certificate& ek_cert) {
  EkTpmIdentity id;
  auto san = ek_cert.extension(kSanOid);
  if (!san) {
    if (san.error().code == Errc::kNotFound) return id;
    return Unexpected(std::move(san).error());
  }
  const unsigned char* p = san->data();
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      d2i_GENERAL_NAMES(nullptr, &p, static_cast<long>(san->size())));
  if (!names || p != san->data() + san->size()) {
    return fail_at(Errc::kMalformed, "subjectAltName", 0,
                   "the EK certificate's subjectAltName is not a GeneralNames");
  }
  bool seen[3] = {false, false, false};
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type == GEN_DIRNAME) read_dir_name(g->d.directoryName, id, seen);
  }
  id.manufacturer_id = vendor_id(id.manufacturer);
  return id;
}

Result<EkCertificateCheck> verify_ek_certificate(const Certificate& ek_cert,
                                                 const std::vector<Certificate>& intermediates,
                                                 const std::vector<Certificate>& roots,
                                                 const ChainOptions& options, const TpmPublic* ek) {
  EkCertificateCheck out;
  CONCIERGE_ASSIGN_OR_RETURN(out.verdict, verify_chain(ek_cert, intermediates, roots, options));
  CONCIERGE_ASSIGN_OR_RETURN(static_cast<EkTpmIdentity&>(out), ek_tpm_identity(ek_cert));
  if (ek != nullptr) {
    CONCIERGE_ASSIGN_OR_RETURN(PublicKey cert_key, ek_cert.public_key());
    out.key_matches_ek = EVP_PKEY_eq(cert_key.get(), ek->key.get()) == 1;
    ERR_clear_error();  // keys of different types leave a reason on the queue
    if (!*out.key_matches_ek && out.verdict.accepted) {
      out.verdict.accepted = false;
      out.verdict.reason = "EK certificate key differs from the EK";
      out.verdict.chain.clear();
    }
  }
  return out;
}

}  // namespace concierge::evidence::tpm
