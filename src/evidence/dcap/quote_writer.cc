// DCAP quote encoding: the exact inverse of parse_quote (see quote.h).
#include <algorithm>
#include <limits>
#include <string>

#include "concierge/evidence/dcap/quote.h"

namespace concierge::evidence::dcap {
namespace {

// Appends little-endian integers and byte strings; grows by resize and fills by
// index (GCC 12 warns falsely on vector::insert into small vectors).
class Appender {
 public:
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void bytes(ByteView b) {
    const std::size_t at = grow(b.size());
    std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  template <std::size_t N>
  void array(const std::array<std::uint8_t, N>& a) {
    bytes(ByteView(a.data(), a.size()));
  }
  std::size_t size() const { return out_.size(); }
  // Overwrites a u32 written earlier (a size known only afterwards).
  void patch_u32(std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  Bytes take() && { return std::move(out_); }

 private:
  std::size_t grow(std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    return at;
  }
  void put(std::uint64_t v, std::size_t n) {
    const std::size_t at = grow(n);
    for (std::size_t i = 0; i < n; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  Bytes out_;
};

Unexpected invalid(std::string message) {
  return fail(Errc::kInvalidArgument, "serialize_quote: " + std::move(message));
}

Result<void> check_consistent(const Quote& q) {
  const Header& h = q.header;
  if (h.version < 3 || h.version > 5) return invalid("version must be 3, 4 or 5");
  if (h.attestation_key_type != kAttestationKeyEcdsaP256) {
    return invalid("attestation key type must be 2 (ECDSA-256 with P-256)");
  }
  const bool sgx = q.kind == BodyKind::kSgx;
  if (sgx != std::holds_alternative<SgxReportBody>(q.body)) {
    return invalid("the body alternative disagrees with the body kind");
  }
  if (h.tee_type != (sgx ? kTeeTypeSgx : kTeeTypeTdx)) {
    return invalid("the tee type disagrees with the body kind");
  }
  if (h.version == 3 && !sgx) return invalid("a v3 quote carries an SGX body only");
  if (h.version == 4 && q.kind == BodyKind::kTd15) {
    return invalid("a TD 1.5 body needs a v5 quote");
  }
  const std::uint16_t type = q.sig.certification.type;
  if (h.version == 3 ? (type < 1 || type > kCertDataPckChain) : type != kCertDataPckChain) {
    return invalid("certification data type " + std::to_string(type) + " is not allowed in a v" +
                   std::to_string(h.version) + " quote");
  }
  if (q.sig.qe_auth_data.size() > std::numeric_limits<std::uint16_t>::max()) {
    return invalid("QE authentication data exceeds 65535 bytes");
  }
  if (q.sig.certification.data.size() > std::numeric_limits<std::uint32_t>::max() / 2) {
    return invalid("certification data too large");
  }
  return {};
}

void write_header(Appender& a, const Header& h) {
  a.u16(h.version);
  a.u16(h.attestation_key_type);
  a.u32(h.tee_type);
  a.u16(h.qe_svn);
  a.u16(h.pce_svn);
  a.array(h.qe_vendor_id);
  a.array(h.user_data);
}

// QE report, its signature, QE authentication data, certification data.
void write_qe_block(Appender& a, const SignatureData& s) {
  a.bytes(serialize_sgx_report_body(s.qe_report));
  a.array(s.qe_report_signature);
  a.u16(static_cast<std::uint16_t>(s.qe_auth_data.size()));
  a.bytes(s.qe_auth_data);
  a.u16(s.certification.type);
  a.u32(static_cast<std::uint32_t>(s.certification.data.size()));
  a.bytes(s.certification.data);
}

}  // namespace

Result<Bytes> serialize_quote(const Quote& q) {
  CONCIERGE_RETURN_IF_ERROR(check_consistent(q));
  Appender a;
  write_header(a, q.header);
  const Bytes body = q.kind == BodyKind::kSgx
                         ? serialize_sgx_report_body(std::get<SgxReportBody>(q.body))
                         : serialize_td_report_body(std::get<TdReportBody>(q.body), q.kind);
  if (q.header.version == 5) {
    a.u16(static_cast<std::uint16_t>(q.kind));
    a.u32(static_cast<std::uint32_t>(body.size()));
  }
  a.bytes(body);
  const std::size_t sig_size_at = a.size();
  a.u32(0);
  const std::size_t sig_start = a.size();
  a.array(q.sig.signature);
  a.array(q.sig.attestation_key);
  if (q.header.version == 3) {
    write_qe_block(a, q.sig);
  } else {
    a.u16(kCertDataQeReport);
    const std::size_t cert_size_at = a.size();
    a.u32(0);
    const std::size_t cert_start = a.size();
    write_qe_block(a, q.sig);
    a.patch_u32(cert_size_at, static_cast<std::uint32_t>(a.size() - cert_start));
  }
  a.patch_u32(sig_size_at, static_cast<std::uint32_t>(a.size() - sig_start));
  return std::move(a).take();
}

}  // namespace concierge::evidence::dcap
