// DCAP quote parsing: header, report body, signature data (see quote.h).
#include "concierge/evidence/dcap/quote.h"

#include <algorithm>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"

namespace concierge::evidence::dcap {
namespace {

template <std::size_t N>
Result<void> read_array(ByteReader& r, std::array<std::uint8_t, N>& out, std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(N, field));
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

// Reads n bytes into `out`, recording where they are.
Result<void> read_bytes(ByteReader& r, std::size_t n, std::string_view field, Bytes& out,
                        ByteRange& where) {
  where.offset = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(n, field));
  out.assign(bytes.begin(), bytes.end());
  where.size = n;
  return {};
}

std::string hex_u32(std::uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 0xF];
  return "0x" + s;
}

// Names of one certification data record's fields.
struct CertFieldNames {
  std::string_view type;
  std::string_view size;
  std::string_view data;
};
constexpr CertFieldNames kTopCert = {"certification_data_type", "certification_data_size",
                                     "certification_data"};
constexpr CertFieldNames kNestedCert = {"pck_certification_data_type",
                                        "pck_certification_data_size", "pck_certification_data"};

// Type u16, size u32, data. `allowed` decides which types are acceptable.
template <typename Allowed>
Result<void> read_cert_data(ByteReader& r, const CertFieldNames& names, Allowed allowed,
                            std::string_view expectation, CertificationData& out,
                            ByteRange& where) {
  const std::size_t type_at = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(out.type, r.u16le(names.type));
  if (!allowed(out.type)) {
    return fail_at(Errc::kMalformed, std::string(names.type), type_at,
                   "certification data type " + std::to_string(out.type) + " where " +
                       std::string(expectation) + " is required");
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, r.u32le(names.size));
  return read_bytes(r, size, names.data, out.data, where);
}

// QE report, its signature, QE authentication data, then certification data.
Result<void> read_qe_block(ByteReader& r, bool nested, SignatureData& sig, QuoteLayout& layout) {
  layout.qe_report.offset = r.offset();
  layout.qe_report.size = kSgxReportBodySize;
  CONCIERGE_ASSIGN_OR_RETURN(ByteView qe_report, r.bytes(kSgxReportBodySize, "qe_report"));
  CONCIERGE_ASSIGN_OR_RETURN(sig.qe_report,
                             parse_sgx_report_body(qe_report, layout.qe_report.offset));
  layout.qe_report_signature = {r.offset(), kEcdsaSignatureSize};
  CONCIERGE_RETURN_IF_ERROR(read_array(r, sig.qe_report_signature, "qe_report_signature"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t auth_size, r.u16le("qe_auth_data_size"));
  CONCIERGE_RETURN_IF_ERROR(
      read_bytes(r, auth_size, "qe_auth_data", sig.qe_auth_data, layout.qe_auth_data));
  if (nested) {
    return read_cert_data(
        r, kNestedCert, [](std::uint16_t t) { return t == kCertDataPckChain; },
        "type 5 (PCK certificate chain)", sig.certification, layout.certification_data);
  }
  return read_cert_data(
      r, kTopCert, [](std::uint16_t t) { return t >= 1 && t <= kCertDataPckChain; },
      "a type from 1 to 5", sig.certification, layout.certification_data);
}

// Fails unless the bytes from `start` to the reader's position number `declared`.
Result<void> check_declared_size(const ByteReader& r, std::size_t start, std::size_t declared,
                                 std::string_view field, std::size_t field_offset) {
  const std::size_t used = r.offset() - start;
  if (used == declared) return {};
  return fail_at(Errc::kMalformed, std::string(field), field_offset,
                 "declares " + std::to_string(declared) + " bytes but its contents take " +
                     std::to_string(used));
}

Result<void> read_header(ByteReader& r, Header& h) {
  CONCIERGE_ASSIGN_OR_RETURN(h.version, r.u16le("version"));
  if (h.version < 3 || h.version > 5) {
    return fail_at(Errc::kUnsupported, "version", 0,
                   "quote version " + std::to_string(h.version) + " is not supported (3 to 5 are)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(h.attestation_key_type, r.u16le("attestation_key_type"));
  if (h.attestation_key_type != kAttestationKeyEcdsaP256) {
    const std::string what = h.attestation_key_type == kAttestationKeyEcdsaP384
                                 ? "3 (ECDSA-384 with P-384)"
                                 : std::to_string(h.attestation_key_type);
    return fail_at(
        Errc::kUnsupported, "attestation_key_type", 2,
        "attestation key type " + what + " is not supported (only 2, ECDSA-256 with P-256)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(h.tee_type, r.u32le("tee_type"));
  if (h.version == 3 && h.tee_type != 0) {
    return fail_at(Errc::kMalformed, "tee_type", 4,
                   "bytes 4-7 are reserved in a v3 (SGX) quote and must be zero, found " +
                       hex_u32(h.tee_type));
  }
  if (h.tee_type != kTeeTypeSgx && h.tee_type != kTeeTypeTdx) {
    return fail_at(Errc::kMalformed, "tee_type", 4,
                   "unknown tee type " + hex_u32(h.tee_type) + " (0x00000000 SGX, 0x00000081 TDX)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(h.qe_svn, r.u16le("qe_svn"));
  CONCIERGE_ASSIGN_OR_RETURN(h.pce_svn, r.u16le("pce_svn"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, h.qe_vendor_id, "qe_vendor_id"));
  return read_array(r, h.user_data, "user_data");
}

// v5 body descriptor: body type u16 and body size u32.
Result<BodyKind> read_v5_descriptor(ByteReader& r, std::uint32_t tee_type) {
  const std::size_t type_at = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t type, r.u16le("body_type"));
  if (type < 1 || type > 3) {
    return fail_at(
        Errc::kMalformed, "body_type", type_at,
        "unknown body type " + std::to_string(type) + " (1 SGX, 2 TD report 1.0, 3 TD report 1.5)");
  }
  const auto kind = static_cast<BodyKind>(type);
  if ((kind == BodyKind::kSgx) != (tee_type == kTeeTypeSgx)) {
    return fail_at(
        Errc::kMalformed, "body_type", type_at,
        "body type " + std::to_string(type) + " disagrees with tee type " + hex_u32(tee_type));
  }
  const std::size_t size_at = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, r.u32le("body_size"));
  if (size != body_size(kind)) {
    return fail_at(Errc::kMalformed, "body_size", size_at,
                   "body size " + std::to_string(size) + " for body type " + std::to_string(type) +
                       ", which is " + std::to_string(body_size(kind)) + " bytes");
  }
  return kind;
}

Result<void> read_body(ByteReader& r, Quote& q) {
  if (q.header.version == 5) {
    CONCIERGE_ASSIGN_OR_RETURN(q.kind, read_v5_descriptor(r, q.header.tee_type));
  } else {
    q.kind = q.header.tee_type == kTeeTypeTdx ? BodyKind::kTd10 : BodyKind::kSgx;
  }
  const std::size_t size = body_size(q.kind);
  q.layout.body = {r.offset(), size};
  CONCIERGE_ASSIGN_OR_RETURN(ByteView body, r.bytes(size, "report_body"));
  if (q.kind == BodyKind::kSgx) {
    CONCIERGE_ASSIGN_OR_RETURN(q.body, parse_sgx_report_body(body, q.layout.body.offset));
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(q.body, parse_td_report_body(body, q.kind, q.layout.body.offset));
  }
  q.layout.signed_data = {0, r.offset()};
  return {};
}

Result<void> read_signature_data(ByteReader& r, Quote& q) {
  const std::size_t size_at = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t declared, r.u32le("signature_data_size"));
  // Contents are parsed against the rest of the input, not a window of the
  // declared size, so a cut-off quote reports the field it ends in.
  const std::size_t start = r.offset();
  q.layout.signature = {r.offset(), kEcdsaSignatureSize};
  CONCIERGE_RETURN_IF_ERROR(read_array(r, q.sig.signature, "signature"));
  q.layout.attestation_key = {r.offset(), kEcdsaP256PublicKeySize};
  CONCIERGE_RETURN_IF_ERROR(read_array(r, q.sig.attestation_key, "attestation_key"));
  if (q.header.version == 3) {
    CONCIERGE_RETURN_IF_ERROR(read_qe_block(r, /*nested=*/false, q.sig, q.layout));
  } else {
    const std::size_t type_at = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t type, r.u16le("certification_data_type"));
    if (type != kCertDataQeReport) {
      return fail_at(Errc::kMalformed, "certification_data_type", type_at,
                     "certification data type " + std::to_string(type) +
                         " where type 6 (QE report certification data) is required");
    }
    const std::size_t cert_size_at = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t cert_size, r.u32le("certification_data_size"));
    const std::size_t cert_start = r.offset();
    CONCIERGE_RETURN_IF_ERROR(read_qe_block(r, /*nested=*/true, q.sig, q.layout));
    CONCIERGE_RETURN_IF_ERROR(
        check_declared_size(r, cert_start, cert_size, "certification_data_size", cert_size_at));
  }
  return check_declared_size(r, start, declared, "signature_data_size", size_at);
}

}  // namespace

std::optional<std::string_view> Quote::pck_chain_pem() const {
  if (sig.certification.type != kCertDataPckChain) return std::nullopt;
  return as_chars(sig.certification.data);
}

Result<Quote> parse_quote(ByteView data) {
  ByteReader r(data);
  Quote q;
  CONCIERGE_RETURN_IF_ERROR(read_header(r, q.header));
  CONCIERGE_RETURN_IF_ERROR(read_body(r, q));
  CONCIERGE_RETURN_IF_ERROR(read_signature_data(r, q));
  q.layout.quote_size = r.offset();
  const ByteView rest = r.rest();
  const auto nonzero = std::find_if(rest.begin(), rest.end(), [](std::uint8_t b) { return b; });
  if (nonzero != rest.end()) {
    const auto at = q.layout.quote_size + static_cast<std::size_t>(nonzero - rest.begin());
    return fail_at(Errc::kTrailingData, "trailing_bytes", at,
                   "the quote ends at offset " + std::to_string(q.layout.quote_size) +
                       "; only zero padding may follow it");
  }
  return q;
}

}  // namespace concierge::evidence::dcap
