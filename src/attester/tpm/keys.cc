// EK, AK, credential activation and quotes through ESAPI.
#include "concierge/attester/tpm/keys.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "attester/tpm/esys_util.h"
#include "concierge/evidence/tpm/tpm_public.h"

namespace concierge::attester::tpm {
namespace {

template <typename T>
Result<Bytes> marshal(TSS2_RC (*fn)(const T*, std::uint8_t*, std::size_t, std::size_t*),
                      const T& value) {
  Bytes out(sizeof(T) + 16);
  std::size_t offset = 0;
  TSS2_RC rc = fn(&value, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return fail(Errc::kInternal, "tss2-mu cannot marshal a structure");
  out.resize(offset);
  return out;
}

template <typename T>
Result<T> unmarshal(TSS2_RC (*fn)(const std::uint8_t*, std::size_t, std::size_t*, T*), ByteView in,
                    const char* what) {
  T out{};
  std::size_t offset = 0;
  TSS2_RC rc = fn(in.data(), in.size(), &offset, &out);
  if (rc != TSS2_RC_SUCCESS) return fail(Errc::kMalformed, std::string(what) + " is malformed");
  if (offset != in.size()) {
    return fail_at(Errc::kTrailingData, what, offset, "trailing bytes after the structure");
  }
  return out;
}

evidence::tpm::EkTemplate ek_template_of(KeyAlg alg) {
  return alg == KeyAlg::kRsa2048 ? evidence::tpm::EkTemplate::kRsa2048
                                 : evidence::tpm::EkTemplate::kEccP256;
}

evidence::tpm::AkTemplate ak_template_of(KeyAlg alg) {
  return alg == KeyAlg::kRsa2048 ? evidence::tpm::AkTemplate::kRsa2048
                                 : evidence::tpm::AkTemplate::kEccP256;
}

Result<PcrValues> read_quoted(Tpm& tpm, const std::vector<PcrSelection>& selection) {
  return tpm.read_pcrs(selection);
}

}  // namespace

std::string_view key_alg_name(KeyAlg alg) { return alg == KeyAlg::kRsa2048 ? "rsa" : "ecc"; }

Result<KeyAlg> key_alg_from_name(std::string_view name) {
  if (name == "rsa" || name == "rsa2048") return KeyAlg::kRsa2048;
  if (name == "ecc" || name == "ecc256" || name == "p256") return KeyAlg::kEccP256;
  return fail(Errc::kInvalidArgument,
              "unknown key algorithm \"" + std::string(name) + "\" (rsa or ecc)");
}

std::uint32_t ek_certificate_index(KeyAlg alg) {
  return alg == KeyAlg::kRsa2048 ? 0x01c00002u : 0x01c0000au;
}

Result<std::optional<Bytes>> read_ek_certificate(Tpm& tpm, KeyAlg alg) {
  CONCIERGE_ASSIGN_OR_RETURN(auto data, tpm.read_nv(ek_certificate_index(alg)));
  if (!data) return data;
  // A DER SEQUENCE with a long-form length: the certificate's own size; what
  // follows (NV indices are often defined larger) is padding.
  const Bytes& d = *data;
  if (d.size() >= 4 && d[0] == 0x30 && d[1] == 0x82) {
    const std::size_t len = 4 + ((static_cast<std::size_t>(d[2]) << 8) | d[3]);
    if (len <= d.size()) data->resize(len);
  }
  return data;
}

Result<Ek> create_ek(Tpm& tpm, KeyAlg alg) {
  const TPM2B_PUBLIC in_public = evidence::tpm::ek_template(ek_template_of(alg));
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* raw_pub = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(tpm.esys(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public, &outside,
                                  &creation_pcr, &handle, &raw_pub, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PUBLIC> out_public(raw_pub);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_CreatePrimary(EK)", rc));
  TpmObject object(&tpm, handle);
  CONCIERGE_ASSIGN_OR_RETURN(Bytes marshalled, marshal(Tss2_MU_TPM2B_PUBLIC_Marshal, *out_public));
  CONCIERGE_ASSIGN_OR_RETURN(auto parsed, evidence::tpm::parse_tpm_public(marshalled));
  return Ek{std::move(object), alg, std::move(marshalled), std::move(parsed.key)};
}

Result<AkBlob> create_ak(Tpm& tpm, const Ek& ek, KeyAlg alg) {
  const TPM2B_PUBLIC in_public = evidence::tpm::ak_template(ak_template_of(alg));
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcr{};
  CONCIERGE_ASSIGN_OR_RETURN(TpmObject session, tpm.endorsement_policy_session());
  TPM2B_PRIVATE* raw_priv = nullptr;
  TPM2B_PUBLIC* raw_pub = nullptr;
  TSS2_RC rc = Esys_Create(tpm.esys(), ek.object.handle(), session.handle(), ESYS_TR_NONE,
                           ESYS_TR_NONE, &sensitive, &in_public, &outside, &creation_pcr, &raw_priv,
                           &raw_pub, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PRIVATE> out_private(raw_priv);
  EsysPtr<TPM2B_PUBLIC> out_public(raw_pub);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_Create(AK)", rc));
  AkBlob blob;
  CONCIERGE_ASSIGN_OR_RETURN(blob.tpm2b_public, marshal(Tss2_MU_TPM2B_PUBLIC_Marshal, *out_public));
  CONCIERGE_ASSIGN_OR_RETURN(blob.tpm2b_private,
                             marshal(Tss2_MU_TPM2B_PRIVATE_Marshal, *out_private));
  CONCIERGE_ASSIGN_OR_RETURN(auto parsed, evidence::tpm::parse_tpm_public(blob.tpm2b_public));
  blob.name = std::move(parsed.name);
  return blob;
}

Result<TpmObject> load_ak(Tpm& tpm, const Ek& ek, const AkBlob& ak) {
  CONCIERGE_ASSIGN_OR_RETURN(
      auto pub, unmarshal(Tss2_MU_TPM2B_PUBLIC_Unmarshal, ak.tpm2b_public, "AK public"));
  CONCIERGE_ASSIGN_OR_RETURN(
      auto priv, unmarshal(Tss2_MU_TPM2B_PRIVATE_Unmarshal, ak.tpm2b_private, "AK private"));
  CONCIERGE_ASSIGN_OR_RETURN(TpmObject session, tpm.endorsement_policy_session());
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_Load(tpm.esys(), ek.object.handle(), session.handle(), ESYS_TR_NONE,
                         ESYS_TR_NONE, &priv, &pub, &handle);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_Load(AK)", rc));
  return TpmObject(&tpm, handle);
}

Result<Bytes> activate_credential(Tpm& tpm, const Ek& ek, const TpmObject& ak,
                                  ByteView tpm2b_id_object, ByteView tpm2b_encrypted_secret) {
  CONCIERGE_ASSIGN_OR_RETURN(
      auto blob, unmarshal(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal, tpm2b_id_object, "credential blob"));
  CONCIERGE_ASSIGN_OR_RETURN(auto secret, unmarshal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                                                    tpm2b_encrypted_secret, "encrypted secret"));
  CONCIERGE_ASSIGN_OR_RETURN(TpmObject session, tpm.endorsement_policy_session());
  TPM2B_DIGEST* raw = nullptr;
  TSS2_RC rc =
      Esys_ActivateCredential(tpm.esys(), ak.handle(), ek.object.handle(), ESYS_TR_PASSWORD,
                              session.handle(), ESYS_TR_NONE, &blob, &secret, &raw);
  EsysPtr<TPM2B_DIGEST> cert_info(raw);
  if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_ActivateCredential", rc));
  Bytes out(cert_info->buffer, cert_info->buffer + cert_info->size);
  wipe(std::span<std::uint8_t>(cert_info->buffer, cert_info->size));
  return out;
}

Result<QuoteOutput> quote(Tpm& tpm, const TpmObject& ak, const std::vector<PcrSelection>& selection,
                          ByteView nonce) {
  TPM2B_DATA qualifying{};
  if (nonce.size() > sizeof qualifying.buffer) {
    return fail(Errc::kInvalidArgument, "the nonce is longer than 64 bytes");
  }
  if (selection.empty()) return fail(Errc::kInvalidArgument, "no PCRs selected");
  qualifying.size = static_cast<UINT16>(nonce.size());
  if (!nonce.empty()) std::memcpy(qualifying.buffer, nonce.data(), nonce.size());
  CONCIERGE_ASSIGN_OR_RETURN(TPML_PCR_SELECTION pcr_select, to_tpml(selection));
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};

  for (int attempt = 0; attempt < 3; ++attempt) {
    CONCIERGE_ASSIGN_OR_RETURN(PcrValues before, read_quoted(tpm, selection));
    TPM2B_ATTEST* raw_attest = nullptr;
    TPMT_SIGNATURE* raw_sig = nullptr;
    TSS2_RC rc = Esys_Quote(tpm.esys(), ak.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &qualifying, &scheme, &pcr_select, &raw_attest, &raw_sig);
    EsysPtr<TPM2B_ATTEST> attest(raw_attest);
    EsysPtr<TPMT_SIGNATURE> sig(raw_sig);
    if (rc != TSS2_RC_SUCCESS) return Unexpected(tpm_error("TPM2_Quote", rc));
    CONCIERGE_ASSIGN_OR_RETURN(PcrValues after, read_quoted(tpm, selection));
    if (before != after) continue;  // a PCR changed while we quoted
    QuoteOutput out;
    out.tpms_attest.assign(attest->attestationData, attest->attestationData + attest->size);
    CONCIERGE_ASSIGN_OR_RETURN(out.tpmt_signature, marshal(Tss2_MU_TPMT_SIGNATURE_Marshal, *sig));
    out.pcrs = std::move(after);
    return out;
  }
  return fail(Errc::kDevice, "the quoted PCRs kept changing during the quote");
}

}  // namespace concierge::attester::tpm
