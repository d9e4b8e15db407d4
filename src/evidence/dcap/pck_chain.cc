// PCK and TCB Signing chains against the Intel SGX Root CA, and the PCK chain
// cache.
#include "concierge/evidence/dcap/pck_chain.h"

#include "concierge/core/chain_cache.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "concierge/core/digest.h"

namespace concierge::evidence::dcap {
namespace {

// The subject's (first) commonName as UTF-8; "" when absent.
std::string common_name(const Certificate& cert) {
  const X509_NAME* name = X509_get_subject_name(cert.get());
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

PckChainVerdict rejected(PckExtension ext, std::string why) {
  PckChainVerdict v;
  v.accepted = false;
  v.reason = std::move(why);
  v.extension = std::move(ext);
  return v;
}

// The supplied candidates other than the leaf, without self-signed ones.
std::vector<Certificate> candidates(const std::vector<Certificate>& certs, std::size_t skip) {
  std::vector<Certificate> out;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    if (i != skip && !certs[i].self_signed()) out.push_back(certs[i]);
  }
  return out;
}

// Everything a cached outcome depends on (the CRLs are added by finish()).
Result<std::string> cache_key(const Certificate& leaf, const Certificate& root,
                              const ChainOptions& options) {
  ChainCacheKey key;
  key.add(leaf.fingerprint_sha256());
  key.add(root.fingerprint_sha256());
  return std::move(key).finish(options);
}

}  // namespace

std::string_view pck_ca_name(PckCa ca) { return ca == PckCa::kPlatform ? "platform" : "processor"; }

Result<PckChainVerdict> verify_pck_chain(const std::vector<Certificate>& certs,
                                         const Certificate& root, const ChainOptions& options) {
  if (certs.empty()) return fail(Errc::kInvalidArgument, "no PCK certificate given");
  const Certificate& leaf = certs.front();
  CONCIERGE_ASSIGN_OR_RETURN(PckExtension ext, parse_pck_extension(leaf));
  const std::string leaf_cn = common_name(leaf);
  if (leaf_cn != kPckCertificateCn) {
    return rejected(std::move(ext), "PCK certificate CN is " + in_quotes(leaf_cn) + ", not " +
                                        in_quotes(kPckCertificateCn));
  }
  CONCIERGE_ASSIGN_OR_RETURN(ChainVerdict chain,
                             verify_chain(leaf, candidates(certs, 0), {root}, options));
  if (!chain.accepted) return rejected(std::move(ext), "PCK chain: " + chain.reason);
  if (chain.chain.size() != 3) {
    return rejected(std::move(ext), "PCK chain must be leaf, CA, root (" +
                                        std::to_string(chain.chain.size()) + " certificates)");
  }
  const std::string ca_cn = common_name(chain.chain[1]);
  PckChainVerdict out;
  if (ca_cn == kPckPlatformCaCn) {
    out.ca = PckCa::kPlatform;
  } else if (ca_cn == kPckProcessorCaCn) {
    out.ca = PckCa::kProcessor;
  } else {
    return rejected(std::move(ext), "PCK issuer CN " + in_quotes(ca_cn) + " is neither " +
                                        in_quotes(kPckPlatformCaCn) + " nor " +
                                        in_quotes(kPckProcessorCaCn));
  }
  out.accepted = true;
  out.extension = std::move(ext);
  out.chain = std::move(chain.chain);
  return out;
}

Result<PckChainVerdict> verify_pck_chain_pem(std::string_view pem_bundle, const Certificate& root,
                                             const ChainOptions& options) {
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<Certificate> certs,
                             Certificate::from_pem_bundle(pem_bundle));
  return verify_pck_chain(certs, root, options);
}

Result<TcbSigningVerdict> verify_tcb_signing_chain(std::string_view pem_bundle,
                                                   const Certificate& root,
                                                   const ChainOptions& options) {
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<Certificate> certs,
                             Certificate::from_pem_bundle(pem_bundle));
  return verify_tcb_signing_chain(certs, root, options);
}

Result<TcbSigningVerdict> verify_tcb_signing_chain(const std::vector<Certificate>& certs,
                                                   const Certificate& root,
                                                   const ChainOptions& options) {
  const auto leaf = std::find_if(certs.begin(), certs.end(),
                                 [](const Certificate& c) { return !c.self_signed(); });
  if (leaf == certs.end()) {
    return fail(Errc::kMalformed, "TCB Signing chain: every certificate is self-signed");
  }
  TcbSigningVerdict out;
  const std::string cn = common_name(*leaf);
  if (cn != kTcbSigningCn) {
    out.reason =
        "TCB Signing certificate CN is " + in_quotes(cn) + ", not " + in_quotes(kTcbSigningCn);
    return out;
  }
  const auto index = static_cast<std::size_t>(leaf - certs.begin());
  CONCIERGE_ASSIGN_OR_RETURN(ChainVerdict chain,
                             verify_chain(*leaf, candidates(certs, index), {root}, options));
  if (!chain.accepted) {
    out.reason = "TCB Signing chain: " + chain.reason;
    return out;
  }
  if (chain.chain.size() != 2) {
    out.reason = "TCB Signing chain must be leaf, root (" + std::to_string(chain.chain.size()) +
                 " certificates)";
    return out;
  }
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey key, chain.chain.front().public_key());
  out.accepted = true;
  out.key = std::move(key);
  out.chain = std::move(chain.chain);
  return out;
}

// ---- PckChainCache ----

Result<PckChainVerdict> PckChainCache::verify(const std::vector<Certificate>& certs,
                                              const Certificate& root,
                                              const ChainOptions& options) {
  if (certs.empty()) return fail(Errc::kInvalidArgument, "no PCK certificate given");
  CONCIERGE_ASSIGN_OR_RETURN(std::string key, cache_key(certs.front(), root, options));
  if (auto hit = cache_.lookup(key, chain_cache_time(options))) return std::move(*hit);
  CONCIERGE_ASSIGN_OR_RETURN(PckChainVerdict v, verify_pck_chain(certs, root, options));
  if (v.accepted && !v.chain.empty()) {
    cache_.store(std::move(key), v, chain_validity_window(v.chain, options.crls));
  }
  return v;
}

}  // namespace concierge::evidence::dcap
