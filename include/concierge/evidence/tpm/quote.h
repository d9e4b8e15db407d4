// TPM 2.0 quotes, verifier side (TPM 2.0 Library specification Part 2:
// TPMS_ATTEST, TPMS_QUOTE_INFO, TPMT_SIGNATURE, TPMT_PUBLIC / TPM2B_PUBLIC).
//
// All TPM structure (un)marshalling is done by tpm2-tss's libtss2-mu; this
// module only checks what tss2-mu does not (the magic, the attestation type,
// the absence of trailing bytes) and maps the structures onto Concierge types.
//
// Outcomes: malformed or unsupported input is an Error (kTruncated,
// kMalformed, kTrailingData, kUnsupported); a well-formed quote that fails a
// trust check (signature, nonce, PCR digest) is a Verdict::reject naming what
// failed. Pure functions of their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge::evidence::tpm {

// One TPMS_PCR_SELECTION: a bank and the selected PCR indices, ascending.
struct PcrSelection {
  HashAlg bank = HashAlg::kSha256;
  std::vector<unsigned> pcrs;
};

// A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE.
struct ParsedQuote {
  Bytes qualified_signer;  // TPM2B_NAME of the signing key
  Bytes extra_data;        // TPM2B_DATA: the verifier's nonce
  std::uint64_t clock = 0;
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  bool safe = false;
  std::uint64_t firmware_version = 0;
  std::vector<PcrSelection> selections;  // in the quote's order
  Bytes pcr_digest;
  Bytes raw;  // the marshalled TPMS_ATTEST: the signed message
};

// Parses a marshalled TPMS_ATTEST. The whole input must be one structure:
//  - kTruncated when it ends early, kMalformed when tss2-mu rejects a value;
//  - kTrailingData (naming the offset where the structure ended) when bytes
//    follow it;
//  - kMalformed when magic is not TPM_GENERATED_VALUE (0xff544347) or type is
//    not TPM_ST_ATTEST_QUOTE (0x8018): such input is not a quote;
//  - kUnsupported when a selection names a bank HashAlg does not know.
Result<ParsedQuote> parse_quote(ByteView tpms_attest);

// Parses an attestation key's public area, either a TPM2B_PUBLIC (detected by
// its leading size field equal to the remaining length) or a bare
// TPMT_PUBLIC, with the same trailing-byte rule. RSA keys (modulus, exponent;
// 0 means 65537) and ECC keys on NIST P-256 / P-384 are supported; other key
// types or curves are kUnsupported. This is parse_tpm_public(...).key
// (tpm_public.h, which also gives the name and attributes), so a nameAlg
// HashAlg does not know is kUnsupported too.
Result<PublicKey> parse_ak_public(ByteView tpm2b_or_tpmt_public);

struct QuoteCheck {
  Verdict verdict;
  ParsedQuote quote;
};

// Verifies a quote:
//  1. the TPMT_SIGNATURE (RSASSA, RSAPSS with any salt length, or ECDSA; the
//     hash algorithm is the signature's) over quote.raw with `ak`;
//  2. extraData equals `nonce` (constant-time comparison);
//  3. when `pcr_values` is not null (bank -> PCR index -> value): every
//     selected PCR has a value, and the digest of the selected values
//     concatenated (selections in quote order, PCR indices ascending), hashed
//     with the signature's hash algorithm (TPM2_Quote computes pcrDigest with
//     the signing scheme's hash), equals pcrDigest.
// The first failing check gives Verdict::reject naming it:
//   "signature does not verify with the AK", "nonce (extraData) differs",
//   "quote selects sha256 PCR 7 but no value was given",
//   "PCR digest differs from the digest of the given PCR values".
// A signature whose scheme does not fit the AK's type is a rejection too.
// Errors: the quote or signature is malformed (see parse_quote), the
// signature scheme or its hash is unsupported (kUnsupported).
Result<QuoteCheck> verify_quote(ByteView tpms_attest, ByteView tpmt_signature, const PublicKey& ak,
                                ByteView nonce,
                                const std::map<HashAlg, std::map<unsigned, Bytes>>* pcr_values);

}  // namespace concierge::evidence::tpm
