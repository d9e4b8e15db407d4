// The PCK chain and collateral steps of verify_dcap, with their caches.
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "evidence/dcap/verify_internal.h"

namespace concierge::evidence::dcap {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> le_bytes(std::uint64_t value) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return out;
}

PlatformTcb platform_of(const Quote& q, const PckExtension& pck) {
  PlatformTcb p;
  p.fmspc = pck.fmspc;
  p.pce_id = pck.pceid;
  p.sgx_components = pck.tcb_components;
  p.pcesvn = pck.pcesvn;
  if (const TdReportBody* td = q.td()) {
    p.tee_tcb_svn = td->tee_tcb_svn;
    p.mrsignerseam = td->mr_signer_seam;
    p.seam_attributes = le_bytes<8>(td->seam_attributes);
  }
  return p;
}

QeReportFields qe_fields_of(const SgxReportBody& qe) {
  QeReportFields f;
  f.mrsigner = qe.mr_signer;
  f.isvprodid = qe.isv_prod_id;
  f.isvsvn = qe.isv_svn;
  f.miscselect = qe.miscselect;
  const auto flags = le_bytes<8>(qe.attributes_flags);
  const auto xfrm = le_bytes<8>(qe.attributes_xfrm);
  std::copy(flags.begin(), flags.end(), f.attributes.begin());
  std::copy(xfrm.begin(), xfrm.end(), f.attributes.begin() + 8);
  return f;
}

Result<std::vector<Certificate>> quote_pck_certs(const Quote& q, const DcapVerifyOptions& o) {
  if (!o.pck_chain.empty()) return o.pck_chain;
  if (const auto pem = q.pck_chain_pem()) {
    auto certs = Certificate::from_pem_bundle(*pem);
    if (!certs) {
      Error e = certs.error();
      e.message = "PCK chain in the quote's certification data: " + e.message;
      return Unexpected(std::move(e));
    }
    return certs;
  }
  return fail(Errc::kNotFound, "the quote's certification data (type " +
                                   std::to_string(q.sig.certification.type) +
                                   ") has no PCK chain and none was given");
}

Result<std::string> pck_cache_key(const Quote& q, ByteView data, const DcapVerifyOptions& o,
                                  ByteView root_fingerprint, const ChainOptions& chain_options) {
  ChainCacheKey key;
  if (!o.pck_chain.empty()) {
    key.add_byte(2);
    for (const Certificate& c : o.pck_chain) key.add(c.fingerprint_sha256());
  } else {
    key.add_byte(1);
    key.add(q.layout.certification_data.of(data));
  }
  key.add(root_fingerprint);
  return std::move(key).finish_exact(chain_options);
}

Result<std::string> collateral_cache_key(const Collateral& c, ByteView root_fingerprint,
                                         const ChainOptions& chain_options) {
  ChainCacheKey key;
  // The signatures stand for the bodies, which a hit compares byte for byte.
  // The TCB Signing chain is not part of the key: a hit means these exact
  // bodies and signatures verified under a chain to this root, whatever chain
  // comes with them now (the entry's window is that verified chain's).
  key.add(c.tcb_info.signature);
  key.add(c.qe_identity.signature);
  key.add(root_fingerprint);
  return std::move(key).finish_exact(chain_options);
}

// The TCB Signing chain and both signatures; the accepted outcome is cached.
Result<Verdict> verify_collateral_origin(const Collateral& c, const DcapVerifyOptions& o,
                                         const Certificate& root, ByteView root_fingerprint,
                                         const ChainOptions& chain_options) {
  std::string key;
  if (o.cache != nullptr) {
    CONCIERGE_ASSIGN_OR_RETURN(key, collateral_cache_key(c, root_fingerprint, chain_options));
    auto hit = o.cache->collateral().lookup(key, chain_cache_time(chain_options));
    if (hit && (*hit)->tcb_info_body == c.tcb_info.signed_body &&
        (*hit)->qe_identity_body == c.qe_identity.signed_body) {
      return Verdict::accept();
    }
  }
  if (c.tcb_signing_chain.empty()) {
    return fail(Errc::kNotFound, "collateral has no TCB Signing chain");
  }
  CONCIERGE_ASSIGN_OR_RETURN(TcbSigningVerdict chain,
                             verify_tcb_signing_chain(c.tcb_signing_chain, root, chain_options));
  if (!chain.accepted) return Verdict::reject("collateral: " + chain.reason);
  CONCIERGE_ASSIGN_OR_RETURN(Verdict signatures,
                             verify_collateral_signatures(c.tcb_info, c.qe_identity, *chain.key));
  if (!signatures) return Verdict::reject("collateral: " + signatures.reason);
  if (o.cache != nullptr) {
    const ValidityWindow window = chain_validity_window(chain.chain, chain_options.crls);
    auto entry = std::make_shared<VerifiedCollateralSignatures>();
    entry->tcb_signing_chain = std::move(chain.chain);
    entry->tcb_info_body = c.tcb_info.signed_body;
    entry->qe_identity_body = c.qe_identity.signed_body;
    o.cache->collateral().store(std::move(key), std::move(entry), window);
  }
  return Verdict::accept();
}

}  // namespace

Result<PckOutcome> verify_quote_pck(const Quote& q, ByteView data, const DcapVerifyOptions& o,
                                    const Certificate& root, ByteView root_fingerprint,
                                    const ChainOptions& chain_options) {
  PckOutcome out;
  std::string key;
  if (o.cache != nullptr) {
    CONCIERGE_ASSIGN_OR_RETURN(key, pck_cache_key(q, data, o, root_fingerprint, chain_options));
    if (auto hit = o.cache->pck().lookup(key, chain_cache_time(chain_options))) {
      out.verified = std::move(*hit);
      return out;
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<Certificate> certs, quote_pck_certs(q, o));
  CONCIERGE_ASSIGN_OR_RETURN(PckChainVerdict verdict, verify_pck_chain(certs, root, chain_options));
  if (!verdict.accepted) {
    out.rejected = std::move(verdict);
    return out;
  }
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pck_key, verdict.chain.front().public_key());
  const ValidityWindow window = chain_validity_window(verdict.chain, chain_options.crls);
  auto verified =
      std::make_shared<VerifiedPck>(VerifiedPck{std::move(verdict), std::move(pck_key)});
  if (o.cache != nullptr) o.cache->pck().store(std::move(key), verified, window);
  out.verified = std::move(verified);
  return out;
}

Result<CollateralOutcome> verify_quote_collateral(const Quote& q, const PckExtension& pck,
                                                  const DcapVerifyOptions& o,
                                                  const Certificate& root,
                                                  ByteView root_fingerprint,
                                                  const ChainOptions& chain_options) {
  CollateralOutcome out;
  const TeeType tee = q.is_tdx() ? TeeType::kTdx : TeeType::kSgx;
  if (o.collateral != nullptr) {
    out.collateral = o.collateral;
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(Collateral loaded,
                               load_collateral(*o.collateral_dir, pck.fmspc, tee));
    out.collateral = std::make_shared<const Collateral>(std::move(loaded));
  }
  const Collateral& c = *out.collateral;
  if (c.tcb_info.info.tee != tee) {
    out.verdict.reason = "collateral is " + std::string(tee_type_name(c.tcb_info.info.tee)) +
                         " TCB info, the quote is " + std::string(tee_type_name(tee));
    return out;
  }
  CONCIERGE_ASSIGN_OR_RETURN(Verdict origin,
                             verify_collateral_origin(c, o, root, root_fingerprint, chain_options));
  if (!origin) {
    out.verdict.reason = origin.reason;
    return out;
  }
  out.verdict = appraise_collateral(c.tcb_info.info, c.qe_identity.identity, platform_of(q, pck),
                                    qe_fields_of(q.sig.qe_report), chain_cache_time(chain_options));
  // A status means something once a TCB level matched (Revoked included).
  out.appraised = out.verdict.status != TcbStatus::kUnknown;
  return out;
}

void add_collateral_claims(const CollateralOutcome* outcome, nlohmann::json& claims) {
  if (outcome == nullptr || outcome->collateral == nullptr) return;
  const TcbInfo& info = outcome->collateral->tcb_info.info;
  const QeIdentity& qe = outcome->collateral->qe_identity.identity;
  claims["collateral"] = {
      {"tcb_info_issue_date", format_rfc3339(info.issue_date)},
      {"tcb_info_next_update", format_rfc3339(info.next_update)},
      {"qe_identity_issue_date", format_rfc3339(qe.issue_date)},
      {"qe_identity_next_update", format_rfc3339(qe.next_update)},
      {"tcb_evaluation_data_number", info.tcb_evaluation_data_number},
  };
  if (outcome->verdict.tcb.tcb_date) {
    claims["tcb_date"] = format_rfc3339(*outcome->verdict.tcb.tcb_date);
  }
}

}  // namespace concierge::evidence::dcap
