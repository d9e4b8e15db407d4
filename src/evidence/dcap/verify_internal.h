// The PCK and collateral steps of verify_dcap (verify.h), each with its cache.
// Not part of the API.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "concierge/evidence/dcap/verify.h"

namespace concierge::evidence::dcap {

// Step 3. `verified` is set when the chain was accepted; `rejected` holds the
// verdict (with the leaf's extension when it parsed) otherwise.
struct PckOutcome {
  std::shared_ptr<const VerifiedPck> verified;
  PckChainVerdict rejected;
  bool accepted() const { return verified != nullptr; }
  const PckChainVerdict& verdict() const { return verified ? verified->chain : rejected; }
};
// `root_fingerprint` is root.fingerprint_sha256(), computed once per quote.
Result<PckOutcome> verify_quote_pck(const Quote& q, ByteView data, const DcapVerifyOptions& o,
                                    const Certificate& root, ByteView root_fingerprint,
                                    const ChainOptions& chain_options);

// Step 8. `appraised` is set when the collateral got as far as TCB matching
// (so the status and advisories in `verdict` mean something).
struct CollateralOutcome {
  CollateralVerdict verdict;
  bool appraised = false;
  std::shared_ptr<const Collateral> collateral;  // what was used, when loaded
};
Result<CollateralOutcome> verify_quote_collateral(const Quote& q, const PckExtension& pck,
                                                  const DcapVerifyOptions& o,
                                                  const Certificate& root,
                                                  ByteView root_fingerprint,
                                                  const ChainOptions& chain_options);

// Adds "collateral" {tcb_info_issue_date, tcb_info_next_update,
// qe_identity_issue_date, qe_identity_next_update, tcb_evaluation_data_number}
// and "tcb_date" when known. Does nothing for nullptr.
void add_collateral_claims(const CollateralOutcome* outcome, nlohmann::json& claims);

}  // namespace concierge::evidence::dcap
