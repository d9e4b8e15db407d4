// DCAP quote claims and attribute decoders (see quote.h for the names).
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/quote.h"

namespace concierge::evidence::dcap {
namespace {

std::string hex_digits(std::uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) {
    s[static_cast<std::size_t>(i)] = kDigits[v & 0xF];
  }
  return s;
}

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

bool bit(std::uint64_t v, int i) { return ((v >> i) & 1) != 0; }
bool all_bits(std::uint64_t v, std::uint64_t mask) { return (v & mask) == mask; }

nlohmann::json td_claims(const TdReportBody& b, BodyKind kind) {
  nlohmann::json j;
  j["td_report_version"] = kind == BodyKind::kTd15 ? "1.5" : "1.0";
  j["mrtd"] = hex_of(b.mr_td);
  for (std::size_t i = 0; i < b.rtmr.size(); ++i) j["rtmr" + std::to_string(i)] = hex_of(b.rtmr[i]);
  j["mrconfigid"] = hex_of(b.mr_config_id);
  j["mrowner"] = hex_of(b.mr_owner);
  j["mrownerconfig"] = hex_of(b.mr_owner_config);
  j["mrseam"] = hex_of(b.mr_seam);
  j["mrsignerseam"] = hex_of(b.mr_signer_seam);
  j["seam_attributes"] = hex_digits(b.seam_attributes, 16);
  j["report_data"] = hex_of(b.report_data);
  j["td_attributes"] = td_attributes_json(b.td_attributes);
  j["xfam"] = xfam_json(b.xfam);
  j["tee_tcb_svn"] = hex_of(b.tee_tcb_svn);
  if (kind == BodyKind::kTd15) {
    j["tee_tcb_svn2"] = hex_of(b.tee_tcb_svn2);
    j["mrservicetd"] = hex_of(b.mr_service_td);
  }
  return j;
}

}  // namespace

TdAttributes decode_td_attributes(std::uint64_t raw) {
  TdAttributes a;
  a.raw = raw;
  a.debug = bit(raw, 0);
  a.sept_ve_disable = bit(raw, 28);
  a.pks = bit(raw, 30);
  a.kl = bit(raw, 31);
  a.perfmon = bit(raw, 63);
  return a;
}

SgxAttributes decode_sgx_attributes(std::uint64_t flags) {
  SgxAttributes a;
  a.raw = flags;
  a.init = bit(flags, 0);
  a.debug = bit(flags, 1);
  a.mode64bit = bit(flags, 2);
  a.provisionkey = bit(flags, 4);
  a.einittokenkey = bit(flags, 5);
  a.kss = bit(flags, 7);
  a.aexnotify = bit(flags, 10);
  return a;
}

nlohmann::json td_attributes_json(std::uint64_t raw) {
  const TdAttributes a = decode_td_attributes(raw);
  return {{"raw", hex_digits(raw, 16)}, {"debug", a.debug}, {"sept_ve_disable", a.sept_ve_disable},
          {"migratable", bit(raw, 29)}, {"pks", a.pks},     {"kl", a.kl},
          {"perfmon", a.perfmon}};
}

nlohmann::json xfam_json(std::uint64_t raw) {
  return {{"raw", hex_digits(raw, 16)},
          {"x87", bit(raw, 0)},
          {"sse", bit(raw, 1)},
          {"avx", bit(raw, 2)},
          {"avx512", all_bits(raw, 0xE0)},
          {"pk", bit(raw, 9)},
          {"amx", all_bits(raw, 0x60000)}};
}

nlohmann::json sgx_attributes_json(std::uint64_t flags, std::uint64_t xfrm) {
  const SgxAttributes a = decode_sgx_attributes(flags);
  return {{"flags", hex_digits(flags, 16)},
          {"xfrm", xfam_json(xfrm)},
          {"init", a.init},
          {"debug", a.debug},
          {"mode64bit", a.mode64bit},
          {"provisionkey", a.provisionkey},
          {"einittokenkey", a.einittokenkey},
          {"kss", a.kss},
          {"aexnotify", a.aexnotify}};
}

nlohmann::json miscselect_json(std::uint32_t raw) {
  return {{"raw", hex_digits(raw, 8)}, {"exinfo", bit(raw, 0)}, {"cpinfo", bit(raw, 1)}};
}

nlohmann::json sgx_report_claims(const SgxReportBody& b) {
  nlohmann::json j;
  j["mrenclave"] = hex_of(b.mr_enclave);
  j["mrsigner"] = hex_of(b.mr_signer);
  j["isvprodid"] = b.isv_prod_id;
  j["isvsvn"] = b.isv_svn;
  j["attributes"] = sgx_attributes_json(b.attributes_flags, b.attributes_xfrm);
  j["miscselect"] = miscselect_json(b.miscselect);
  j["report_data"] = hex_of(b.report_data);
  j["cpusvn"] = hex_of(b.cpu_svn);
  j["configsvn"] = b.config_svn;
  j["configid"] = hex_of(b.config_id);
  j["isvextprodid"] = hex_of(b.isv_ext_prod_id);
  j["isvfamilyid"] = hex_of(b.isv_family_id);
  return j;
}

nlohmann::json quote_claims(const Quote& q) {
  nlohmann::json j;
  if (const SgxReportBody* sgx = q.sgx()) {
    j = sgx_report_claims(*sgx);
  } else if (const TdReportBody* td = q.td()) {
    j = td_claims(*td, q.kind);
  }
  j["quote_version"] = q.header.version;
  j["tee"] = q.is_tdx() ? "tdx" : "sgx";
  j["qe_svn"] = q.header.qe_svn;
  j["pce_svn"] = q.header.pce_svn;
  j["qe_vendor_id"] = hex_of(q.header.qe_vendor_id);
  j["attestation_key_type"] = q.header.attestation_key_type;
  return j;
}

}  // namespace concierge::evidence::dcap
