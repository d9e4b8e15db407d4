// TPM 2.0 quote verification in process against raw OpenSSL verification of
// the same signature, in the same run.
//
// The quote is built here: a TPMS_ATTEST of type quote (32-byte nonce, sha256
// PCRs 0-7, pcrDigest = SHA-256 of the 8 values concatenated) marshalled with
// tss2-mu, signed with a fresh key, the signature wrapped in a TPMT_SIGNATURE.
//   BM_VerifyQuoteEcdsaP256 / BM_VerifyQuoteRsa2048
//       evidence::tpm::verify_quote(attest, signature, ak, nonce, &pcrs):
//       what a verifier does per quote (no event log).
//   BM_RawOpenSslEcdsaP256 / BM_RawOpenSslRsa2048
//       the floor: EVP_DigestVerifyInit + EVP_DigestVerify of the same
//       TPMS_ATTEST bytes and signature (DER for ECDSA) with the same
//       EVP_PKEY and a pre-fetched SHA-256 EVP_MD.
// Target (docs/performance.md): quote rate >= 70% of the raw rate. Neither
// loop builds the PublicKey: a verifier parses the AK once.
//
// The breakdown benchmarks say where the difference goes:
//   BM_ParseQuote              parse_quote alone (tss2-mu + ParsedQuote copies)
//   BM_ConciergeEcdsaP256 /    core's verify_ecdsa_der / verify_rsa_pkcs1 on
//   BM_ConciergeRsa2048        the same message (the wrappers' own overhead)
// items_per_second counts quotes (or signatures) verified.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/tpm/quote.h"

namespace {

using concierge::Bytes;
using concierge::ByteView;
using concierge::HashAlg;
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

constexpr unsigned kPcrs = 8;

template <typename B>
void fill_tpm2b(B& b, ByteView data) {
  b.size = static_cast<std::uint16_t>(data.size());
  std::memcpy(b.buffer, data.data(), data.size());
}

// Everything one signature scheme's benchmarks need, built once.
struct QuoteSubject {
  std::optional<concierge::PublicKey> ak;
  Bytes nonce;
  PcrValues pcrs;
  Bytes attest;          // marshalled TPMS_ATTEST: the signed message
  Bytes tpmt_signature;  // marshalled TPMT_SIGNATURE
  Bytes raw_signature;   // what EVP_DigestVerify takes: DER (ECDSA) or the RSA block
  const EVP_MD* sha256 = nullptr;
  std::string error;  // non-empty: setup failed, benchmarks skip
};

Bytes make_attest(const Bytes& nonce, const PcrValues& pcrs, std::string& error) {
  TPMS_ATTEST att{};
  att.magic = TPM2_GENERATED_VALUE;
  att.type = TPM2_ST_ATTEST_QUOTE;
  Bytes name(34, 0x5a);  // nameAlg (sha256) || digest of the AK's public area
  name[0] = 0x00;
  name[1] = 0x0b;
  att.qualifiedSigner.size = static_cast<std::uint16_t>(name.size());
  std::memcpy(att.qualifiedSigner.name, name.data(), name.size());
  fill_tpm2b(att.extraData, nonce);
  att.clockInfo.clock = 123456789;
  att.clockInfo.resetCount = 3;
  att.clockInfo.restartCount = 1;
  att.clockInfo.safe = 1;
  att.firmwareVersion = 0x2000000000001ull;
  TPML_PCR_SELECTION& sel = att.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0xff;  // PCRs 0-7
  Bytes concatenated;
  for (const auto& [pcr, value] : pcrs.at(HashAlg::kSha256)) {
    concatenated.insert(concatenated.end(), value.begin(), value.end());
  }
  auto pcr_digest = concierge::digest(HashAlg::kSha256, concatenated);
  if (!pcr_digest) {
    error = pcr_digest.error().to_string();
    return {};
  }
  fill_tpm2b(att.attested.quote.pcrDigest, *pcr_digest);
  Bytes out(sizeof(TPMS_ATTEST));
  std::size_t offset = 0;
  if (Tss2_MU_TPMS_ATTEST_Marshal(&att, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) {
    error = "Tss2_MU_TPMS_ATTEST_Marshal failed";
    return {};
  }
  out.resize(offset);
  return out;
}

Bytes marshal_signature(const TPMT_SIGNATURE& sig, std::string& error) {
  Bytes out(sizeof(TPMT_SIGNATURE));
  std::size_t offset = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) {
    error = "Tss2_MU_TPMT_SIGNATURE_Marshal failed";
    return {};
  }
  out.resize(offset);
  return out;
}

// Signs s.attest with `key` and fills the signature fields; false on failure.
bool sign(QuoteSubject& s, const concierge::PrivateKey& key, bool ecdsa) {
  TPMT_SIGNATURE sig{};
  if (ecdsa) {
    auto r_s = key.sign_ecdsa_raw(HashAlg::kSha256, s.attest);
    if (!r_s) return (s.error = r_s.error().to_string()), false;
    ByteView rs(*r_s);
    const std::size_t half = rs.size() / 2;
    sig.sigAlg = TPM2_ALG_ECDSA;
    sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
    fill_tpm2b(sig.signature.ecdsa.signatureR, rs.first(half));
    fill_tpm2b(sig.signature.ecdsa.signatureS, rs.subspan(half));
    auto der = concierge::ecdsa_raw_to_der(rs.first(half), rs.subspan(half));
    if (!der) return (s.error = der.error().to_string()), false;
    s.raw_signature = std::move(*der);
  } else {
    auto block = key.sign_rsa_pkcs1(HashAlg::kSha256, s.attest);
    if (!block) return (s.error = block.error().to_string()), false;
    sig.sigAlg = TPM2_ALG_RSASSA;
    sig.signature.rsassa.hash = TPM2_ALG_SHA256;
    fill_tpm2b(sig.signature.rsassa.sig, *block);
    s.raw_signature = std::move(*block);
  }
  s.tpmt_signature = marshal_signature(sig, s.error);
  return s.error.empty();
}

std::unique_ptr<QuoteSubject> make_subject(bool ecdsa) {
  auto s = std::make_unique<QuoteSubject>();
  s->sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  auto key = ecdsa ? concierge::PrivateKey::generate_ec(concierge::EcCurve::kP256)
                   : concierge::PrivateKey::generate_rsa(2048);
  if (!key || s->sha256 == nullptr) {
    s->error = key ? "cannot fetch SHA2-256" : key.error().to_string();
    return s;
  }
  auto pub = key->public_key();
  if (!pub) {
    s->error = pub.error().to_string();
    return s;
  }
  s->ak.emplace(std::move(*pub));
  s->nonce.resize(32);
  for (std::size_t i = 0; i < s->nonce.size(); ++i) s->nonce[i] = static_cast<std::uint8_t>(i * 7);
  for (unsigned pcr = 0; pcr < kPcrs; ++pcr) {
    const std::string label = "PCR " + std::to_string(pcr);
    s->pcrs[HashAlg::kSha256][pcr] =
        *concierge::digest(HashAlg::kSha256, concierge::as_bytes(label));
  }
  s->attest = make_attest(s->nonce, s->pcrs, s->error);
  if (!s->error.empty() || !sign(*s, *key, ecdsa)) return s;
  // The quote must verify before it is timed.
  auto check = concierge::evidence::tpm::verify_quote(s->attest, s->tpmt_signature, *s->ak,
                                                      s->nonce, &s->pcrs);
  if (!check) {
    s->error = check.error().to_string();
  } else if (!check->verdict.accepted) {
    s->error = "the benchmark quote does not verify: " + check->verdict.reason;
  }
  return s;
}

const QuoteSubject& subject(bool ecdsa) {
  static const std::unique_ptr<QuoteSubject> ec = make_subject(true);
  static const std::unique_ptr<QuoteSubject> rsa = make_subject(false);
  return ecdsa ? *ec : *rsa;
}

bool skip_if_broken(benchmark::State& state, const QuoteSubject& s) {
  if (s.error.empty()) return false;
  state.SkipWithError(s.error.c_str());
  return true;
}

void bm_verify_quote(benchmark::State& state, bool ecdsa) {
  const QuoteSubject& s = subject(ecdsa);
  if (skip_if_broken(state, s)) return;
  for (auto _ : state) {
    auto r =
        concierge::evidence::tpm::verify_quote(s.attest, s.tpmt_signature, *s.ak, s.nonce, &s.pcrs);
    if (!r || !r->verdict.accepted) {
      state.SkipWithError("verify_quote did not accept");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_raw_openssl(benchmark::State& state, bool ecdsa) {
  const QuoteSubject& s = subject(ecdsa);
  if (skip_if_broken(state, s)) return;
  EVP_PKEY* pkey = s.ak->get();
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr &&
                    EVP_DigestVerifyInit(ctx, nullptr, s.sha256, nullptr, pkey) == 1 &&
                    EVP_DigestVerify(ctx, s.raw_signature.data(), s.raw_signature.size(),
                                     s.attest.data(), s.attest.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
      state.SkipWithError("EVP_DigestVerify did not accept");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_parse_quote(benchmark::State& state) {
  const QuoteSubject& s = subject(true);
  if (skip_if_broken(state, s)) return;
  for (auto _ : state) {
    auto q = concierge::evidence::tpm::parse_quote(s.attest);
    benchmark::DoNotOptimize(q);
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_concierge_signature(benchmark::State& state, bool ecdsa) {
  const QuoteSubject& s = subject(ecdsa);
  if (skip_if_broken(state, s)) return;
  for (auto _ : state) {
    auto v = ecdsa
                 ? concierge::verify_ecdsa_der(*s.ak, HashAlg::kSha256, s.attest, s.raw_signature)
                 : concierge::verify_rsa_pkcs1(*s.ak, HashAlg::kSha256, s.attest, s.raw_signature);
    if (!v || !v->accepted) {
      state.SkipWithError("signature did not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(bm_verify_quote, ecdsa_p256, true)->Name("BM_VerifyQuoteEcdsaP256");
BENCHMARK_CAPTURE(bm_raw_openssl, ecdsa_p256, true)->Name("BM_RawOpenSslEcdsaP256");
BENCHMARK_CAPTURE(bm_verify_quote, rsa_2048, false)->Name("BM_VerifyQuoteRsa2048");
BENCHMARK_CAPTURE(bm_raw_openssl, rsa_2048, false)->Name("BM_RawOpenSslRsa2048");
BENCHMARK(bm_parse_quote)->Name("BM_ParseQuote");
BENCHMARK_CAPTURE(bm_concierge_signature, ecdsa_p256, true)->Name("BM_ConciergeEcdsaP256");
BENCHMARK_CAPTURE(bm_concierge_signature, rsa_2048, false)->Name("BM_ConciergeRsa2048");

}  // namespace
