// Intel DCAP quote verification with the PCK chain and the collateral cached,
// against the floor: the two raw OpenSSL P-256 verifications every quote
// needs (the QE report with the PCK key, the quote with the attestation key),
// in the same run.
//
//   BM_VerifyTdxSimulated   verify_dcap on a v4 TDX quote from the simulator,
//                           with its collateral loaded once (TCB Info, QE
//                           Identity, TCB Signing chain): TCB status UpToDate
//   BM_RawOpenSslTwoP256Simulated
//                           EVP_DigestVerify (SHA-256) of the QE report and
//                           of the quote's signed data, keys and DER
//                           signatures prepared once, outside the loop
//   BM_VerifyTdxReal / BM_RawOpenSslTwoP256Real
//                           the same on the real cos-113 quote of the shared
//                           vectors (Intel's real chain; no collateral: its
//                           signing chain is not among the vectors)
//   BM_ParseDcapQuote       parse_quote alone
// Per quote, verify_dcap parses the quote, finds the PCK chain in the cache
// (SHA-256 of the certification data), checks both signatures and the QE
// report binding (a SHA-256), finds the collateral's signatures in the cache
// (SHA-256 of the signed bodies), matches the TCB level and QE identity, and
// builds the claims. Target (docs/performance.md): >= 80% of the raw rate.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "concierge/core/bytes.h"
#include "concierge/core/signature.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/dcap/verify.h"

namespace {

namespace dcap = concierge::evidence::dcap;
using concierge::Bytes;
using concierge::ByteView;

struct Subject {
  Bytes quote;
  std::optional<concierge::Certificate> root;  // unset: Intel's built-in
  std::shared_ptr<const dcap::Collateral> collateral;
  std::optional<concierge::TimePoint> at;
  // The floor's inputs.
  std::optional<concierge::PublicKey> pck_key;
  std::optional<concierge::PublicKey> attestation_key;
  Bytes qe_report_der_signature;
  Bytes quote_der_signature;
  std::string error;
};

Bytes read_all(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  Bytes data;
  std::uint8_t buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) {
    data.insert(data.end(), buf, buf + n);
  }
  std::fclose(f);
  return data;
}

Bytes der_of(ByteView r_s) {
  auto der = concierge::ecdsa_raw_to_der(r_s.first(32), r_s.subspan(32));
  return der ? *der : Bytes{};
}

// Fills the floor's inputs from the quote and its PCK leaf.
void finish(Subject& s) {
  auto q = dcap::parse_quote(s.quote);
  if (!q) {
    s.error = q.error().to_string();
    return;
  }
  auto certs = concierge::Certificate::from_pem_bundle(*q->pck_chain_pem());
  if (!certs) {
    s.error = certs.error().to_string();
    return;
  }
  auto pck = certs->front().public_key();
  auto ak = concierge::PublicKey::from_ec_point(concierge::EcCurve::kP256,
                                                q->layout.attestation_key.of(s.quote));
  if (!pck || !ak) {
    s.error = "keys";
    return;
  }
  s.pck_key = std::move(*pck);
  s.attestation_key = std::move(*ak);
  s.qe_report_der_signature = der_of(q->layout.qe_report_signature.of(s.quote));
  s.quote_der_signature = der_of(q->layout.signature.of(s.quote));
}

const Subject& simulated_subject() {
  static const Subject s = [] {
    Subject out;
    auto sim = dcap::DcapSimulator::create();
    if (!sim) {
      out.error = sim.error().to_string();
      return out;
    }
    dcap::TdQuoteInput input;
    input.mr_td.fill(0x42);
    input.report_data.fill(0x07);
    auto quote = sim->tdx_quote(input);
    auto collateral = sim->collateral(dcap::TeeType::kTdx);
    if (!quote || !collateral) {
      out.error = "simulator failed";
      return out;
    }
    out.quote = *quote;
    out.root = sim->root();
    out.collateral = std::make_shared<const dcap::Collateral>(std::move(*collateral));
    finish(out);
    return out;
  }();
  return s;
}

const Subject& real_subject() {
  static const Subject s = [] {
    Subject out;
    out.quote = read_all(std::string(CONCIERGE_VECTORS_DIR) +
                         "/tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
    if (out.quote.empty()) {
      out.error = "the shared vectors (tdx/go-tdx-guest) are absent";
      return out;
    }
    out.at = concierge::parse_rfc3339("2025-01-01T00:00:00Z").value();
    finish(out);
    return out;
  }();
  return s;
}

void bm_verify(benchmark::State& state, const Subject& (*subject)()) {
  const Subject& s = subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  dcap::DcapVerifyCache cache;
  dcap::DcapVerifyOptions o;
  o.expected_tee = dcap::TeeType::kTdx;
  o.root = s.root;
  o.collateral = s.collateral;
  o.at = s.at;
  o.cache = &cache;
  auto first = dcap::verify_dcap(s.quote, o);  // warms the caches
  if (!first || !first->verdict.accepted) {
    state.SkipWithError("the quote does not verify");
    return;
  }
  for (auto _ : state) {
    auto r = dcap::verify_dcap(s.quote, o);
    if (!r || !r->verdict.accepted) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

bool raw_verify(const concierge::PublicKey& key, ByteView der, ByteView message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx, der.data(), der.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

void bm_raw(benchmark::State& state, const Subject& (*subject)()) {
  const Subject& s = subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  auto q = dcap::parse_quote(s.quote);
  const ByteView qe_report = q->layout.qe_report.of(s.quote);
  const ByteView signed_data = q->layout.signed_data.of(s.quote);
  for (auto _ : state) {
    const bool ok = raw_verify(*s.pck_key, s.qe_report_der_signature, qe_report) &&
                    raw_verify(*s.attestation_key, s.quote_der_signature, signed_data);
    if (!ok) state.SkipWithError("raw verification failed");
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_parse(benchmark::State& state) {
  const Subject& s = simulated_subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  for (auto _ : state) {
    auto r = dcap::parse_quote(s.quote);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(bm_verify, simulated, simulated_subject)->Name("BM_VerifyTdxSimulated");
BENCHMARK_CAPTURE(bm_raw, simulated, simulated_subject)->Name("BM_RawOpenSslTwoP256Simulated");
BENCHMARK_CAPTURE(bm_verify, real, real_subject)->Name("BM_VerifyTdxReal");
BENCHMARK_CAPTURE(bm_raw, real, real_subject)->Name("BM_RawOpenSslTwoP256Real");
BENCHMARK(bm_parse)->Name("BM_ParseDcapQuote");
