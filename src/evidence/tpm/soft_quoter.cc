#include "concierge/evidence/tpm/soft_quoter.h"

#include <tss2/tss2_mu.h>

#include <cstring>
#include <string>
#include <vector>

#include "concierge/core/signature.h"
#include "concierge/evidence/tpm/tpm_public.h"

namespace concierge::evidence::tpm {
namespace {

template <typename B>
void set2b(B& b, ByteView data) {
  b.size = static_cast<UINT16>(data.size());
  std::memcpy(b.buffer, data.data(), data.size());
}

TPM2_ALG_ID tpm_alg(HashAlg alg) { return static_cast<TPM2_ALG_ID>(alg); }

Result<Bytes> marshal_attest(const TPMS_ATTEST& att) {
  std::vector<std::uint8_t> buf(sizeof(TPMS_ATTEST));
  std::size_t off = 0;
  if (Tss2_MU_TPMS_ATTEST_Marshal(&att, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS) {
    return fail(Errc::kInternal, "TPMS_ATTEST marshalling failed");
  }
  buf.resize(off);
  return buf;
}

}  // namespace

Result<SoftQuoter> SoftQuoter::create() {
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::generate_ec(EcCurve::kP256));
  return SoftQuoter(std::move(key));
}

Result<SoftQuoter> SoftQuoter::from_key(PrivateKey key) {
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pub, key.public_key());
  if (pub.curve() != EcCurve::kP256) {
    return fail(Errc::kInvalidArgument, "the soft quoter's AK must be ECDSA P-256");
  }
  return SoftQuoter(std::move(key));
}

Result<SoftQuote> SoftQuoter::quote(HashAlg bank, const std::map<unsigned, Bytes>& pcrs,
                                    ByteView nonce, const SoftQuoteClock& clock) const {
  if (pcrs.empty()) return fail(Errc::kInvalidArgument, "no PCR to quote");
  if (nonce.size() > 64) return fail(Errc::kInvalidArgument, "nonce longer than 64 bytes");
  if (clock.qualified_signer.size() > sizeof(TPMU_NAME)) {
    return fail(Errc::kInvalidArgument, "qualified signer too long");
  }
  TPMS_ATTEST att{};
  att.magic = TPM2_GENERATED_VALUE;
  att.type = TPM2_ST_ATTEST_QUOTE;
  att.qualifiedSigner.size = static_cast<UINT16>(clock.qualified_signer.size());
  std::memcpy(att.qualifiedSigner.name, clock.qualified_signer.data(),
              clock.qualified_signer.size());
  set2b(att.extraData, nonce);
  att.clockInfo.clock = clock.clock;
  att.clockInfo.resetCount = clock.reset_count;
  att.clockInfo.restartCount = clock.restart_count;
  att.clockInfo.safe = clock.safe ? 1 : 0;
  att.firmwareVersion = clock.firmware_version;
  TPML_PCR_SELECTION& sel = att.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = tpm_alg(bank);
  sel.pcrSelections[0].sizeofSelect = 3;
  Bytes concat;
  for (const auto& [pcr, value] : pcrs) {
    if (pcr > 23) return fail(Errc::kInvalidArgument, "PCR " + std::to_string(pcr) + " > 23");
    if (value.size() != digest_size(bank)) {
      return fail(Errc::kInvalidArgument,
                  "PCR " + std::to_string(pcr) + " value is not a " + std::string(hash_name(bank)));
    }
    sel.pcrSelections[0].pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    concat.insert(concat.end(), value.begin(), value.end());  // std::map: ascending
  }
  // TPM2_Quote hashes the PCR values with the signing scheme's hash.
  CONCIERGE_ASSIGN_OR_RETURN(Bytes pcr_digest, digest(HashAlg::kSha256, concat));
  set2b(att.attested.quote.pcrDigest, pcr_digest);

  SoftQuote out;
  CONCIERGE_ASSIGN_OR_RETURN(out.attest, marshal_attest(att));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes der, key_.sign_ecdsa_der(HashAlg::kSha256, out.attest));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes rs, ecdsa_der_to_raw(der, 32));
  TPMT_SIGNATURE sig{};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  set2b(sig.signature.ecdsa.signatureR, ByteView(rs).first(32));
  set2b(sig.signature.ecdsa.signatureS, ByteView(rs).last(32));
  std::vector<std::uint8_t> buf(sizeof(TPMT_SIGNATURE));
  std::size_t off = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS) {
    return fail(Errc::kInternal, "TPMT_SIGNATURE marshalling failed");
  }
  out.signature.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(off));

  // The AK's public area: the SEC1 point 04 || x || y is the SPKI's tail.
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pub, key_.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(Bytes spki, pub.to_der());
  const ByteView point = ByteView(spki).last(64);
  TPMT_PUBLIC tp{};
  tp.type = TPM2_ALG_ECC;
  tp.nameAlg = TPM2_ALG_SHA256;
  // The attributes of a real AK (tpm_public.h kAkAttributes: fixedTPM,
  // fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign).
  tp.objectAttributes = kAkAttributes;
  tp.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  tp.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  tp.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  tp.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  tp.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  set2b(tp.unique.ecc.x, point.first(32));
  set2b(tp.unique.ecc.y, point.last(32));
  std::vector<std::uint8_t> pbuf(sizeof(TPMT_PUBLIC));
  off = 0;
  if (Tss2_MU_TPMT_PUBLIC_Marshal(&tp, pbuf.data(), pbuf.size(), &off) != TSS2_RC_SUCCESS) {
    return fail(Errc::kInternal, "TPMT_PUBLIC marshalling failed");
  }
  out.ak_public.assign(pbuf.begin(), pbuf.begin() + static_cast<std::ptrdiff_t>(off));
  return out;
}

}  // namespace concierge::evidence::tpm
