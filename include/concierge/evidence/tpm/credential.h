// TPM2_MakeCredential done in software from public data only, and the
// credential file tpm2-tools writes and reads.
//
// A verifier seals a secret to an (EK, AK name) pair; only the TPM holding
// that EK, with an object of that name loaded, can recover it with
// TPM2_ActivateCredential. That proves the AK lives in the same TPM as the
// EK (whose certificate says which TPM it is).
//
// The construction (TPM 2.0 Library Part 1, clause 24 "Credential
// Protection", using "Secret Sharing" and the KDFs of 11.4.10, and the outer
// wrapper of "Protected Storage": symmetric encryption and integrity):
//  - seed: for an RSA EK, random bytes of the size of the EK's nameAlg
//    digest, encrypted with RSA-OAEP (hash and MGF1 hash = nameAlg, label
//    "IDENTITY" with its terminating NUL); for an ECC EK, an ephemeral ECDH
//    key on the EK's curve, Z = x of the shared point, seed = KDFe(nameAlg,
//    Z, "IDENTITY", ephemeral.x, ek.x, digest bits), and the encrypted
//    secret is the marshalled TPMS_ECC_POINT of the ephemeral key;
//  - symKey = KDFa(nameAlg, seed, "STORAGE", akName, empty, EK symmetric
//    key bits); encIdentity = AES-CFB(symKey, IV = 0) of the marshalled
//    TPM2B_DIGEST(secret);
//  - HMACkey = KDFa(nameAlg, seed, "INTEGRITY", empty, empty, digest bits);
//    outerHMAC = HMAC_nameAlg(HMACkey, encIdentity || akName);
//  - credentialBlob (TPM2B_ID_OBJECT) = TPM2B_DIGEST(outerHMAC) ||
//    encIdentity; secret (TPM2B_ENCRYPTED_SECRET) = the encrypted seed or
//    the marshalled point.
// Structures are marshalled by tss2-mu; crypto is OpenSSL 3 (RSA-OAEP, ECDH,
// AES-CFB, HMAC; KDFa/KDFe in kdf.h). Seeds, Z and derived keys are wiped
// before their storage is freed.
//
// Thread safety: pure functions of their inputs (and of OpenSSL's random
// generator); thread-safe.
#pragma once

#include <cstdint>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/evidence/tpm/tpm_public.h"

namespace concierge::evidence::tpm {

struct Credential {
  Bytes id_object;         // marshalled TPM2B_ID_OBJECT (TPM2_MakeCredential credentialBlob)
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET (TPM2_MakeCredential secret)
};

// Seals `secret` to the EK `ek` and the object named `ak_name`.
//  - `ek` must be an RSA or ECC (P-256 / P-384) restricted decryption key
//    with an AES-CFB symmetric definition (both default EK templates are);
//    otherwise kInvalidArgument (not a restricted decryption key) or
//    kUnsupported (another symmetric algorithm or mode).
//  - `ak_name` must be a well-formed object name: a hash algorithm HashAlg
//    knows (2 bytes, big-endian) followed by a digest of that size;
//    otherwise kInvalidArgument naming field "ak_name" and the offset.
//  - `secret` must be 1 to digest_size(ek.name_alg) bytes (the TPM refuses
//    a larger credential); otherwise kInvalidArgument.
// kCrypto when OpenSSL fails. Each call uses fresh randomness.
Result<Credential> make_credential(const TpmPublic& ek, ByteView ak_name, ByteView secret);

// ---- tpm2-tools credential file (tpm2_makecredential -o,
// tpm2_activatecredential -i) ----

inline constexpr std::uint32_t kCredentialFileMagic = 0xBADCC0DE;
inline constexpr std::uint32_t kCredentialFileVersion = 1;

// Big-endian magic, big-endian version 1, then id_object and
// encrypted_secret as given (they are already marshalled TPM2Bs).
Bytes encode_credential_file(const Credential& credential);

// The inverse. The two TPM2Bs are unmarshalled with tss2-mu (so their sizes
// are bounded by the structures' capacities) and returned as their
// marshalled bytes. Errors name the field and its offset: kMalformed for a
// wrong magic ("magic", 0), kUnsupported for another version ("version", 4),
// kTruncated, kMalformed for a TPM2B tss2-mu rejects, kTrailingData for
// bytes after the encrypted secret.
Result<Credential> parse_credential_file(ByteView file);

}  // namespace concierge::evidence::tpm
