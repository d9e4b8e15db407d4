// TPM 2.0 object public areas, verifier side, and the templates an attester
// creates its keys from.
//
//  - TPMT_PUBLIC / TPM2B_PUBLIC: TPM 2.0 Library Part 2, 12.2.4 and 12.2.5;
//    object attributes (TPMA_OBJECT): Part 2, 8.3.
//  - Names: Part 1, 16 ("Names"): an object's name is nameAlg (2 bytes,
//    big-endian) || H_nameAlg(marshalled TPMT_PUBLIC).
//  - EK templates: TCG EK Credential Profile for TPM Family 2.0, Annex B.3.3
//    (template L-1, RSA 2048) and B.3.4 (template L-2, ECC NIST P-256): the
//    keys manufacturers certify in the EK certificates at NV 0x01c00002 and
//    0x01c0000a.
//
// All TPM structures are (un)marshalled by tpm2-tss's libtss2-mu; this module
// maps them onto Concierge types and computes names with OpenSSL.
//
// Outcomes: malformed input is an Error naming the field and its offset
// (kTruncated, kMalformed, kTrailingData); a well-formed public area of a
// kind not handled here (key types other than RSA and ECC, curves other than
// NIST P-256 / P-384, a nameAlg HashAlg does not know) is kUnsupported. An AK
// whose attributes do not make it an AK is a Verdict::reject.
// Pure functions of their inputs; thread-safe. TpmPublic is a move-only value
// (it owns a PublicKey).
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"
#include "concierge/core/verdict.h"

namespace concierge::evidence::tpm {

// The public area of an RSA or ECC object. Algorithm identifiers are TPM
// values (TPM2_ALG_*, TPM2_ECC_*; tss2_tpm2_types.h).
struct TpmPublic {
  std::uint16_t type = TPM2_ALG_NULL;  // TPM2_ALG_RSA or TPM2_ALG_ECC
  HashAlg name_alg = HashAlg::kSha256;
  std::uint32_t attributes = 0;  // TPMA_OBJECT bits
  Bytes auth_policy;
  // parameters.{rsa,ecc}Detail.symmetric: TPM2_ALG_NULL (then bits and mode
  // are 0 and TPM2_ALG_NULL) unless the key is a restricted decryption key.
  std::uint16_t sym_alg = TPM2_ALG_NULL;
  std::uint16_t sym_key_bits = 0;
  std::uint16_t sym_mode = TPM2_ALG_NULL;
  // parameters.{rsa,ecc}Detail.scheme and its hash (TPM2_ALG_NULL when the
  // scheme is TPM2_ALG_NULL).
  std::uint16_t scheme = TPM2_ALG_NULL;
  std::uint16_t scheme_hash = TPM2_ALG_NULL;
  // RSA: keyBits and the exponent as stored (0 means 65537).
  std::uint16_t rsa_key_bits = 0;
  std::uint32_t rsa_exponent = 0;
  // ECC: curveID, the kdf scheme, and unique.ecc's coordinates as the TPM
  // holds them (big-endian; the TPM pads them to the curve size).
  std::uint16_t ecc_curve = 0;
  std::uint16_t ecc_kdf = TPM2_ALG_NULL;
  Bytes ecc_x;
  Bytes ecc_y;

  PublicKey key;      // the public key (unique), as an OpenSSL key
  Bytes tpmt_public;  // the marshalled TPMT_PUBLIC
  Bytes name;         // nameAlg (2 bytes, big-endian) || H_nameAlg(tpmt_public)
};

// Parses a public area, either a TPM2B_PUBLIC (detected by its leading size
// field equal to the remaining length) or a bare TPMT_PUBLIC; the whole input
// must be that one structure (kTrailingData otherwise). RSA keys (modulus,
// exponent) and ECC keys on NIST P-256 / P-384 are supported. tpmt_public is
// the input's TPMT_PUBLIC bytes as given, so `name` is the TPM's name of the
// object. Errors name the field and its offset in the input.
Result<TpmPublic> parse_tpm_public(ByteView tpm2b_or_tpmt_public);

// The TPM name of a marshalled TPMT_PUBLIC: nameAlg (big-endian) ||
// H_nameAlg(tpmt_public). kUnsupported when OpenSSL lacks the hash.
Result<Bytes> tpm_object_name(HashAlg name_alg, ByteView tpmt_public);

// The marshalled TPM2B_PUBLIC of `pub` (what tpm2_createek -u / tpm2_createak
// -u write and tpm2_makecredential -u reads).
Result<Bytes> marshal_tpm2b_public(const TpmPublic& pub);

// ---- Templates -----------------------------------------------------------

// fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted
// | decrypt: the attributes of both default EK templates.
inline constexpr std::uint32_t kEkAttributes = 0x000300b2;
// fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted |
// sign: a restricted signing key that cannot leave its TPM.
inline constexpr std::uint32_t kAkAttributes = 0x00050072;
// PolicyA_SHA256 of the EK Credential Profile: the policy digest of
// TPM2_PolicySecret(TPM_RH_ENDORSEMENT), the authPolicy of both templates.
inline constexpr std::uint8_t kEkPolicyASha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

enum class EkTemplate {
  kRsa2048,  // L-1: RSA 2048, AES-128-CFB, scheme NULL, exponent 0
  kEccP256,  // L-2: ECC NIST P-256, AES-128-CFB, scheme NULL, kdf NULL
};

enum class AkTemplate {
  kEccP256,  // ECC NIST P-256, ECDSA with SHA-256 (the default)
  kRsa2048,  // RSA 2048, RSASSA-PKCS1-v1_5 with SHA-256, exponent 0
};

// The default EK template with an empty unique as TPM2_CreatePrimary wants
// it: nameAlg SHA-256, kEkAttributes, authPolicy PolicyA_SHA256; unique is
// 256 zero bytes (RSA) or x and y of 32 zero bytes each (ECC), as the profile
// specifies. The returned struct's size field is 0 (Esys computes it).
TPM2B_PUBLIC ek_template(EkTemplate which);

// An AK template for TPM2_Create under the EK: nameAlg SHA-256,
// kAkAttributes, empty authPolicy, symmetric NULL, empty unique.
TPM2B_PUBLIC ak_template(AkTemplate which = AkTemplate::kEccP256);

// The public area the default EK template (L-1 for an RSA 2048 key with
// exponent 65537, L-2 for a P-256 key) produces for `ek_key`: what a verifier
// holding only an EK certificate's key needs to compute the EK's name and
// make a credential for it. Other keys are kUnsupported.
Result<TpmPublic> ek_public_from_key(const PublicKey& ek_key);

// An AK must be a restricted signing key that cannot leave its TPM: fixedTPM,
// fixedParent, sensitiveDataOrigin, restricted and sign set, decrypt clear.
// Rejects naming the first missing or extra attribute, e.g.
// "AK attribute fixedTPM is not set", "AK attribute decrypt is set".
Verdict check_ak_attributes(const TpmPublic& ak);

}  // namespace concierge::evidence::tpm
