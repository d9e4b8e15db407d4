// The broker's caches (not installed): verification caches shared by all
// requests, and parsed policies keyed by their document text.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "concierge/broker/broker.h"
#include "concierge/broker/release_policy.h"
#include "concierge/evidence/dcap/verify.h"
#include "concierge/evidence/snp/amd_chain.h"
#include "concierge/verifier/policy.h"

namespace concierge::broker {

struct Broker::Caches {
  evidence::snp::AmdChainCache snp;
  evidence::dcap::DcapVerifyCache dcap;

  // Parsed documents by text; bounded (cleared when it grows past 256).
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const verifier::Policy>> appraisal_policies;
  std::map<std::string, std::shared_ptr<const ReleasePolicy>> release_policies;

  // When expired sessions were last deleted (seconds since the epoch).
  std::atomic<std::int64_t> last_purge{0};
};

}  // namespace concierge::broker
