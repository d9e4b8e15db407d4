// The TPM 2.0 key derivation functions (TPM 2.0 Library Part 1, 11.4.10
// "Key Derivation Function" in revision 1.59):
//
//  - KDFa (11.4.10.2): SP 800-108 counter mode with HMAC,
//      K(i) = HMAC_hash(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32)
//  - KDFe (11.4.10.3): SP 800-56A concatenation KDF with the counter first,
//      K(i) = H_hash([i]32 || Z || label || 0x00 || partyUInfo || partyVInfo)
//
// The output is K(1) || K(2) || ... truncated to ceil(bits / 8) bytes; when
// bits is not a multiple of 8 the unused high-order bits of the first byte
// are cleared (as the reference implementation does). `label` is given
// without its terminating NUL: the 0x00 octet is appended unless the label
// already ends with one.
//
// Written per the specification with OpenSSL 3 EVP_MAC (HMAC) and EVP_Digest
// rather than EVP_KDF "KBKDF" / "SSKDF", which can only produce whole bytes
// and put bits = 8 * bytes into KDFa's [L]; the tests cross-check both
// against OpenSSL's KDFs and against published vectors.
//
// The output is key material: the caller owns it and should wipe() it.
// Errors: kInvalidArgument for bits == 0 or above 8 * 65535, kUnsupported
// when OpenSSL lacks the hash, kCrypto when OpenSSL fails.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"

namespace concierge::evidence::tpm {

Result<Bytes> kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                   ByteView context_v, std::size_t bits);

Result<Bytes> kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u_info,
                   ByteView party_v_info, std::size_t bits);

}  // namespace concierge::evidence::tpm
