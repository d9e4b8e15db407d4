// Binding evidence to the runtime data it came with, so a genuine report
// cannot be replayed with another key.
//
// The attester puts in the evidence's report data (SNP/TDX/SGX REPORT_DATA,
// the TPM quote's extraData) the digest of its runtime data:
//   digest = H(JCS({"nonce": <the verifier's challenge>, "tee-pubkey": <JWK>}))
// with JCS the RFC 8785 canonical JSON of exactly those two members, H the
// kind's binding hash (SHA-384 for SNP/TDX/SGX, SHA-256 for TPM: a TPM's
// nonce must fit its largest digest), zero-padded to the kind's report data
// size (64 bytes; TPM: the 32 bytes themselves). This is the Confidential
// Containers KBS convention (runtime-data hashed into the report data).
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge::verifier {

// The report data an attester must produce for `runtime_data`. kMalformed
// when runtime_data lacks "nonce" (a string) or "tee-pubkey" (an object), or
// has other members; kInvalidArgument when the digest does not fit `size`.
Result<Bytes> runtime_data_digest(const nlohmann::json& runtime_data, HashAlg hash,
                                  std::size_t size);

// Accepted when `report_data` equals runtime_data_digest (constant time);
// otherwise rejected: "report data does not bind the runtime data (nonce and
// tee-pubkey): expected <hex>, the evidence has <hex>".
Result<Verdict> check_binding(ByteView report_data, const nlohmann::json& runtime_data,
                              HashAlg hash, std::size_t size);

}  // namespace concierge::verifier
