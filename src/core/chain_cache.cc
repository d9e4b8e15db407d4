#include "concierge/core/chain_cache.h"

#include <chrono>

#include "concierge/core/digest.h"

namespace concierge {

Result<std::string> ChainCacheKey::finish(const ChainOptions& options) && {
  std::vector<Bytes> crls;
  for (const Crl& crl : options.crls) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes fp, digest(HashAlg::kSha256, crl.der()));
    crls.push_back(std::move(fp));
  }
  std::sort(crls.begin(), crls.end());
  for (const Bytes& fp : crls) add(fp);
  add_byte(options.require_crl_for_every_ca ? 1 : 0);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes key, digest(HashAlg::kSha256, material_));
  return std::string(as_chars(key));
}

Result<std::string> ChainCacheKey::finish_exact(const ChainOptions& options) && {
  ChainCacheKey crl_part;
  CONCIERGE_ASSIGN_OR_RETURN(std::string crl_key, std::move(crl_part).finish(options));
  std::string key(as_chars(material_));
  key += crl_key;
  return key;
}

TimePoint chain_cache_time(const ChainOptions& options) {
  return std::chrono::time_point_cast<std::chrono::seconds>(
      options.at.value_or(std::chrono::system_clock::now()));
}

ValidityWindow chain_validity_window(const std::vector<Certificate>& chain,
                                     const std::vector<Crl>& crls) {
  ValidityWindow w;
  for (const Certificate& c : chain) {
    w.from = std::max(w.from, c.not_before());
    w.until = std::min(w.until, c.not_after());
  }
  for (const Crl& crl : crls) {
    const std::string issuer = crl.issuer();
    const bool used = std::any_of(chain.begin(), chain.end(),
                                  [&](const Certificate& c) { return c.issuer() == issuer; });
    if (!used) continue;
    w.from = std::max(w.from, crl.this_update());
    if (auto next = crl.next_update()) w.until = std::min(w.until, *next);
  }
  return w;
}

}  // namespace concierge
