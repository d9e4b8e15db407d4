// A software TPM quoter: TPM2_Quote's output (TPMS_ATTEST, TPMT_SIGNATURE,
// the AK's TPMT_PUBLIC) produced without a TPM, for tests, benchmarks and
// simulated guests. The real emulator (swtpm) is used where a whole TPM is
// needed; this is the TPM's counterpart of the SEV-SNP and DCAP simulators.
//
// Structures (TPM 2.0 Library Part 2): TPMS_ATTEST of type
// TPM_ST_ATTEST_QUOTE with magic TPM_GENERATED_VALUE (10.12.12), pcrDigest
// = H(selected PCR values concatenated, in selection order, indices
// ascending) with the signing hash (Part 3, 18.4 TPM2_Quote); the signature
// is ECDSA P-256/SHA-256 (TPMT_SIGNATURE, TPM_ALG_ECDSA). All marshalling is
// tss2-mu's.
//
// Trust: the AK is generated here; nothing chains it to a TPM manufacturer.
// A verifier trusts it only through enrolment (its public key as a
// reference value).
//
// Ownership and thread safety: a SoftQuoter owns its key (move-only); quote()
// is const and may be called concurrently.
#pragma once

#include <cstdint>
#include <map>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"

namespace concierge::evidence::tpm {

struct SoftQuote {
  Bytes attest;     // marshalled TPMS_ATTEST: what is signed
  Bytes signature;  // marshalled TPMT_SIGNATURE
  Bytes ak_public;  // marshalled TPMT_PUBLIC of the AK (restricted ECDSA P-256)
};

// The TPMS_ATTEST fields a real TPM fills from its state.
struct SoftQuoteClock {
  Bytes qualified_signer = {0x00, 0x0b, 0x01, 0x02};  // TPM2B_NAME contents
  std::uint64_t clock = 123456789;
  std::uint32_t reset_count = 3;
  std::uint32_t restart_count = 5;
  bool safe = true;
  std::uint64_t firmware_version = 0x0001000200030004ull;
};

class SoftQuoter {
 public:
  // A fresh ECDSA P-256 AK. kCrypto when OpenSSL fails.
  static Result<SoftQuoter> create();
  // An existing P-256 key as the AK (kInvalidArgument otherwise).
  static Result<SoftQuoter> from_key(PrivateKey key);

  SoftQuoter(SoftQuoter&&) noexcept = default;
  SoftQuoter& operator=(SoftQuoter&&) noexcept = default;

  // Quotes every PCR of `bank` given in `pcrs` (PCR index -> value, each of
  // the bank's digest size) with `nonce` as extraData (at most 64 bytes).
  // kInvalidArgument for an empty selection, a PCR over 23, a value of the
  // wrong size or a nonce too long.
  Result<SoftQuote> quote(HashAlg bank, const std::map<unsigned, Bytes>& pcrs, ByteView nonce,
                          const SoftQuoteClock& clock = {}) const;

  const PrivateKey& key() const { return key_; }
  Result<PublicKey> ak() const { return key_.public_key(); }

 private:
  explicit SoftQuoter(PrivateKey key) : key_(std::move(key)) {}
  PrivateKey key_;
};

}  // namespace concierge::evidence::tpm
