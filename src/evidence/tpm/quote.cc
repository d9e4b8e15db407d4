// TPM 2.0 quote verification; every TPM structure goes through tss2-mu.
#include "concierge/evidence/tpm/quote.h"

#include <tss2/tss2_mu.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "concierge/core/signature.h"
#include "concierge/evidence/tpm/tpm_public.h"
#include "evidence/tpm/mu.h"

namespace concierge::evidence::tpm {
namespace {

using mu::hex16;
using mu::tpm2b_bytes;
using mu::unmarshal_all;

Result<HashAlg> hash_of(std::uint16_t alg, std::string_view what) {
  auto h = hash_from_tcg_id(alg);
  if (!h)
    return fail(Errc::kUnsupported,
                std::string(what) + ": unsupported hash algorithm " + hex16(alg));
  return *h;
}

}  // namespace

Result<ParsedQuote> parse_quote(ByteView tpms_attest) {
  // magic and type first, for a clear error on input that is not a quote.
  if (tpms_attest.size() >= 6) {
    std::size_t off = 0;
    UINT32 magic = 0;
    UINT16 type = 0;
    if (Tss2_MU_UINT32_Unmarshal(tpms_attest.data(), tpms_attest.size(), &off, &magic) ==
            TSS2_RC_SUCCESS &&
        magic != TPM2_GENERATED_VALUE) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(magic));
      return fail_at(Errc::kMalformed, "magic", 0,
                     std::string("magic is ") + buf + ", not TPM_GENERATED_VALUE 0xff544347");
    }
    if (Tss2_MU_UINT16_Unmarshal(tpms_attest.data(), tpms_attest.size(), &off, &type) ==
            TSS2_RC_SUCCESS &&
        type != TPM2_ST_ATTEST_QUOTE) {
      return fail_at(Errc::kMalformed, "type", 4,
                     "attestation type is " + hex16(type) + ", not TPM_ST_ATTEST_QUOTE 0x8018");
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      TPMS_ATTEST att, unmarshal_all(&Tss2_MU_TPMS_ATTEST_Unmarshal, tpms_attest, "TPMS_ATTEST"));
  if (att.magic != TPM2_GENERATED_VALUE || att.type != TPM2_ST_ATTEST_QUOTE) {
    return fail_at(Errc::kMalformed, "TPMS_ATTEST", 0, "not a TPM-generated quote");
  }
  ParsedQuote q;
  q.qualified_signer.assign(att.qualifiedSigner.name,
                            att.qualifiedSigner.name + att.qualifiedSigner.size);
  q.extra_data = tpm2b_bytes(att.extraData);
  q.clock = att.clockInfo.clock;
  q.reset_count = att.clockInfo.resetCount;
  q.restart_count = att.clockInfo.restartCount;
  q.safe = att.clockInfo.safe != 0;
  q.firmware_version = att.firmwareVersion;
  const TPML_PCR_SELECTION& sel = att.attested.quote.pcrSelect;
  // Offset of the first TPMS_PCR_SELECTION, for error messages: magic, type,
  // the two TPM2Bs, TPMS_CLOCK_INFO (17 bytes), firmwareVersion, count.
  std::size_t sel_offset =
      4 + 2 + 2 + att.qualifiedSigner.size + 2 + att.extraData.size + 17 + 8 + 4;
  for (std::uint32_t i = 0; i < sel.count; ++i) {
    const TPMS_PCR_SELECTION& s = sel.pcrSelections[i];
    auto bank_alg = hash_from_tcg_id(s.hash);
    if (!bank_alg) {
      return fail_at(Errc::kUnsupported, "pcrSelect.hash", sel_offset,
                     "PCR selection of unsupported bank " + hex16(s.hash));
    }
    const HashAlg bank = *bank_alg;
    sel_offset += 2 + 1 + s.sizeofSelect;
    PcrSelection out{bank, {}};
    for (unsigned byte = 0; byte < s.sizeofSelect; ++byte) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        if ((s.pcrSelect[byte] >> bit) & 1u) out.pcrs.push_back(byte * 8 + bit);
      }
    }
    q.selections.push_back(std::move(out));
  }
  q.pcr_digest = tpm2b_bytes(att.attested.quote.pcrDigest);
  q.raw.assign(tpms_attest.begin(), tpms_attest.end());
  return q;
}

Result<PublicKey> parse_ak_public(ByteView in) {
  CONCIERGE_ASSIGN_OR_RETURN(TpmPublic pub, parse_tpm_public(in));
  return std::move(pub.key);
}

Result<QuoteCheck> verify_quote(ByteView tpms_attest, ByteView tpmt_signature, const PublicKey& ak,
                                ByteView nonce,
                                const std::map<HashAlg, std::map<unsigned, Bytes>>* pcr_values) {
  CONCIERGE_ASSIGN_OR_RETURN(ParsedQuote quote, parse_quote(tpms_attest));
  CONCIERGE_ASSIGN_OR_RETURN(TPMT_SIGNATURE sig, unmarshal_all(&Tss2_MU_TPMT_SIGNATURE_Unmarshal,
                                                               tpmt_signature, "TPMT_SIGNATURE"));

  auto done = [&quote](Verdict v) -> Result<QuoteCheck> {
    return QuoteCheck{std::move(v), std::move(quote)};
  };
  const std::string bad_sig = "signature does not verify with the AK";
  const KeyType key_type = ak.type();
  HashAlg alg = HashAlg::kSha256;
  Verdict sig_verdict;
  switch (sig.sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
      const bool pss = sig.sigAlg == TPM2_ALG_RSAPSS;
      const TPMS_SIGNATURE_RSA& rsa = pss ? sig.signature.rsapss : sig.signature.rsassa;
      CONCIERGE_ASSIGN_OR_RETURN(alg, hash_of(rsa.hash, "quote signature"));
      if (key_type != KeyType::kRsa && !(pss && key_type == KeyType::kRsaPss)) {
        return done(Verdict::reject(bad_sig + " (RSA signature, the AK is not an RSA key)"));
      }
      ByteView s(rsa.sig.buffer, rsa.sig.size);
      CONCIERGE_ASSIGN_OR_RETURN(sig_verdict,
                                 pss ? verify_rsa_pss(ak, alg, quote.raw, s, PssSalt::kAuto)
                                     : verify_rsa_pkcs1(ak, alg, quote.raw, s));
      break;
    }
    case TPM2_ALG_ECDSA: {
      const TPMS_SIGNATURE_ECC& ecc = sig.signature.ecdsa;
      CONCIERGE_ASSIGN_OR_RETURN(alg, hash_of(ecc.hash, "quote signature"));
      if (key_type != KeyType::kEc) {
        return done(Verdict::reject(bad_sig + " (ECDSA signature, the AK is not an EC key)"));
      }
      auto der = ecdsa_raw_to_der(ByteView(ecc.signatureR.buffer, ecc.signatureR.size),
                                  ByteView(ecc.signatureS.buffer, ecc.signatureS.size));
      if (!der) return done(Verdict::reject(bad_sig + " (" + der.error().message + ")"));
      CONCIERGE_ASSIGN_OR_RETURN(sig_verdict, verify_ecdsa_der(ak, alg, quote.raw, *der));
      break;
    }
    default:
      return fail(Errc::kUnsupported, "quote signature: unsupported scheme " + hex16(sig.sigAlg));
  }
  if (!sig_verdict) return done(Verdict::reject(bad_sig));

  if (quote.extra_data.size() != nonce.size() || !equal_constant_time(quote.extra_data, nonce)) {
    return done(Verdict::reject("nonce (extraData) differs"));
  }

  if (pcr_values != nullptr) {
    CONCIERGE_ASSIGN_OR_RETURN(Hasher hasher, Hasher::create(alg));
    for (const PcrSelection& s : quote.selections) {
      auto bank = pcr_values->find(s.bank);
      for (unsigned pcr : s.pcrs) {
        const Bytes* value = nullptr;
        if (bank != pcr_values->end()) {
          auto it = bank->second.find(pcr);
          if (it != bank->second.end()) value = &it->second;
        }
        if (value == nullptr) {
          return done(Verdict::reject("quote selects " + std::string(hash_name(s.bank)) + " PCR " +
                                      std::to_string(pcr) + " but no value was given"));
        }
        hasher.update(*value);
      }
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes computed, hasher.finish());
    if (computed != quote.pcr_digest) {
      return done(Verdict::reject("PCR digest differs from the digest of the given PCR values"));
    }
  }
  return done(Verdict::accept());
}

}  // namespace concierge::evidence::tpm
