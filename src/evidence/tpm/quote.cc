// TPM 2.0 quote verification; every TPM structure goes through tss2-mu.
#include "concierge/evidence/tpm/quote.h"

#include <tss2/tss2_mu.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "concierge/core/signature.h"

namespace concierge::evidence::tpm {
namespace {

std::string hex16(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
  return buf;
}

// Maps a tss2-mu return code onto an Error about `what` (which starts at
// `offset`; tss2-mu does not say where inside it the problem is).
Unexpected mu_error(TSS2_RC rc, std::string_view what, std::size_t offset) {
  const TSS2_RC base = rc & 0xffffu;
  if (base == TSS2_BASE_RC_INSUFFICIENT_BUFFER) {
    return fail_at(Errc::kTruncated, std::string(what), offset,
                   "input ends before the end of the structure");
  }
  return fail_at(Errc::kMalformed, std::string(what), offset,
                 "tss2-mu rejects the structure (rc " + hex16(rc) + ")");
}

// Unmarshals one T from the whole of `in`; trailing bytes are kTrailingData.
template <typename T>
Result<T> unmarshal_all(TSS2_RC (*fn)(const std::uint8_t*, std::size_t, std::size_t*, T*),
                        ByteView in, std::string_view what) {
  if (in.empty()) return fail_at(Errc::kTruncated, std::string(what), 0, "input is empty");
  T out{};
  std::size_t offset = 0;
  TSS2_RC rc = fn(in.data(), in.size(), &offset, &out);
  if (rc != TSS2_RC_SUCCESS) return mu_error(rc, what, 0);
  if (offset != in.size()) {
    return fail_at(
        Errc::kTrailingData, std::string(what), offset,
        std::to_string(in.size() - offset) + " trailing bytes after the " + std::string(what));
  }
  return out;
}

template <typename B>
Bytes tpm2b_bytes(const B& b) {
  return Bytes(b.buffer, b.buffer + b.size);
}

Result<HashAlg> hash_of(std::uint16_t alg, std::string_view what) {
  auto h = hash_from_tcg_id(alg);
  if (!h)
    return fail(Errc::kUnsupported,
                std::string(what) + ": unsupported hash algorithm " + hex16(alg));
  return *h;
}

Result<PublicKey> key_from_tpmt(const TPMT_PUBLIC& pub) {
  switch (pub.type) {
    case TPM2_ALG_RSA: {
      std::uint32_t e = pub.parameters.rsaDetail.exponent;
      if (e == 0) e = 65537;
      Bytes exponent;
      for (int shift = 24; shift >= 0; shift -= 8) {
        auto byte = static_cast<std::uint8_t>(e >> shift);
        if (!exponent.empty() || byte != 0) exponent.push_back(byte);
      }
      return PublicKey::from_rsa(ByteView(pub.unique.rsa.buffer, pub.unique.rsa.size), exponent);
    }
    case TPM2_ALG_ECC: {
      EcCurve curve;
      switch (pub.parameters.eccDetail.curveID) {
        case TPM2_ECC_NIST_P256:
          curve = EcCurve::kP256;
          break;
        case TPM2_ECC_NIST_P384:
          curve = EcCurve::kP384;
          break;
        default:
          return fail(Errc::kUnsupported, "AK public: unsupported ECC curve " +
                                              hex16(pub.parameters.eccDetail.curveID));
      }
      const auto& p = pub.unique.ecc;
      return PublicKey::from_ec_coordinates(curve, ByteView(p.x.buffer, p.x.size),
                                            ByteView(p.y.buffer, p.y.size));
    }
    default:
      return fail(Errc::kUnsupported, "AK public: unsupported key type " + hex16(pub.type));
  }
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
  if (in.size() >= 2 && ((std::size_t{in[0]} << 8) | in[1]) == in.size() - 2) {
    CONCIERGE_ASSIGN_OR_RETURN(TPM2B_PUBLIC pub,
                               unmarshal_all(&Tss2_MU_TPM2B_PUBLIC_Unmarshal, in, "TPM2B_PUBLIC"));
    return key_from_tpmt(pub.publicArea);
  }
  CONCIERGE_ASSIGN_OR_RETURN(TPMT_PUBLIC pub,
                             unmarshal_all(&Tss2_MU_TPMT_PUBLIC_Unmarshal, in, "TPMT_PUBLIC"));
  return key_from_tpmt(pub);
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
