// Appraisal of an evidence envelope: the Verifier of RFC 9334. Evidence
// (envelope.h) + endorsements + reference values (reference_store.h) +
// appraisal policy (policy.h) -> attestation result (ear.h).
//
// For each device (the primary, then the additional ones by name):
//   1. its kind's verifier from the table (evidence_verifier.h) checks the
//      evidence and gives normalized claims; a kind not in the table is an
//      Error (kUnsupported);
//   2. with runtime data (the envelope's one: additional devices may not
//      carry their own), "binding" is whether the report data binds it
//      (binding.h); with require_binding, runtime data must be there;
//   3. with an event log, its events are compared with the reference set
//      "<tee>.event_digest", so an unknown event can be named; for a kind
//      with event logs, when that set has values and no log was sent, the
//      "log" claim says so and does not match (leaving the log out may not
//      skip its appraisal);
//      a kind whose hardware trust is an enrolled key (TPM: "tpm.ak") gets
//      the set's values in its context, and its verifier rejects evidence
//      signed by any other key, whatever the policy says;
//   4. the policy for its kind (the caller's, else the built-in default)
//      appraises the normalized claims against the reference values.
// The envelope's status is the worst device status. The EAR has one submod
// per device: the primary's named by its kind ("snp"), the others by their
// envelope names ("gpu0"), and names the primary ("concierge.primary-submod").
//
// Outcomes: an Error only for input that cannot be understood (malformed
// envelope, evidence, runtime data, or an unusable reference store); every
// verification failure is an appraisal (crypto failure: 99 in every claim).
//
// Thread safety: appraise_envelope is thread-safe when the reference store
// is safe to read concurrently (MemoryReferenceStore is) and the context's
// caches are (they are).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"
#include "concierge/core/verdict.h"
#include "concierge/verifier/ear.h"
#include "concierge/verifier/envelope.h"
#include "concierge/verifier/evidence_verifier.h"
#include "concierge/verifier/policy.h"
#include "concierge/verifier/reference_store.h"

namespace concierge::verifier {

struct AppraiseOptions {
  // Roots, CRLs, collateral, caches. Its `at`, when set, is also the
  // appraisal time (reference value expiry); otherwise now.
  VerifierContext context;
  // Required: the reference values.
  const ReferenceStore* refs = nullptr;
  // Policies by kind ("snp", ...); a kind without one gets default_policy.
  std::map<std::string, Policy> policies;
  // Every device must bind runtime data (the key broker's case): an
  // envelope without runtime data is an Error (kMalformed).
  bool require_binding = false;
};

struct DeviceAppraisal {
  std::string submod;  // "snp" for the primary, the envelope's name otherwise
  std::string tee;
  VerifiedEvidence evidence;
  std::optional<Verdict> binding;  // with runtime data
  Appraisal appraisal;
};

struct EnvelopeAppraisal {
  std::vector<DeviceAppraisal> devices;  // the primary first
  Tier status = Tier::kNone;             // the worst device status
  TimePoint appraised_at;
  std::optional<std::string> nonce;  // the primary's runtime_data.nonce

  // Every device's evidence binds the runtime data.
  bool all_bound() const;

  // {"status", "devices": [{"submod", "tee", "status", "evidence_verified",
  //  "binding", "normalized", "appraisal" (Appraisal::to_json)}]}
  nlohmann::json to_json() const;
  // Per device: a heading with its status, then Appraisal::explain_text.
  std::string explain_text() const;
  // The EAR model: iat = appraised_at, exp = iat + `validity`, one submod
  // per device with its status, vector, policy id and the normalized claims
  // as annotated evidence.
  AttestationResult attestation_result(std::chrono::seconds validity,
                                       const std::string& verifier_build) const;
};

Result<EnvelopeAppraisal> appraise_envelope(const Envelope& envelope,
                                            const AppraiseOptions& options);

}  // namespace concierge::verifier
