// Keys in the TPM: the endorsement key (EK), attestation keys (AK), credential
// activation, and quotes.
//
// The EK is created from the TCG EK Credential Profile 2.0 default templates
// (section 2.2.1.4, templates L-1 RSA-2048 and L-2 ECC NIST P-256), so it is
// the key the manufacturer certified; its certificate is read from the NV
// index the profile assigns (section 2.2.1.5: 0x01c00002 RSA, 0x01c0000a ECC).
// The AK is a restricted signing key created as a child of the EK (ECC P-256
// with ECDSA-SHA256 by default, RSA-2048 with RSASSA-SHA256 on request), the
// way tpm2_createak makes it, so credential activation binds it to the EK's
// TPM. Its public and private blobs (TPM2B_PUBLIC, TPM2B_PRIVATE, the private
// part wrapped by the EK) are the caller's to store and load again.
//
// Ownership and thread safety: as tpm.h. Each function flushes every
// transient object and session it creates; an Ek or a loaded AK holds one
// slot until destroyed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "concierge/attester/tpm/tpm.h"
#include "concierge/core/bytes.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"

namespace concierge::attester::tpm {

enum class KeyAlg { kRsa2048, kEccP256 };
std::string_view key_alg_name(KeyAlg alg);  // "rsa", "ecc"
Result<KeyAlg> key_alg_from_name(std::string_view name);

struct Ek {
  TpmObject object;
  KeyAlg alg = KeyAlg::kRsa2048;
  Bytes tpm2b_public;  // marshalled TPM2B_PUBLIC, as tpm2_createek -u writes it
  PublicKey key;
};

// The profile's NV index of the EK certificate for `alg`.
std::uint32_t ek_certificate_index(KeyAlg alg);
// The DER EK certificate, or nullopt when the TPM has none for `alg`. The
// index may be padded with zeros after the certificate; those are dropped.
Result<std::optional<Bytes>> read_ek_certificate(Tpm& tpm, KeyAlg alg);
// TPM2_CreatePrimary in the endorsement hierarchy with the default template.
Result<Ek> create_ek(Tpm& tpm, KeyAlg alg);

struct AkBlob {
  Bytes tpm2b_public;   // marshalled TPM2B_PUBLIC (tpm2_createak -u)
  Bytes tpm2b_private;  // marshalled TPM2B_PRIVATE (tpm2_createak -r)
  Bytes name;           // the TPM name: nameAlg || H(TPMT_PUBLIC)
};

// TPM2_Create under the EK (authorized by PolicySecret(endorsement)).
Result<AkBlob> create_ak(Tpm& tpm, const Ek& ek, KeyAlg alg);
// TPM2_Load under the EK; fails (kDevice) when the blob was wrapped by another
// TPM's EK.
Result<TpmObject> load_ak(Tpm& tpm, const Ek& ek, const AkBlob& ak);

// TPM2_ActivateCredential: returns the secret a verifier sealed to (EK, AK
// name) with MakeCredential. The TPM refuses (kDevice) when the credential was
// made for another EK or another AK name: that refusal is the proof's failure.
// The returned secret is the caller's to wipe.
Result<Bytes> activate_credential(Tpm& tpm, const Ek& ek, const TpmObject& ak,
                                  ByteView tpm2b_id_object, ByteView tpm2b_encrypted_secret);

struct QuoteOutput {
  Bytes tpms_attest;     // marshalled TPMS_ATTEST (tpm2_quote -m)
  Bytes tpmt_signature;  // marshalled TPMT_SIGNATURE (tpm2_quote -s)
  PcrValues pcrs;        // the quoted PCRs' values
};

// TPM2_Quote of `selection` with `nonce` as qualifying data (at most 64
// bytes), signed with the AK's own scheme, and the quoted PCR values. The
// values are read before and after the quote and must agree (a concurrent
// extend makes it retry, up to three times), so they match the quote's
// pcrDigest.
Result<QuoteOutput> quote(Tpm& tpm, const TpmObject& ak, const std::vector<PcrSelection>& selection,
                          ByteView nonce);

}  // namespace concierge::attester::tpm
