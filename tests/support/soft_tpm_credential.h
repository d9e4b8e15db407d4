// An independent software TPM2_ActivateCredential for tests: what a TPM does
// with a credential made by evidence::tpm::make_credential, given the EK's
// private key (generated with OpenSSL, so no TPM is needed).
//
// Written apart from src/evidence/tpm on purpose: KDFa is OpenSSL's EVP_KDF
// "KBKDF" (counter mode, HMAC) and KDFe is EVP_KDF "SSKDF" (hash variant),
// where the library writes both per the TPM specification by hand; the TPM2B
// structures are unmarshalled with tss2-mu. The KDF helpers are exported for
// cross-checks in the KDF tests; they take whole bytes only.
//
// Pure functions (thread-safe). Failures are Results: kDevice
// with "integrity check failed" when the outer HMAC does not match (what a
// TPM answers, TPM_RC_INTEGRITY), kMalformed for structures that do not
// unmarshal, kCrypto when the seed cannot be recovered.
#pragma once

#include <cstddef>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/private_key.h"
#include "concierge/core/result.h"
#include "concierge/evidence/tpm/tpm_public.h"

namespace concierge::testing {

// TPM2_ActivateCredential in software: recovers the seed with the EK private
// key, checks the outer HMAC over encIdentity || ak_name, decrypts the
// credential. `ek_public` gives nameAlg, the symmetric key size and (ECC) the
// EK's x coordinate as the TPM holds it.
Result<Bytes> soft_activate_credential(const PrivateKey& ek_private,
                                       const evidence::tpm::TpmPublic& ek_public, ByteView ak_name,
                                       ByteView tpm2b_id_object, ByteView tpm2b_encrypted_secret);

// OpenSSL KBKDF (counter mode, HMAC, 32-bit counter, 0x00 separator, [L]32):
// KDFa for a label without its NUL and bytes * 8 bits.
Result<Bytes> openssl_kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                           ByteView context_v, std::size_t bytes);

// OpenSSL SSKDF (hash): KDFe for a label without its NUL and bytes * 8 bits.
Result<Bytes> openssl_kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u,
                           ByteView party_v, std::size_t bytes);

}  // namespace concierge::testing
