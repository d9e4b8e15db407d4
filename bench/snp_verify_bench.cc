// SEV-SNP report verification with the VCEK chain cached, against raw OpenSSL
// P-384 verification of the same signature, in the same run.
//
//   BM_VerifySnpReal       verify_snp on the real Milan report of the shared
//                          vectors with its real VCEK and AMD's built-in roots
//                          (skipped when the vectors are absent)
//   BM_RawOpenSslP384Real  the floor: EVP_DigestVerify (SHA-384) of the same
//                          672 signed bytes with the VCEK's EVP_PKEY and the
//                          signature converted to DER once, outside the loop
//   BM_VerifySnpSimulated / BM_RawOpenSslP384Simulated
//                          the same on a report from the simulator (v3, Genoa)
//   BM_ParseSnpReport      parse_report alone
// Per report, verify_snp parses the report, looks the VCEK up in the chain
// cache (SHA-256 of its DER), reads its AMD extensions, compares them with the
// report, and verifies the signature. Target (docs/performance.md): >= 85% of
// the raw rate. items_per_second counts reports (or signatures).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "concierge/core/bytes.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/evidence/snp/verify.h"

namespace {

namespace snp = concierge::evidence::snp;
using concierge::Bytes;
using concierge::ByteView;

struct Subject {
  Bytes report;
  std::optional<concierge::Certificate> vcek;
  std::vector<snp::AmdRootSet> roots;  // empty: AMD's built-in
  Bytes der_signature;
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

void finish(Subject& s) {
  Bytes r(s.report.begin() + 0x2A0, s.report.begin() + 0x2A0 + 72);
  Bytes sig_s(s.report.begin() + 0x2E8, s.report.begin() + 0x2E8 + 72);
  std::reverse(r.begin(), r.end());
  std::reverse(sig_s.begin(), sig_s.end());
  auto der = concierge::ecdsa_raw_to_der(r, sig_s);
  if (!der) {
    s.error = der.error().to_string();
    return;
  }
  s.der_signature = *der;
}

const Subject& real_subject() {
  static const Subject s = [] {
    Subject out;
    const std::string dir = std::string(CONCIERGE_VECTORS_DIR) + "/snp/go-sev-guest/";
    out.report = read_all(dir + "attestation.bin");
    auto vcek = concierge::Certificate::from_der(read_all(dir + "vcek.der"));
    if (out.report.empty() || !vcek) {
      out.error = "the shared vectors (snp/go-sev-guest) are absent";
      return out;
    }
    out.vcek = *vcek;
    finish(out);
    return out;
  }();
  return s;
}

const Subject& simulated_subject() {
  static const Subject s = [] {
    Subject out;
    snp::SimulatorOptions options;
    options.product = snp::Product::kGenoa;
    auto sim = snp::SnpSimulator::create(options);
    if (!sim) {
      out.error = sim.error().to_string();
      return out;
    }
    snp::ReportRequest req;
    req.measurement.fill(0x42);
    auto report = sim->issue(req);
    auto roots = sim->root_set();
    if (!report || !roots) {
      out.error = "simulator failed";
      return out;
    }
    out.report = *report;
    out.vcek = sim->vcek();
    out.roots = {*roots};
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
  snp::AmdChainCache cache;
  snp::SnpVerifyOptions o;
  o.endorsement_key = s.vcek;
  o.trusted_roots = s.roots;
  o.cache = &cache;
  auto first = snp::verify_snp(s.report, o);  // warms the chain cache
  if (!first || !first->verdict.accepted) {
    state.SkipWithError("the report does not verify");
    return;
  }
  for (auto _ : state) {
    auto r = snp::verify_snp(s.report, o);
    if (!r || !r->verdict.accepted) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_raw(benchmark::State& state, const Subject& (*subject)()) {
  const Subject& s = subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  auto key = s.vcek->public_key();
  if (!key) {
    state.SkipWithError("no key");
    return;
  }
  const EVP_MD* sha384 = EVP_sha384();
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(ctx, nullptr, sha384, nullptr, key->get()) == 1 &&
             EVP_DigestVerify(ctx, s.der_signature.data(), s.der_signature.size(), s.report.data(),
                              0x2A0) == 1;
    EVP_MD_CTX_free(ctx);
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
    auto r = snp::parse_report(s.report);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(bm_verify, real, real_subject)->Name("BM_VerifySnpReal");
BENCHMARK_CAPTURE(bm_raw, real, real_subject)->Name("BM_RawOpenSslP384Real");
BENCHMARK_CAPTURE(bm_verify, simulated, simulated_subject)->Name("BM_VerifySnpSimulated");
BENCHMARK_CAPTURE(bm_raw, simulated, simulated_subject)->Name("BM_RawOpenSslP384Simulated");
BENCHMARK(bm_parse)->Name("BM_ParseSnpReport");
