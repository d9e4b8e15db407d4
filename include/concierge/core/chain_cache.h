// The shared mechanism behind the per-vendor caches of verified certificate
// chains (AMD's VCEK chains, Intel's PCK chains): a key over everything an
// outcome depends on, the time window in which an accepted chain stays
// accepted, and a bounded, thread-safe map from key to verdict.
//
// A cached verdict is served only for a verification time inside its window:
// the latest notBefore and earliest notAfter of the chain, narrowed by the
// thisUpdate / nextUpdate of the CRLs issued by the chain's CAs (the only
// CRLs that took part). Rejections are never stored.
//
// Thread safety: VerifiedChainCache's members may be called concurrently (one
// mutex guards the map; callers verify outside it, so two threads missing on
// the same key may both verify). ChainCacheKey is a plain builder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"

namespace concierge {

// SHA-256 over the parts a caller adds (fingerprints, product codes), then
// over the options: the CRLs' fingerprints in any order, and
// require_crl_for_every_ca. The verification time is not part of the key.
class ChainCacheKey {
 public:
  void add(ByteView bytes) { material_.insert(material_.end(), bytes.begin(), bytes.end()); }
  void add_byte(std::uint8_t b) { material_.push_back(b); }
  Result<std::string> finish(const ChainOptions& options) &&;
  // The added parts themselves, then the SHA-256 of the options as above:
  // for material of a few kilobytes looked up per request, where hashing it
  // with SHA-256 would cost more than the map's own hash and comparison.
  Result<std::string> finish_exact(const ChainOptions& options) &&;

 private:
  Bytes material_;
};

// options.at, else now, at the seconds resolution certificate times have.
TimePoint chain_cache_time(const ChainOptions& options);

struct ValidityWindow {
  TimePoint from = TimePoint::min();
  TimePoint until = TimePoint::max();
  bool contains(TimePoint t) const { return from <= t && t <= until; }
};
ValidityWindow chain_validity_window(const std::vector<Certificate>& chain,
                                     const std::vector<Crl>& crls);

// Verdict is a vendor's chain verdict (copyable). When `capacity` entries
// are stored, an arbitrary one is evicted; capacity 0 stores nothing.
template <typename Verdict>
class VerifiedChainCache {
 public:
  explicit VerifiedChainCache(std::size_t capacity) : capacity_(capacity) {}
  VerifiedChainCache(const VerifiedChainCache&) = delete;
  VerifiedChainCache& operator=(const VerifiedChainCache&) = delete;

  // The stored verdict when `at` is inside its window (counted as a hit);
  // otherwise nullopt, counted as a verification the caller now makes.
  std::optional<Verdict> lookup(const std::string& key, TimePoint at) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.window.contains(at)) {
      ++hits_;
      return it->second.verdict;
    }
    ++verifications_;
    return std::nullopt;
  }

  void store(std::string key, Verdict verdict, ValidityWindow window) {
    std::lock_guard<std::mutex> lock(mu_);
    if (capacity_ == 0) return;
    if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
      entries_.erase(entries_.begin());
    }
    entries_.insert_or_assign(std::move(key), Entry{std::move(verdict), window});
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  std::uint64_t hits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }
  std::uint64_t verifications() const {
    std::lock_guard<std::mutex> lock(mu_);
    return verifications_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.clear();
  }

 private:
  struct Entry {
    Verdict verdict;
    ValidityWindow window;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t capacity_;
  std::uint64_t hits_ = 0;
  std::uint64_t verifications_ = 0;
};

}  // namespace concierge
