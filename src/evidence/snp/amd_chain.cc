// VCEK/VLEK chain verification against trusted AMD root sets.
#include "concierge/evidence/snp/amd_chain.h"

#include "concierge/core/chain_cache.h"

#include <algorithm>
#include <string>
#include <utility>

#include "concierge/core/digest.h"

namespace concierge::evidence::snp {
namespace {

std::string kind_label(SigningKey kind) { return kind == SigningKey::kVlek ? "VLEK" : "VCEK"; }

std::string pname(Product p) { return std::string(product_name(p)); }

// The product named by the issuer's CN: "SEV-Milan" (ASK), "SEV-VLEK-Milan" (ASVK).
Product product_from_issuer(const Certificate& leaf) {
  const std::string issuer = leaf.issuer();
  const std::size_t at = issuer.rfind("CN = ");
  if (at == std::string::npos) return Product::kUnknown;
  std::string_view cn = std::string_view(issuer).substr(at + 5);
  cn = cn.substr(0, cn.find(','));
  for (std::string_view prefix : {"SEV-VLEK-", "SEV-"}) {
    if (cn.substr(0, prefix.size()) == prefix) {
      return parse_product(cn.substr(prefix.size())).value_or(Product::kUnknown);
    }
  }
  return Product::kUnknown;
}

// "VCEK (productName Milan-B0)" or just "VCEK".
std::string describe(const VcekInfo& info) {
  std::string out = kind_label(info.kind);
  if (!info.product_name.empty()) out += " (productName " + info.product_name + ")";
  return out;
}

AmdChainVerdict rejected(const VcekInfo& info, Product product, std::string why) {
  AmdChainVerdict v;
  v.accepted = false;
  v.reason = std::move(why);
  v.product = product;
  v.kind = info.kind;
  v.info = info;
  return v;
}

// One attempt against one root set.
Result<AmdChainVerdict> attempt(const Certificate& leaf, const VcekInfo& info,
                                const std::vector<Certificate>& supplied, const AmdRootSet& set,
                                const ChainOptions& options) {
  const bool vlek = info.kind == SigningKey::kVlek;
  const Certificate* trusted_mid = vlek ? (set.asvk ? &*set.asvk : nullptr) : &set.ask;
  std::vector<Certificate> intermediates;
  if (trusted_mid != nullptr) {
    intermediates.push_back(*trusted_mid);
  } else {
    for (const Certificate& c : supplied) {
      if (!c.self_signed()) intermediates.push_back(c);
    }
    if (intermediates.empty()) {
      return rejected(
          info, set.product,
          "VLEK needs an ASVK, and the trusted " + pname(set.product) + " root set has none");
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(ChainVerdict chain,
                             verify_chain(leaf, intermediates, {set.ark}, options));
  if (!chain.accepted) return rejected(info, set.product, std::move(chain.reason));
  const std::string via = vlek ? "ASVK" : "ASK";
  if (chain.chain.size() != 3) {
    return rejected(info, set.product,
                    kind_label(info.kind) + " must chain through the " + via + " (chain of " +
                        std::to_string(chain.chain.size()) + " certificates)");
  }
  if (trusted_mid == nullptr && chain.chain[1].der() == set.ask.der()) {
    return rejected(info, set.product, "VLEK is issued by the ASK, not by an ASVK");
  }
  AmdChainVerdict out;
  out.accepted = true;
  out.product = set.product;
  out.kind = info.kind;
  out.info = info;
  out.chain = std::move(chain.chain);
  return out;
}

// Every trusted set of `product` (several may share one, e.g. AMD's and a
// pinned test root) until one anchors the leaf. When none does, the reason is
// that of a set whose names matched (a signature or validity failure says
// more than "unable to get local issuer certificate"), else the first.
// nullopt when `trusted` has no set of the product.
Result<std::optional<AmdChainVerdict>> attempt_product(
    const Certificate& leaf, const VcekInfo& info, const std::vector<Certificate>& supplied,
    const std::vector<AmdRootSet>& trusted, Product product, const ChainOptions& options) {
  std::optional<AmdChainVerdict> best;
  for (const AmdRootSet& set : trusted) {
    if (set.product != product) continue;
    CONCIERGE_ASSIGN_OR_RETURN(AmdChainVerdict v, attempt(leaf, info, supplied, set, options));
    if (v.accepted) return std::optional<AmdChainVerdict>(std::move(v));
    const bool no_issuer = v.reason.find("unable to get local issuer") != std::string::npos;
    if (!best ||
        (!no_issuer && best->reason.find("unable to get local issuer") != std::string::npos)) {
      best = std::move(v);
    }
  }
  return best;
}

// Everything the cached outcome depends on (the CRLs are added by finish()).
Result<std::string> cache_key(const Certificate& leaf, const std::vector<AmdRootSet>& trusted,
                              Product product, const ChainOptions& options) {
  ChainCacheKey key;
  key.add(leaf.fingerprint_sha256());
  key.add_byte(static_cast<std::uint8_t>(product));
  for (const AmdRootSet& s : trusted) {
    key.add_byte(static_cast<std::uint8_t>(s.product));
    key.add(s.ark.fingerprint_sha256());
    key.add(s.ask.fingerprint_sha256());
    if (s.asvk) key.add(s.asvk->fingerprint_sha256());
    key.add_byte(s.asvk ? 1 : 0);
  }
  return std::move(key).finish(options);
}

}  // namespace

Result<AmdChainVerdict> verify_amd_chain(const Certificate& leaf,
                                         const std::vector<Certificate>& supplied,
                                         const std::vector<AmdRootSet>& trusted, Product product,
                                         const ChainOptions& options) {
  if (trusted.empty()) return fail(Errc::kInvalidArgument, "no trusted AMD root set given");
  CONCIERGE_ASSIGN_OR_RETURN(VcekInfo info, parse_vcek_extensions(leaf));
  Product claimed = info.product();
  if (claimed == Product::kUnknown) claimed = product_from_issuer(leaf);

  if (product != Product::kUnknown) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<AmdChainVerdict> v,
                               attempt_product(leaf, info, supplied, trusted, product, options));
    if (!v) return rejected(info, product, "no trusted AMD root set for " + pname(product));
    if (v->accepted) return std::move(*v);
    if (claimed != Product::kUnknown && claimed != product) {
      v->reason = describe(info) + " is for " + pname(claimed) + " but the product is " +
                  pname(product) + ": it does not chain to the " + pname(product) + " ARK (" +
                  v->reason + ")";
    } else {
      v->reason =
          describe(info) + " does not chain to the " + pname(product) + " ARK: " + v->reason;
    }
    return std::move(*v);
  }

  std::vector<Product> order;
  if (claimed != Product::kUnknown) order.push_back(claimed);
  if (Product issuer = product_from_issuer(leaf);
      issuer != Product::kUnknown && std::find(order.begin(), order.end(), issuer) == order.end()) {
    order.push_back(issuer);
  }
  for (const AmdRootSet& s : trusted) {
    if (std::find(order.begin(), order.end(), s.product) == order.end()) order.push_back(s.product);
  }
  std::string first_reason;
  std::string tried;
  for (Product p : order) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<AmdChainVerdict> v,
                               attempt_product(leaf, info, supplied, trusted, p, options));
    if (!v) continue;
    if (v->accepted) return std::move(*v);
    if (first_reason.empty()) first_reason = pname(p) + ": " + v->reason;
    tried += (tried.empty() ? "" : ", ") + pname(p);
  }
  return rejected(info, Product::kUnknown,
                  describe(info) + " does not chain to any trusted AMD ARK (tried " + tried +
                      "); " + first_reason);
}

// ---- AmdChainCache ----

Result<AmdChainVerdict> AmdChainCache::verify(const Certificate& leaf,
                                              const std::vector<Certificate>& supplied,
                                              const std::vector<AmdRootSet>& trusted,
                                              Product product, const ChainOptions& options) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string key, cache_key(leaf, trusted, product, options));
  if (auto hit = cache_.lookup(key, chain_cache_time(options))) return std::move(*hit);
  CONCIERGE_ASSIGN_OR_RETURN(AmdChainVerdict v,
                             verify_amd_chain(leaf, supplied, trusted, product, options));
  if (v.accepted && !v.chain.empty()) {
    cache_.store(std::move(key), v, chain_validity_window(v.chain, options.crls));
  }
  return v;
}

Result<Certificate> AmdChainCache::parse_certificate(ByteView der) {
  std::string key(as_chars(der));
  {
    std::lock_guard lock(parsed_mu_);
    if (auto it = parsed_.find(key); it != parsed_.end()) return it->second;
  }
  CONCIERGE_ASSIGN_OR_RETURN(Certificate cert, Certificate::from_der(der));
  std::lock_guard lock(parsed_mu_);
  if (parsed_.size() >= kParsedCapacity && parsed_.find(key) == parsed_.end()) {
    parsed_.erase(parsed_.begin());
  }
  parsed_.insert_or_assign(std::move(key), cert);
  return cert;
}

}  // namespace concierge::evidence::snp
