// TPM 2.0 public areas: unmarshalled by tss2-mu, mapped onto TpmPublic, named
// with OpenSSL digests (core/digest.h).
#include "concierge/evidence/tpm/tpm_public.h"

#include <string>
#include <utility>

#include "evidence/tpm/mu.h"

namespace concierge::evidence::tpm {
namespace {

using mu::hex16;

// Offsets inside a marshalled TPMT_PUBLIC (Part 2, 12.2.4): type (2),
// nameAlg (2), objectAttributes (4), authPolicy (TPM2B), parameters, unique.
// These only place error messages; tss2-mu has already parsed the input.
constexpr std::size_t kNameAlgOffset = 2;
constexpr std::size_t kPolicyOffset = 8;

// Where parameters.{rsa,ecc}Detail's field after the scheme starts (keyBits
// for RSA, curveID for ECC): the symmetric definition is an algorithm plus,
// unless NULL, keyBits and mode; the scheme is a selector plus, unless NULL,
// its hash (and a count for ECDAA).
std::size_t after_scheme_offset(const TPMT_PUBLIC& p, std::uint16_t sym_alg, std::uint16_t scheme) {
  std::size_t at = kPolicyOffset + 2 + p.authPolicy.size;
  at += 2 + (sym_alg == TPM2_ALG_NULL ? 0 : 4);
  at += 2 + (scheme == TPM2_ALG_NULL || scheme == TPM2_ALG_RSAES
                 ? 0
                 : (scheme == TPM2_ALG_ECDAA ? 4 : 2));
  return at;
}

// The same error, re-anchored at `field`/`offset` when it had no position
// (PublicKey's constructors do not know where their bytes came from).
Unexpected at_field(Error e, std::string field, std::size_t offset) {
  if (!e.offset) {
    e.field = std::move(field);
    e.offset = offset;
  }
  return Unexpected(std::move(e));
}

Result<PublicKey> rsa_key(const TPMT_PUBLIC& pub, std::size_t unique_offset) {
  std::uint32_t e = pub.parameters.rsaDetail.exponent;
  if (e == 0) e = 65537;
  Bytes exponent;
  for (int shift = 24; shift >= 0; shift -= 8) {
    auto byte = static_cast<std::uint8_t>(e >> shift);
    if (!exponent.empty() || byte != 0) exponent.push_back(byte);
  }
  auto key = PublicKey::from_rsa(ByteView(pub.unique.rsa.buffer, pub.unique.rsa.size), exponent);
  if (!key) return at_field(std::move(key).error(), "unique.rsa", unique_offset);
  return key;
}

Result<PublicKey> ecc_key(const TPMT_PUBLIC& pub, std::size_t curve_offset,
                          std::size_t unique_offset) {
  EcCurve curve;
  switch (pub.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256:
      curve = EcCurve::kP256;
      break;
    case TPM2_ECC_NIST_P384:
      curve = EcCurve::kP384;
      break;
    default:
      return fail_at(Errc::kUnsupported, "parameters.eccDetail.curveID", curve_offset,
                     "unsupported ECC curve " + hex16(pub.parameters.eccDetail.curveID));
  }
  const auto& p = pub.unique.ecc;
  auto key = PublicKey::from_ec_coordinates(curve, ByteView(p.x.buffer, p.x.size),
                                            ByteView(p.y.buffer, p.y.size));
  if (!key) return at_field(std::move(key).error(), "unique.ecc", unique_offset);
  return key;
}

// Maps a TPMT_PUBLIC (whose marshalled form is `tpmt`, found at `base` in
// the caller's input) onto a TpmPublic.
Result<TpmPublic> from_tpmt(const TPMT_PUBLIC& pub, ByteView tpmt, std::size_t base) {
  if (pub.type != TPM2_ALG_RSA && pub.type != TPM2_ALG_ECC) {
    return fail_at(Errc::kUnsupported, "type", base,
                   "unsupported key type " + hex16(pub.type) + " (RSA or ECC only)");
  }
  auto name_alg = hash_from_tcg_id(pub.nameAlg);
  if (!name_alg) {
    return fail_at(Errc::kUnsupported, "nameAlg", base + kNameAlgOffset,
                   "unsupported nameAlg " + hex16(pub.nameAlg));
  }
  const bool rsa = pub.type == TPM2_ALG_RSA;
  const TPMT_SYM_DEF_OBJECT& sym =
      rsa ? pub.parameters.rsaDetail.symmetric : pub.parameters.eccDetail.symmetric;
  // TPMT_RSA_SCHEME and TPMT_ECC_SCHEME share their layout (selector, then a
  // TPMU_ASYM_SCHEME whose members start with the hash, except RSAES's,
  // which is empty).
  const std::uint16_t scheme =
      rsa ? pub.parameters.rsaDetail.scheme.scheme : pub.parameters.eccDetail.scheme.scheme;
  const std::uint16_t scheme_hash = scheme == TPM2_ALG_NULL || scheme == TPM2_ALG_RSAES
                                        ? TPM2_ALG_NULL
                                    : rsa ? pub.parameters.rsaDetail.scheme.details.anySig.hashAlg
                                          : pub.parameters.eccDetail.scheme.details.anySig.hashAlg;
  const std::size_t unique_size =
      rsa ? 2u + pub.unique.rsa.size : 4u + pub.unique.ecc.x.size + pub.unique.ecc.y.size;
  const std::size_t unique_offset = base + tpmt.size() - unique_size;

  Result<PublicKey> key =
      rsa ? rsa_key(pub, unique_offset)
          : ecc_key(pub, base + after_scheme_offset(pub, sym.algorithm, scheme), unique_offset);
  if (!key) return Unexpected(std::move(key).error());
  auto name = tpm_object_name(*name_alg, tpmt);  // fails when OpenSSL lacks SM3
  if (!name) return at_field(std::move(name).error(), "nameAlg", base + kNameAlgOffset);

  TpmPublic out{
      .type = pub.type,
      .name_alg = *name_alg,
      .attributes = pub.objectAttributes,
      .auth_policy = mu::tpm2b_bytes(pub.authPolicy),
      .sym_alg = sym.algorithm,
      .sym_key_bits = sym.algorithm == TPM2_ALG_NULL ? std::uint16_t{0} : sym.keyBits.sym,
      .sym_mode = sym.algorithm == TPM2_ALG_NULL ? std::uint16_t{TPM2_ALG_NULL} : sym.mode.sym,
      .scheme = scheme,
      .scheme_hash = scheme_hash,
      .rsa_key_bits = 0,
      .rsa_exponent = 0,
      .ecc_curve = 0,
      .ecc_kdf = TPM2_ALG_NULL,
      .ecc_x = {},
      .ecc_y = {},
      .key = std::move(key).value(),
      .tpmt_public = Bytes(tpmt.begin(), tpmt.end()),
      .name = std::move(name).value()};
  if (rsa) {
    out.rsa_key_bits = pub.parameters.rsaDetail.keyBits;
    out.rsa_exponent = pub.parameters.rsaDetail.exponent;
  } else {
    out.ecc_curve = pub.parameters.eccDetail.curveID;
    out.ecc_kdf = pub.parameters.eccDetail.kdf.scheme;
    out.ecc_x = mu::tpm2b_bytes(pub.unique.ecc.x);
    out.ecc_y = mu::tpm2b_bytes(pub.unique.ecc.y);
  }
  return out;
}

}  // namespace

Result<TpmPublic> parse_tpm_public(ByteView in) {
  if (in.size() >= 2 && ((std::size_t{in[0]} << 8) | in[1]) == in.size() - 2) {
    CONCIERGE_ASSIGN_OR_RETURN(
        TPM2B_PUBLIC pub, mu::unmarshal_all(&Tss2_MU_TPM2B_PUBLIC_Unmarshal, in, "TPM2B_PUBLIC"));
    return from_tpmt(pub.publicArea, in.subspan(2), 2);
  }
  CONCIERGE_ASSIGN_OR_RETURN(TPMT_PUBLIC pub,
                             mu::unmarshal_all(&Tss2_MU_TPMT_PUBLIC_Unmarshal, in, "TPMT_PUBLIC"));
  return from_tpmt(pub, in, 0);
}

Result<Bytes> tpm_object_name(HashAlg name_alg, ByteView tpmt_public) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes h, digest(name_alg, tpmt_public));
  const auto id = static_cast<std::uint16_t>(name_alg);
  Bytes name{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

Result<Bytes> marshal_tpm2b_public(const TpmPublic& pub) {
  TPM2B_PUBLIC out{};
  CONCIERGE_ASSIGN_OR_RETURN(out.publicArea, mu::unmarshal_all(&Tss2_MU_TPMT_PUBLIC_Unmarshal,
                                                               pub.tpmt_public, "TPMT_PUBLIC"));
  return mu::marshal(&Tss2_MU_TPM2B_PUBLIC_Marshal, out, "TPM2B_PUBLIC");
}

Verdict check_ak_attributes(const TpmPublic& ak) {
  struct Rule {
    std::uint32_t bit;
    const char* name;
    bool required;  // must be set (true) or clear (false)
  };
  static constexpr Rule kRules[] = {
      {TPMA_OBJECT_FIXEDTPM, "fixedTPM", true},
      {TPMA_OBJECT_FIXEDPARENT, "fixedParent", true},
      {TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin", true},
      {TPMA_OBJECT_RESTRICTED, "restricted", true},
      {TPMA_OBJECT_SIGN_ENCRYPT, "sign", true},
      {TPMA_OBJECT_DECRYPT, "decrypt", false},
  };
  for (const Rule& r : kRules) {
    const bool set = (ak.attributes & r.bit) != 0;
    if (set != r.required) {
      return Verdict::reject(std::string("AK attribute ") + r.name +
                             (r.required ? " is not set" : " is set"));
    }
  }
  return Verdict::accept();
}

}  // namespace concierge::evidence::tpm
