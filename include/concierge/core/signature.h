// Signature verification (ECDSA P-256/P-384, RSA PKCS#1 v1.5, RSA-PSS) through
// OpenSSL 3 EVP.
//
// Outcomes: every verify_* function returns
//   - Verdict::accept() when the signature is valid for the message and key;
//   - Verdict::reject(reason) when it is not, *including* when the signature
//     bytes are not a well-formed encoding (bad DER, r or s wider than the
//     curve, wrong length for the RSA modulus): forged and garbled signatures
//     are both "does not verify";
//   - an Error when the request itself is unusable: a key of the wrong type
//     for the scheme (kInvalidArgument), a digest the OpenSSL build lacks
//     (kUnsupported), or an OpenSSL failure that is not a verification
//     result (kCrypto).
// The hash is always the caller's choice (SHA-1 is accepted for legacy TPM
// evidence; policy on weak hashes belongs to the caller).
//
// Signing (for tests and simulators) is in private_key.h.
// Thread safety: all functions are thread-safe (each call uses its own OpenSSL
// contexts; keys are only read).
#pragma once

#include <cstddef>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge {

// ---- ECDSA (key must be KeyType::kEc, P-256 or P-384) ----

// DER ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }), strict DER only.
Result<Verdict> verify_ecdsa_der(const PublicKey& key, HashAlg alg, ByteView message,
                                 ByteView der_signature);
// Raw r || s: two big-endian halves of equal length (usually the coordinate
// size; longer halves are accepted when the excess is leading zeros).
Result<Verdict> verify_ecdsa_raw(const PublicKey& key, HashAlg alg, ByteView message, ByteView r_s);
// r || s with each component little-endian and `component_len` bytes long,
// zero-padded at the high end (AMD SEV-SNP: component_len = 72). The
// signature must be exactly 2 * component_len bytes.
Result<Verdict> verify_ecdsa_le(const PublicKey& key, HashAlg alg, ByteView message,
                                ByteView r_s_le, std::size_t component_len);
// Prehashed: `digest` is the already-computed message hash (e.g. a TPM quote's
// TPMS_ATTEST digest). Any length from 20 to 64 bytes; ECDSA truncates it to
// the group order size.
Result<Verdict> verify_ecdsa_prehashed_der(const PublicKey& key, ByteView digest,
                                           ByteView der_signature);
Result<Verdict> verify_ecdsa_prehashed_raw(const PublicKey& key, ByteView digest, ByteView r_s);

// ---- RSA (key must be KeyType::kRsa; kRsaPss keys for PSS only) ----

enum class PssSalt {
  kDigestLength,  // salt length == digest length (RFC 8017 recommendation)
  kAuto,          // any salt length, recovered from the signature
};

Result<Verdict> verify_rsa_pkcs1(const PublicKey& key, HashAlg alg, ByteView message,
                                 ByteView signature);
// PSS with MGF1 over the same hash as the message.
Result<Verdict> verify_rsa_pss(const PublicKey& key, HashAlg alg, ByteView message,
                               ByteView signature, PssSalt salt = PssSalt::kDigestLength);
// Prehashed RSA: `digest` must be digest_size(alg) bytes.
Result<Verdict> verify_rsa_pkcs1_prehashed(const PublicKey& key, HashAlg alg, ByteView digest,
                                           ByteView signature);
Result<Verdict> verify_rsa_pss_prehashed(const PublicKey& key, HashAlg alg, ByteView digest,
                                         ByteView signature, PssSalt salt = PssSalt::kDigestLength);

// ---- ECDSA encoding conversions (kMalformed on bad input) ----

// Big-endian r and s (leading zeros allowed) to DER.
Result<Bytes> ecdsa_raw_to_der(ByteView r, ByteView s);
// DER to big-endian r || s, each left-padded to component_len bytes
// (kMalformed when a component does not fit, or the DER is not strict).
Result<Bytes> ecdsa_der_to_raw(ByteView der, std::size_t component_len);
// Reverses each of the two halves of r || s: big-endian <-> little-endian
// (the halves must have equal length).
Result<Bytes> ecdsa_swap_endianness(ByteView r_s);

}  // namespace concierge
