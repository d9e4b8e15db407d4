// EFI_SIGNATURE_LIST / EFI_SIGNATURE_DATA (UEFI spec 2.10 section 32.4.1), as
// found in db, dbx, KEK, PK and MokList, and X.509 subject names through
// OpenSSL.
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>

#include "concierge/measure/event_decode.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

constexpr std::string_view kCertX509 = "a5c059a1-94e4-4aa7-87b5-ab155c2bf072";
// Summaries list at most this many certificate names.
constexpr std::size_t kMaxNamesInSummary = 4;

// The subject CN (or the whole subject when it has no CN) of a DER X.509
// certificate; nullopt when OpenSSL cannot parse it.
std::optional<std::string> x509_subject(ByteView der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  if (!cert) return std::nullopt;
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (name == nullptr) return std::string();
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0) {
      std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
      OPENSSL_free(utf8);
      return sanitize_utf8(cn);
    }
  }
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return sanitize_utf8(buf);
}

std::string type_label(const std::string& guid) {
  auto name = guid_name(guid);
  return name ? std::string(*name) : guid;
}

Result<void> parse_lists(ByteView data, DecodedEvent& out,
                         std::map<std::string, std::size_t>& counts,
                         std::vector<std::string>& names) {
  ByteReader r(data);
  nlohmann::json lists = nlohmann::json::array();
  while (!r.empty()) {
    std::size_t list_offset = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(std::string type, read_guid(r, "SignatureType"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t list_size, r.u32le("SignatureListSize"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t header_size, r.u32le("SignatureHeaderSize"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t sig_size, r.u32le("SignatureSize"));
    std::uint64_t fixed = 28ull + header_size;
    if (list_size < fixed || list_size - 28ull > r.remaining() + 0ull) {
      return fail_at(Errc::kMalformed, "SignatureListSize", list_offset + 16,
                     "list size " + std::to_string(list_size) + " does not fit");
    }
    if (sig_size < 16 || (list_size - fixed) % sig_size != 0) {
      return fail_at(Errc::kMalformed, "SignatureSize", list_offset + 24,
                     "signature size " + std::to_string(sig_size) + " does not divide the list");
    }
    CONCIERGE_RETURN_IF_ERROR(r.skip(header_size, "SignatureHeader"));
    std::size_t n = (list_size - fixed) / sig_size;
    nlohmann::json list = {{"signature_type", type}, {"entries", n}};
    if (auto label = guid_name(type)) list["type_name"] = *label;
    nlohmann::json subjects = nlohmann::json::array();
    for (std::size_t k = 0; k < n; ++k) {
      CONCIERGE_RETURN_IF_ERROR(r.skip(16, "SignatureOwner"));
      CONCIERGE_ASSIGN_OR_RETURN(ByteView sig, r.bytes(sig_size - 16, "SignatureData"));
      if (type == kCertX509) {
        auto subject = x509_subject(sig);
        if (subject) {
          subjects.push_back(*subject);
          names.push_back(*subject);
        } else {
          add_problem(out, "X.509 entry " + std::to_string(k) + " in the list at offset " +
                               std::to_string(list_offset) + " does not parse");
        }
      }
    }
    if (!subjects.empty()) list["subjects"] = subjects;
    counts[type_label(type)] += n;
    lists.push_back(std::move(list));
    out.details["signature_lists"] = lists;
  }
  return {};
}

}  // namespace

void decode_signature_lists(ByteView data, DecodedEvent& out) {
  std::map<std::string, std::size_t> counts;
  std::vector<std::string> names;
  out.details["signature_lists"] = nlohmann::json::array();
  auto ok = parse_lists(data, out, counts, names);
  if (!ok) add_problem(out, ok.error());
  std::size_t total = 0;
  std::string parts;
  for (const auto& [label, n] : counts) {
    total += n;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + label;
  }
  out.details["entry_count"] = total;
  std::string text = std::to_string(total) + (total == 1 ? " entry" : " entries");
  if (!parts.empty()) text += " (" + parts + ")";
  if (!names.empty()) {
    text += ": ";
    for (std::size_t k = 0; k < names.size() && k < kMaxNamesInSummary; ++k) {
      text += (k == 0 ? "" : "; ") + one_line(names[k]);
    }
    if (names.size() > kMaxNamesInSummary) text += "; ...";
  }
  out.summary += ": " + text;
}

void decode_signature_data(ByteView data, DecodedEvent& out) {
  // EV_EFI_VARIABLE_AUTHORITY carries the EFI_SIGNATURE_DATA that authorised
  // an image (owner GUID then the certificate), or (shim) a bare certificate.
  if (data.size() > 16) {
    if (auto subject = x509_subject(data.subspan(16))) {
      out.details["signature_owner"] = format_guid(data.first(16));
      out.details["certificate_subject"] = *subject;
      out.summary += ": certificate " + one_line(*subject);
      return;
    }
  }
  if (auto subject = x509_subject(data)) {
    out.details["certificate_subject"] = *subject;
    out.summary += ": certificate " + one_line(*subject);
    return;
  }
  if (auto text = decode_text(data, out)) {
    out.summary += ": " + one_line(*text);
    return;
  }
  if (!data.empty()) out.summary += ": " + hex_preview(data);
}

}  // namespace concierge::measure::decode_detail
