// Appraisal on top of the verification it follows, in the same run.
//
//   BM_VerifySnpEvidence   the SEV-SNP entry of the evidence table on a
//                          simulated report (chain cached): parse, VCEK match,
//                          P-384 signature, claims and normalized claims
//   BM_AppraiseSnp         appraise_envelope on the same evidence in an
//                          envelope with runtime data (the same verification,
//                          then the binding: RFC 8785 JSON and SHA-384; the
//                          default policy against a reference store) and the
//                          EAR: claims, ES256 signature, compact JWT
// Target (docs/performance.md): appraisal adds at most 15% to verification.
#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/verifier/appraise.h"
#include "concierge/verifier/binding.h"
#include "concierge/verifier/ear.h"

namespace {

namespace snp = concierge::evidence::snp;
namespace v = concierge::verifier;

struct Subject {
  v::Envelope envelope;
  std::vector<snp::AmdRootSet> roots;
  v::MemoryReferenceStore refs;
  std::optional<v::EarSigner> signer;
  std::string error;
};

const Subject& subject() {
  static const Subject s = [] {
    Subject out;
    snp::SimulatorOptions options;
    options.product = snp::Product::kGenoa;
    auto sim = snp::SnpSimulator::create(options);
    if (!sim) {
      out.error = sim.error().to_string();
      return out;
    }
    const nlohmann::json runtime = {{"nonce", "bench-nonce-0123456789"},
                                    {"tee-pubkey",
                                     {{"kty", "EC"},
                                      {"crv", "P-256"},
                                      {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                      {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}};
    snp::ReportRequest req;
    req.measurement.fill(0x42);
    const auto rd = v::runtime_data_digest(runtime, concierge::HashAlg::kSha384, 64);
    auto roots = sim->root_set();
    auto key = concierge::PrivateKey::generate_ec(concierge::EcCurve::kP256);
    if (!rd || !roots || !key) {
      out.error = "setup failed";
      return out;
    }
    std::copy(rd->begin(), rd->end(), req.report_data.begin());
    auto report = sim->issue(req);
    if (!report) {
      out.error = report.error().to_string();
      return out;
    }
    out.envelope.primary.tee = "snp";
    out.envelope.primary.evidence = *report;
    out.envelope.primary.endorsements["vcek"] = concierge::base64_encode(sim->vcek().der());
    out.envelope.primary.runtime_data = runtime;
    out.roots = {*roots};
    v::ReferenceValue ref;
    ref.name = "snp.measurement";
    ref.value = concierge::hex_encode(concierge::Bytes(48, 0x42));
    ref.provenance = "bench";
    if (!out.refs.add(ref)) out.error = "refs";
    auto signer = v::EarSigner::create(std::move(*key));
    if (!signer) {
      out.error = signer.error().to_string();
      return out;
    }
    out.signer.emplace(std::move(*signer));
    return out;
  }();
  return s;
}

void bm_verify(benchmark::State& state) {
  const Subject& s = subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  snp::AmdChainCache cache;
  v::VerifierContext ctx;
  ctx.snp_roots = s.roots;
  ctx.snp_cache = &cache;
  for (auto _ : state) {
    auto r = v::verify_snp_evidence(s.envelope.primary, ctx);
    if (!r || !r->verdict.accepted) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void bm_appraise(benchmark::State& state) {
  const Subject& s = subject();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  snp::AmdChainCache cache;
  v::AppraiseOptions o;
  o.refs = &s.refs;
  o.context.snp_roots = s.roots;
  o.context.snp_cache = &cache;
  o.policies["snp"] = v::default_policy("snp").value();  // parsed once, as a server would
  for (auto _ : state) {
    auto a = v::appraise_envelope(s.envelope, o);
    if (!a || a->status != v::Tier::kAffirming) {
      state.SkipWithError("appraisal is not affirming");
      break;
    }
    auto token = s.signer->sign(a->attestation_result(std::chrono::seconds(300), "bench"));
    if (!token) state.SkipWithError("signing failed");
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(bm_verify)->Name("BM_VerifySnpEvidence");
BENCHMARK(bm_appraise)->Name("BM_AppraiseSnp");
