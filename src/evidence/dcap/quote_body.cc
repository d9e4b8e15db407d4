// DCAP report bodies: the SGX REPORTBODY (384 bytes) and the TD quote body
// (584 bytes for TDX 1.0, 648 for 1.5). See quote.h for the layouts.
#include <algorithm>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/quote.h"

namespace concierge::evidence::dcap {
namespace {

template <std::size_t N>
Result<void> read_array(ByteReader& r, std::array<std::uint8_t, N>& out, std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(N, field));
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

// Fails naming the first non-zero byte of a reserved range.
Result<void> expect_zero(ByteReader& r, std::size_t n, std::string_view field) {
  const std::size_t start = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(n, field));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != 0) {
      return fail_at(Errc::kMalformed, std::string(field), start + i,
                     "reserved byte must be zero, found 0x" + hex_encode(bytes.subspan(i, 1)));
    }
  }
  return {};
}

Unexpected wrong_size(std::string_view what, std::size_t want, std::size_t got,
                      std::size_t base_offset) {
  const Errc code = got < want ? Errc::kTruncated : Errc::kTrailingData;
  return fail_at(
      code, std::string(what), base_offset + std::min(got, want),
      std::string(what) + " is " + std::to_string(want) + " bytes, got " + std::to_string(got));
}

class Writer {
 public:
  explicit Writer(std::size_t size) : out_(size, 0) {}
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  template <std::size_t N>
  void array(const std::array<std::uint8_t, N>& a) {
    std::copy(a.begin(), a.end(), out_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ += N;
  }
  void zeros(std::size_t n) { pos_ += n; }
  Bytes take() && { return std::move(out_); }

 private:
  void put(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out_[pos_ + i] = static_cast<std::uint8_t>(v >> (8 * i));
    pos_ += n;
  }
  Bytes out_;
  std::size_t pos_ = 0;
};

}  // namespace

std::size_t body_size(BodyKind kind) {
  switch (kind) {
    case BodyKind::kSgx:
      return kSgxReportBodySize;
    case BodyKind::kTd10:
      return kTd10ReportBodySize;
    case BodyKind::kTd15:
      return kTd15ReportBodySize;
  }
  return 0;
}

Result<SgxReportBody> parse_sgx_report_body(ByteView data, std::size_t base_offset) {
  if (data.size() != kSgxReportBodySize) {
    return wrong_size("sgx_report_body", kSgxReportBodySize, data.size(), base_offset);
  }
  ByteReader r(data, base_offset);
  SgxReportBody b;
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.cpu_svn, "cpu_svn"));
  CONCIERGE_ASSIGN_OR_RETURN(b.miscselect, r.u32le("miscselect"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 12, "reserved_1"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.isv_ext_prod_id, "isv_ext_prod_id"));
  CONCIERGE_ASSIGN_OR_RETURN(b.attributes_flags, r.u64le("attributes.flags"));
  CONCIERGE_ASSIGN_OR_RETURN(b.attributes_xfrm, r.u64le("attributes.xfrm"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_enclave, "mr_enclave"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 32, "reserved_2"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_signer, "mr_signer"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 32, "reserved_3"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.config_id, "config_id"));
  CONCIERGE_ASSIGN_OR_RETURN(b.isv_prod_id, r.u16le("isv_prod_id"));
  CONCIERGE_ASSIGN_OR_RETURN(b.isv_svn, r.u16le("isv_svn"));
  CONCIERGE_ASSIGN_OR_RETURN(b.config_svn, r.u16le("config_svn"));
  CONCIERGE_RETURN_IF_ERROR(expect_zero(r, 42, "reserved_4"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.isv_family_id, "isv_family_id"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.report_data, "report_data"));
  CONCIERGE_RETURN_IF_ERROR(r.expect_end("sgx_report_body"));
  return b;
}

Bytes serialize_sgx_report_body(const SgxReportBody& b) {
  Writer w(kSgxReportBodySize);
  w.array(b.cpu_svn);
  w.u32(b.miscselect);
  w.zeros(12);
  w.array(b.isv_ext_prod_id);
  w.u64(b.attributes_flags);
  w.u64(b.attributes_xfrm);
  w.array(b.mr_enclave);
  w.zeros(32);
  w.array(b.mr_signer);
  w.zeros(32);
  w.array(b.config_id);
  w.u16(b.isv_prod_id);
  w.u16(b.isv_svn);
  w.u16(b.config_svn);
  w.zeros(42);
  w.array(b.isv_family_id);
  w.array(b.report_data);
  return std::move(w).take();
}

Result<TdReportBody> parse_td_report_body(ByteView data, BodyKind kind, std::size_t base_offset) {
  if (kind == BodyKind::kSgx) {
    return fail(Errc::kInvalidArgument, "parse_td_report_body needs a TD body kind");
  }
  const std::size_t want = body_size(kind);
  if (data.size() != want) return wrong_size("td_report_body", want, data.size(), base_offset);
  ByteReader r(data, base_offset);
  TdReportBody b;
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.tee_tcb_svn, "tee_tcb_svn"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_seam, "mr_seam"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_signer_seam, "mr_signer_seam"));
  CONCIERGE_ASSIGN_OR_RETURN(b.seam_attributes, r.u64le("seam_attributes"));
  CONCIERGE_ASSIGN_OR_RETURN(b.td_attributes, r.u64le("td_attributes"));
  CONCIERGE_ASSIGN_OR_RETURN(b.xfam, r.u64le("xfam"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_td, "mr_td"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_config_id, "mr_config_id"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_owner, "mr_owner"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_owner_config, "mr_owner_config"));
  static constexpr std::string_view kRtmrNames[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
  for (std::size_t i = 0; i < b.rtmr.size(); ++i) {
    CONCIERGE_RETURN_IF_ERROR(read_array(r, b.rtmr[i], kRtmrNames[i]));
  }
  CONCIERGE_RETURN_IF_ERROR(read_array(r, b.report_data, "report_data"));
  if (kind == BodyKind::kTd15) {
    CONCIERGE_RETURN_IF_ERROR(read_array(r, b.tee_tcb_svn2, "tee_tcb_svn2"));
    CONCIERGE_RETURN_IF_ERROR(read_array(r, b.mr_service_td, "mr_service_td"));
  }
  CONCIERGE_RETURN_IF_ERROR(r.expect_end("td_report_body"));
  return b;
}

Bytes serialize_td_report_body(const TdReportBody& b, BodyKind kind) {
  Writer w(kind == BodyKind::kTd15 ? kTd15ReportBodySize : kTd10ReportBodySize);
  w.array(b.tee_tcb_svn);
  w.array(b.mr_seam);
  w.array(b.mr_signer_seam);
  w.u64(b.seam_attributes);
  w.u64(b.td_attributes);
  w.u64(b.xfam);
  w.array(b.mr_td);
  w.array(b.mr_config_id);
  w.array(b.mr_owner);
  w.array(b.mr_owner_config);
  for (const auto& rtmr : b.rtmr) w.array(rtmr);
  w.array(b.report_data);
  if (kind == BodyKind::kTd15) {
    w.array(b.tee_tcb_svn2);
    w.array(b.mr_service_td);
  }
  return std::move(w).take();
}

}  // namespace concierge::evidence::dcap
