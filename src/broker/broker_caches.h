// The broker's caches (not installed): verification caches shared by all
// requests, and parsed policies keyed by their document text.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "concierge/broker/broker.h"
#include "concierge/broker/release_policy.h"
#include "concierge/evidence/dcap/verify.h"
#include "concierge/evidence/snp/amd_chain.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/policy.h"

namespace concierge::broker {

struct Broker::Caches {
  evidence::snp::AmdChainCache snp;
  evidence::dcap::DcapVerifyCache dcap;

  // Parsed documents by text; bounded (cleared when it grows past 256).
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const verifier::Policy>> appraisal_policies;
  std::map<std::string, std::shared_ptr<const ReleasePolicy>> release_policies;

  // The EARs this process signed, by token text, with their claims as
  // verify_ear would read them back and the key their key-attestation claim
  // names (the tee-pubkey): `resource` then skips verifying this process's
  // own signature and re-importing the key for a session's (or a fresh
  // passport's) token. Bounded: past kIssuedCapacity an arbitrary entry is
  // evicted, and a token not found is verified as any other.
  struct Issued {
    verifier::AttestationResult ear;
    PublicKey recipient;
  };
  static constexpr std::size_t kIssuedCapacity = 1024;
  void remember_issued(const std::string& token, std::shared_ptr<const Issued> issued_token) {
    std::lock_guard lock(issued_mu);
    if (issued.size() >= kIssuedCapacity) issued.erase(issued.begin());
    issued.insert_or_assign(token, std::move(issued_token));
  }
  std::shared_ptr<const Issued> find_issued(const std::string& token) {
    std::lock_guard lock(issued_mu);
    const auto it = issued.find(token);
    return it == issued.end() ? nullptr : it->second;
  }
  std::mutex issued_mu;
  std::unordered_map<std::string, std::shared_ptr<const Issued>> issued;

  // When expired sessions were last deleted (seconds since the epoch).
  std::atomic<std::int64_t> last_purge{0};
};

}  // namespace concierge::broker
