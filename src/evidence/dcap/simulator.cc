// DcapSimulator: quotes (Intel "TDX DCAP Quoting Library API" A.3, v4; "SGX
// ECDSA Quote Library API" A.4, v3). The PKI is in simulator_pki.cc.
#include "concierge/evidence/dcap/simulator.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "concierge/core/digest.h"

namespace concierge::evidence::dcap {
namespace {

template <std::size_t N>
Result<void> copy_signature(const Bytes& rs, std::array<std::uint8_t, N>& out) {
  if (rs.size() != N) return fail(Errc::kInternal, "a P-256 signature is not 64 bytes");
  std::copy(rs.begin(), rs.end(), out.begin());
  return {};
}

}  // namespace

Header DcapSimulator::header_for(TeeType tee) const {
  const bool tdx = tee == TeeType::kTdx;
  Header h;
  h.version = tdx ? 4 : 3;
  h.attestation_key_type = kAttestationKeyEcdsaP256;
  h.tee_type = tdx ? kTeeTypeTdx : kTeeTypeSgx;
  h.qe_svn = qe(tee).isvsvn;
  h.pce_svn = config_.pck_tcb.pcesvn;
  h.qe_vendor_id = kIntelQeVendorId;
  h.user_data.fill(0);
  std::copy(config_.qe_id.begin(), config_.qe_id.end(), h.user_data.begin());
  return h;
}

Result<SignatureData> DcapSimulator::signature_data_for(TeeType tee,
                                                        const Bytes& qe_auth_data) const {
  if (qe_auth_data.size() > std::numeric_limits<std::uint16_t>::max()) {
    return fail(Errc::kInvalidArgument, "QE authentication data exceeds 65535 bytes");
  }
  const QeConfig& qe_config = qe(tee);
  SignatureData s;
  s.attestation_key = attestation_public_;
  SgxReportBody& r = s.qe_report;
  r.cpu_svn = config_.pck_tcb.cpusvn;
  r.miscselect = qe_config.miscselect;
  r.attributes_flags = qe_config.attributes_flags;
  r.attributes_xfrm = qe_config.attributes_xfrm;
  r.mr_enclave = qe_config.mrenclave;
  r.mr_signer = qe_config.mrsigner;
  r.isv_prod_id = qe_config.isvprodid;
  r.isv_svn = qe_config.isvsvn;
  // report_data = SHA-256(attestation key || QE authentication data) || 32 zeros.
  CONCIERGE_ASSIGN_OR_RETURN(Hasher hasher, Hasher::create(HashAlg::kSha256));
  hasher.update(attestation_public_).update(qe_auth_data);
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes binding, hasher.finish());
  r.report_data.fill(0);
  std::copy(binding.begin(), binding.end(), r.report_data.begin());
  s.qe_auth_data = qe_auth_data;
  // Type 5: PCK, Platform CA, root in PEM, NUL-terminated as Intel's QEs do.
  const std::string pem = pck_chain_pem();
  s.certification.type = kCertDataPckChain;
  s.certification.data.reserve(pem.size() + 1);
  s.certification.data.assign(pem.begin(), pem.end());
  s.certification.data.push_back(0);
  return s;
}

Result<Quote> DcapSimulator::build_tdx_quote(const TdQuoteInput& in) const {
  Quote q;
  q.header = header_for(TeeType::kTdx);
  q.kind = BodyKind::kTd10;
  TdReportBody b;
  const TdxModuleConfig& module = config_.tdx_module;
  b.tee_tcb_svn = in.tee_tcb_svn.value_or(module.tee_tcb_svn);
  b.mr_seam = in.mr_seam.value_or(module.mr_seam);
  b.mr_signer_seam = in.mr_signer_seam.value_or(module.mr_signer_seam);
  b.seam_attributes = in.seam_attributes.value_or(module.seam_attributes);
  b.td_attributes = in.td_attributes;
  b.xfam = in.xfam;
  b.mr_td = in.mr_td;
  b.mr_config_id = in.mr_config_id;
  b.mr_owner = in.mr_owner;
  b.mr_owner_config = in.mr_owner_config;
  b.rtmr = in.rtmr;
  b.report_data = in.report_data;
  q.body = b;
  CONCIERGE_ASSIGN_OR_RETURN(q.sig, signature_data_for(TeeType::kTdx, in.qe_auth_data));
  return q;
}

Result<Quote> DcapSimulator::build_sgx_quote(const SgxQuoteInput& in) const {
  Quote q;
  q.header = header_for(TeeType::kSgx);
  q.kind = BodyKind::kSgx;
  SgxReportBody b;
  b.cpu_svn = in.cpu_svn.value_or(config_.pck_tcb.cpusvn);
  b.miscselect = in.miscselect;
  b.isv_ext_prod_id = in.isv_ext_prod_id;
  b.attributes_flags = in.attributes_flags;
  b.attributes_xfrm = in.attributes_xfrm;
  b.mr_enclave = in.mr_enclave;
  b.mr_signer = in.mr_signer;
  b.config_id = in.config_id;
  b.isv_prod_id = in.isv_prod_id;
  b.isv_svn = in.isv_svn;
  b.config_svn = in.config_svn;
  b.isv_family_id = in.isv_family_id;
  b.report_data = in.report_data;
  q.body = b;
  CONCIERGE_ASSIGN_OR_RETURN(q.sig, signature_data_for(TeeType::kSgx, in.qe_auth_data));
  return q;
}

Result<Bytes> DcapSimulator::sign_quote(const Quote& quote) const {
  Quote q = quote;
  const Bytes qe_report = serialize_sgx_report_body(q.sig.qe_report);
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes qe_sig,
                             keys_.pck.key.sign_ecdsa_raw(HashAlg::kSha256, qe_report));
  CONCIERGE_RETURN_IF_ERROR(copy_signature(qe_sig, q.sig.qe_report_signature));
  q.sig.signature.fill(0);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes out, serialize_quote(q));
  // Signed: header || body (v5: header || body type u16 || body size u32 ||
  // body); then the signature data size (u32), then the signature.
  const std::size_t signed_size = kHeaderSize + (q.header.version >= 5 ? 6 : 0) + body_size(q.kind);
  if (out.size() < signed_size + 4 + kEcdsaSignatureSize) {
    return fail(Errc::kInternal, "serialized quote is shorter than its signed data");
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      const Bytes sig,
      keys_.attestation.sign_ecdsa_raw(HashAlg::kSha256, ByteView(out).first(signed_size)));
  if (sig.size() != kEcdsaSignatureSize) {
    return fail(Errc::kInternal, "a P-256 signature is not 64 bytes");
  }
  std::copy(sig.begin(), sig.end(), out.begin() + static_cast<std::ptrdiff_t>(signed_size + 4));
  return out;
}

Result<Bytes> DcapSimulator::tdx_quote(const TdQuoteInput& input) const {
  CONCIERGE_ASSIGN_OR_RETURN(const Quote q, build_tdx_quote(input));
  return sign_quote(q);
}

Result<Bytes> DcapSimulator::sgx_quote(const SgxQuoteInput& input) const {
  CONCIERGE_ASSIGN_OR_RETURN(const Quote q, build_sgx_quote(input));
  return sign_quote(q);
}

}  // namespace concierge::evidence::dcap
