// appraise_envelope end to end on simulated SEV-SNP and TDX evidence and on
// real vectors: affirming with the right reference values; contraindicated
// with a wrong measurement (named), another key, a debug guest; an expired
// reference value ignored; the EAR it yields.
#include "concierge/verifier/appraise.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/verifier/binding.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::verifier {
namespace {

using concierge::testing::read_file;
namespace snp = evidence::snp;
namespace dcap = evidence::dcap;

const nlohmann::json kKey = {{"kty", "EC"},
                             {"crv", "P-256"},
                             {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                             {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};

nlohmann::json runtime(const std::string& nonce, const nlohmann::json& key = kKey) {
  return {{"nonce", nonce}, {"tee-pubkey", key}};
}

ReferenceValue ref(const std::string& name, const std::string& value,
                   std::optional<TimePoint> expires = std::nullopt) {
  ReferenceValue r;
  r.name = name;
  r.value = value;
  r.provenance = "test";
  r.expires = expires;
  return r;
}

class AppraiseSnp : public ::testing::Test {
 protected:
  // Made once per build of the test binary (support/test_cache.h).
  static void SetUpTestSuite() {
    sim_ = new snp::SnpSimulator(concierge::testing::cached_snp_simulator({}));
  }
  static void TearDownTestSuite() { delete sim_; }

  // A report bound to `bound_runtime`, in an envelope carrying `sent_runtime`.
  static Envelope envelope(std::uint8_t measurement_byte, bool debug,
                           const nlohmann::json& bound_runtime,
                           const nlohmann::json& sent_runtime) {
    snp::ReportRequest req;
    req.measurement.fill(measurement_byte);
    if (debug) req.policy |= 1ull << 19;
    const Bytes rd = runtime_data_digest(bound_runtime, HashAlg::kSha384, 64).value();
    std::copy(rd.begin(), rd.end(), req.report_data.begin());
    Envelope e;
    e.primary.tee = "snp";
    e.primary.evidence = sim_->issue(req).value();
    e.primary.endorsements["vcek"] = base64_encode(sim_->vcek().der());
    e.primary.runtime_data = sent_runtime;
    return e;
  }

  static AppraiseOptions options(const ReferenceStore& refs) {
    AppraiseOptions o;
    o.refs = &refs;
    o.context.snp_roots = {sim_->root_set().value()};
    return o;
  }

  static std::string measurement(std::uint8_t b) { return hex_encode(Bytes(48, b)); }

  static snp::SnpSimulator* sim_;
};
snp::SnpSimulator* AppraiseSnp::sim_ = nullptr;

TEST_F(AppraiseSnp, AffirmingWithTheRightReferenceValues) {
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42))});
  const Envelope e = envelope(0x42, false, runtime("n1"), runtime("n1"));
  auto a = appraise_envelope(e, options(refs));
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->status, Tier::kAffirming) << a->explain_text();
  ASSERT_EQ(a->devices.size(), 1u);
  EXPECT_EQ(a->devices[0].submod, "snp");
  EXPECT_TRUE(a->devices[0].binding.has_value());
  EXPECT_EQ(a->nonce, "n1");

  const AttestationResult r = a->attestation_result(std::chrono::seconds(60), "test");
  ASSERT_EQ(r.submods.count("snp"), 1u);
  EXPECT_EQ(r.submods.at("snp").status, Tier::kAffirming);
  EXPECT_EQ(r.exp - r.iat, 60);
  EXPECT_EQ(r.submods.at("snp").annotated_evidence["measurement"], measurement(0x42));
}

TEST_F(AppraiseSnp, WrongMeasurementIsNamed) {
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42))});
  auto a = appraise_envelope(envelope(0x43, false, runtime("n"), runtime("n")), options(refs));
  ASSERT_TRUE(a);
  EXPECT_NE(a->status, Tier::kAffirming);
  const std::string text = a->explain_text();
  EXPECT_NE(text.find(measurement(0x43)), std::string::npos) << text;
  EXPECT_NE(text.find("snp.measurement"), std::string::npos) << text;
  EXPECT_EQ(a->devices[0].appraisal.vector.get(TrustClaim::kExecutables),
            trust_value::kUnrecognizedRuntime);
}

TEST_F(AppraiseSnp, EvidenceBoundToAnotherKeyIsContraindicated) {
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42))});
  nlohmann::json other = kKey;
  other["x"] = "AAAA";
  auto a =
      appraise_envelope(envelope(0x42, false, runtime("n", other), runtime("n")), options(refs));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, Tier::kContraindicated) << a->explain_text();
  ASSERT_TRUE(a->devices[0].binding.has_value());
  EXPECT_FALSE(*a->devices[0].binding);
  EXPECT_NE(a->explain_text().find("report data does not bind"), std::string::npos);
}

TEST_F(AppraiseSnp, DebugGuestIsContraindicated) {
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42))});
  auto a = appraise_envelope(envelope(0x42, true, runtime("n"), runtime("n")), options(refs));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, Tier::kContraindicated);
  EXPECT_EQ(a->devices[0].appraisal.vector.get(TrustClaim::kConfiguration),
            trust_value::kUnsupportableConfig);
}

TEST_F(AppraiseSnp, ExpiredReferenceValueIsIgnored) {
  const TimePoint past = std::chrono::system_clock::now() - std::chrono::hours(1);
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42), past)});
  auto a = appraise_envelope(envelope(0x42, false, runtime("n"), runtime("n")), options(refs));
  ASSERT_TRUE(a);
  EXPECT_NE(a->status, Tier::kAffirming);
  bool noted = false;
  for (const std::string& note : a->devices[0].appraisal.notes) {
    noted = noted || note.find("expired") != std::string::npos;
  }
  EXPECT_TRUE(noted) << a->explain_text();
}

TEST_F(AppraiseSnp, UntrustedRootIsACryptographicFailure) {
  MemoryReferenceStore refs({ref("snp.measurement", measurement(0x42))});
  AppraiseOptions o;
  o.refs = &refs;  // AMD's roots only
  auto a = appraise_envelope(envelope(0x42, false, runtime("n"), runtime("n")), o);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, Tier::kContraindicated);
  EXPECT_EQ(a->devices[0].appraisal.vector.get(TrustClaim::kHardware),
            trust_value::kCryptoValidationFailed);
}

TEST(AppraiseTdx, SimulatedQuoteWithAnAdditionalDevice) {
  auto sim = dcap::DcapSimulator::create();
  ASSERT_TRUE(sim) << sim.error().to_string();
  dcap::TdQuoteInput td;
  td.mr_td.fill(0x11);
  const Bytes rd = runtime_data_digest(runtime("t"), HashAlg::kSha384, 64).value();
  std::copy(rd.begin(), rd.end(), td.report_data.begin());
  Envelope e;
  e.primary.tee = "tdx";
  e.primary.evidence = sim->tdx_quote(td).value();
  e.primary.runtime_data = runtime("t");
  concierge::testing::TempDir dir;
  ASSERT_TRUE(sim->write_collateral(dir.path(), dcap::TeeType::kTdx));

  // An SGX enclave beside it, bound to the same runtime data.
  dcap::SgxQuoteInput sgx;
  sgx.mr_enclave.fill(0x33);
  std::copy(rd.begin(), rd.end(), sgx.report_data.begin());
  DeviceEvidence enclave;
  enclave.tee = "sgx";
  enclave.evidence = sim->sgx_quote(sgx).value();
  e.additional_devices["sgx-enclave0"] = enclave;

  MemoryReferenceStore refs({ref("tdx.mrtd", hex_encode(Bytes(48, 0x11))),
                             ref("sgx.mrenclave", hex_encode(Bytes(32, 0x33)))});
  for (int i = 0; i < 4; ++i) {
    refs.add(ref("tdx.rtmr" + std::to_string(i), hex_encode(Bytes(48, 0)))).value();
  }
  AppraiseOptions o;
  o.refs = &refs;
  o.context.intel_root = sim->root();
  o.context.dcap_collateral_dir = dir.path();
  auto a = appraise_envelope(e, o);
  ASSERT_TRUE(a) << a.error().to_string();
  ASSERT_EQ(a->devices.size(), 2u);
  EXPECT_EQ(a->devices[0].submod, "tdx");
  EXPECT_EQ(a->devices[1].submod, "sgx-enclave0");
  EXPECT_EQ(a->devices[0].appraisal.status, Tier::kAffirming) << a->explain_text();
  EXPECT_TRUE(a->devices[1].binding.value_or(Verdict{}).accepted);
  // The SGX collateral is not in the TDX folder: TCB status unknown, which
  // the default policy does not affirm.
  EXPECT_EQ(a->devices[1].evidence.normalized["tcb_status"], "unknown");
  const AttestationResult r = a->attestation_result(std::chrono::seconds(60), "test");
  EXPECT_EQ(r.submods.size(), 2u);
}

TEST(AppraiseReal, CosTdxQuoteWithItsLogNamesTheFirstUnknownEvent) {
  CONCIERGE_REQUIRE_VECTOR(quote, "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat");
  CONCIERGE_REQUIRE_VECTOR(log, "tdx/go-tdx-guest/ccel/ccel_data.dat");
  Envelope e;
  e.primary.tee = "tdx";
  e.primary.evidence = read_file(quote);
  e.primary.event_log = read_file(log);
  MemoryReferenceStore refs;
  AppraiseOptions o;
  o.refs = &refs;
  o.context.at = parse_rfc3339("2025-01-01T00:00:00Z").value();
  auto a = appraise_envelope(e, o);
  ASSERT_TRUE(a) << a.error().to_string();
  const auto& n = a->devices[0].evidence.normalized;
  EXPECT_EQ(n["vendor_chain"], true);
  EXPECT_EQ(n["root"], "builtin");
  EXPECT_EQ(n["log"]["matches_registers"], true);
  EXPECT_NE(a->status, Tier::kAffirming);
  const std::string text = a->explain_text();
  EXPECT_NE(text.find("rtmr0"), std::string::npos) << text;
}

}  // namespace
}  // namespace concierge::verifier

#include "concierge/evidence/tpm/soft_quoter.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/replay.h"

namespace concierge::verifier {
namespace {

// A TPM guest: a firmware log (bootloader, kernel), the PCRs it replays to,
// quoted by the software quoter with the runtime-data binding as nonce.
struct TpmGuest {
  Envelope envelope;
  std::string ak_signer;  // "ak:<sha256 of the AK's SPKI>"
  std::string kernel_digest;
};

// `log_omits`: PCRs whose events the log that is sent leaves out (the
// quote still has their values).
TpmGuest tpm_guest(const evidence::tpm::SoftQuoter& quoter, const std::string& kernel,
                   const std::set<unsigned>& log_omits = {}) {
  measure::EventLogWriter w({HashAlg::kSha256});
  measure::EventLogWriter sent({HashAlg::kSha256});
  w.add(4, measure::event_type::kEfiBootServicesApplication, as_bytes("bootloader v1")).value();
  auto k = w.add(9, measure::event_type::kIpl, as_bytes(kernel)).value();
  if (log_omits.count(4) == 0) {
    sent.add(4, measure::event_type::kEfiBootServicesApplication, as_bytes("bootloader v1"))
        .value();
  }
  if (log_omits.count(9) == 0) sent.add(9, measure::event_type::kIpl, as_bytes(kernel)).value();
  const Bytes log = w.bytes();
  auto replayed = measure::replay(measure::parse_event_log(log).value()).value();
  const measure::PcrBank* bank = replayed.bank(HashAlg::kSha256);
  std::map<unsigned, Bytes> pcrs;
  for (unsigned pcr : {4u, 9u}) {
    const ByteView v = bank->value(pcr);
    pcrs[pcr] = Bytes(v.begin(), v.end());
  }
  const Bytes nonce = runtime_data_digest(runtime("tpm-n"), HashAlg::kSha256, 32).value();
  const auto q = quoter.quote(HashAlg::kSha256, pcrs, nonce).value();
  TpmGuest g;
  DeviceEvidence& d = g.envelope.primary;
  d.tee = "tpm";
  d.evidence = q.attest;
  d.event_log = sent.bytes();
  d.runtime_data = runtime("tpm-n");
  d.endorsements["signature"] = base64_encode(q.signature);
  d.endorsements["ak"] = base64_encode(q.ak_public);
  nlohmann::json bank_json = nlohmann::json::object();
  for (const auto& [pcr, v] : pcrs) bank_json[std::to_string(pcr)] = hex_encode(v);
  d.endorsements["pcrs"] = {{"sha256", bank_json}};
  const Bytes spki = quoter.ak().value().to_der().value();
  g.ak_signer = "ak:" + hex_encode(digest(HashAlg::kSha256, spki).value());
  g.kernel_digest = hex_encode(k.front().value);
  return g;
}

TEST(AppraiseTpm, KnownBootIsAffirmedAndASubstitutedKernelIsNamed) {
  auto quoter = evidence::tpm::SoftQuoter::create();
  ASSERT_TRUE(quoter) << quoter.error().to_string();
  const TpmGuest good = tpm_guest(*quoter, "vmlinuz 6.1");
  // Reference values from the known-good boot: its PCRs and its events.
  MemoryReferenceStore enrolled;
  enrolled.add(ref("tpm.ak", good.ak_signer)).value();
  auto first = appraise_envelope(good.envelope, [&] {
    AppraiseOptions o;
    o.refs = &enrolled;
    return o;
  }());
  ASSERT_TRUE(first) << first.error().to_string();
  const auto& n = first->devices[0].evidence.normalized;
  ASSERT_EQ(n["evidence_verified"], true) << n.dump();
  EXPECT_EQ(n["log"]["matches_registers"], true);
  MemoryReferenceStore refs;
  refs.add(ref("tpm.ak", good.ak_signer)).value();
  for (const auto& [name, value] : n["registers"].items()) {
    if (!value.is_null()) refs.add(ref("tpm." + name, value.get<std::string>())).value();
  }
  for (const auto& e : n["log"]["unknown_events"]) {
    refs.add(ref("tpm.event_digest", e["digest"].get<std::string>())).value();
  }
  AppraiseOptions o;
  o.refs = &refs;
  auto a = appraise_envelope(good.envelope, o);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, Tier::kAffirming) << a->explain_text();
  EXPECT_EQ(a->devices[0].appraisal.vector.get(TrustClaim::kExecutables),
            trust_value::kApprovedRuntime);
  EXPECT_EQ(a->devices[0].binding.value_or(Verdict{}).accepted, true);

  const TpmGuest evil = tpm_guest(*quoter, "vmlinuz evil");
  a = appraise_envelope(evil.envelope, o);
  ASSERT_TRUE(a);
  EXPECT_NE(a->status, Tier::kAffirming);
  const std::string text = a->explain_text();
  EXPECT_NE(text.find("pcr9"), std::string::npos) << text;
  EXPECT_NE(text.find(evil.kernel_digest), std::string::npos) << text;
}

}  // namespace
}  // namespace concierge::verifier

namespace concierge::verifier {
namespace {

// The real Milan report verifies to AMD's built-in roots and its measurement
// is known, but its guest policy allows debugging: contraindicated.
TEST(AppraiseReal, MilanReportOfADebuggableGuestIsContraindicated) {
  CONCIERGE_REQUIRE_VECTOR(report, "snp/go-sev-guest/attestation.bin");
  CONCIERGE_REQUIRE_VECTOR(vcek, "snp/go-sev-guest/vcek.der");
  Envelope e;
  e.primary.tee = "snp";
  e.primary.evidence = read_file(report);
  e.primary.endorsements["vcek"] = base64_encode(read_file(vcek));
  MemoryReferenceStore refs(
      {ref("snp.measurement",
           "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf"
           "2e4872b01")});
  AppraiseOptions o;
  o.refs = &refs;
  auto a = appraise_envelope(e, o);
  ASSERT_TRUE(a) << a.error().to_string();
  const Appraisal& ap = a->devices[0].appraisal;
  EXPECT_EQ(a->devices[0].evidence.normalized["root"], "builtin");
  // Genuine, but its REPORTED_TCB (bootloader 2) is below Milan's minimum.
  EXPECT_EQ(ap.vector.get(TrustClaim::kHardware), 96);
  EXPECT_NE(a->explain_text().find("tcb-minimum"), std::string::npos) << a->explain_text();
  EXPECT_EQ(a->devices[0].evidence.normalized["tcb_minimum"]["below"],
            "bootloader SPL 2 is below the minimum 4 for Milan");
  EXPECT_EQ(ap.vector.get(TrustClaim::kExecutables), trust_value::kApprovedRuntime);
  EXPECT_EQ(ap.vector.get(TrustClaim::kConfiguration), trust_value::kUnsupportableConfig);
  EXPECT_EQ(a->status, Tier::kContraindicated);
  EXPECT_NE(a->explain_text().find("debug"), std::string::npos);
}

}  // namespace
}  // namespace concierge::verifier

namespace concierge::verifier {
namespace {

// A genuine quote sent with another boot's log: the log does not replay to
// the quoted PCRs, and the appraisal says which one.
TEST(AppraiseTpm, ALogThatDoesNotMatchTheQuoteIsNotAffirmed) {
  auto quoter = evidence::tpm::SoftQuoter::create();
  ASSERT_TRUE(quoter) << quoter.error().to_string();
  TpmGuest good = tpm_guest(*quoter, "vmlinuz 6.1");
  const TpmGuest other = tpm_guest(*quoter, "vmlinuz other");
  good.envelope.primary.event_log = other.envelope.primary.event_log;
  MemoryReferenceStore refs;
  refs.add(ref("tpm.ak", good.ak_signer)).value();
  AppraiseOptions o;
  o.refs = &refs;
  auto a = appraise_envelope(good.envelope, o);
  ASSERT_TRUE(a) << a.error().to_string();
  const auto& log = a->devices[0].evidence.normalized["log"];
  EXPECT_EQ(log["matches_registers"], false);
  EXPECT_NE(log["mismatch"].get<std::string>().find("sha256 PCR 9"), std::string::npos)
      << log.dump();
  EXPECT_EQ(a->devices[0].appraisal.vector.get(TrustClaim::kExecutables),
            trust_value::kUnrecognizedRuntime);
}

}  // namespace
}  // namespace concierge::verifier

namespace concierge::verifier {
namespace {

// The known-good TPM boot's reference values: the AK, the PCRs, the events.
MemoryReferenceStore tpm_refs(const TpmGuest& good) {
  MemoryReferenceStore enrolled;
  enrolled.add(ref("tpm.ak", good.ak_signer)).value();
  AppraiseOptions o;
  o.refs = &enrolled;
  auto first = appraise_envelope(good.envelope, o).value();
  const auto& n = first.devices[0].evidence.normalized;
  MemoryReferenceStore refs;
  refs.add(ref("tpm.ak", good.ak_signer)).value();
  for (const auto& [name, value] : n["registers"].items()) {
    if (!value.is_null()) refs.add(ref("tpm." + name, value.get<std::string>())).value();
  }
  for (const auto& e : n["log"]["unknown_events"]) {
    refs.add(ref("tpm.event_digest", e["digest"].get<std::string>())).value();
  }
  return refs;
}

// A known-good TPM guest, its reference values, and an envelope of its
// whose "log" claim must not match, naming `why`.
void expect_log_mismatch(const Envelope& envelope, const AppraiseOptions& o,
                         const std::string& why) {
  auto a = appraise_envelope(envelope, o);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_NE(a->status, Tier::kAffirming) << a->explain_text();
  const auto& log = a->devices[0].evidence.normalized["log"];
  EXPECT_EQ(log["matches_registers"], false);
  EXPECT_NE(log["mismatch"].get<std::string>().find(why), std::string::npos) << log.dump();
}

TEST(AppraiseTpm, ALogThatLeavesOutAQuotedPcrsEventsOrNoLogIsNotAffirming) {
  auto quoter = evidence::tpm::SoftQuoter::create().value();
  TpmGuest good = tpm_guest(quoter, "vmlinuz 6.1");
  MemoryReferenceStore refs = tpm_refs(good);
  AppraiseOptions o;
  o.refs = &refs;
  ASSERT_EQ(appraise_envelope(good.envelope, o).value().status, Tier::kAffirming);
  // PCR 4's events dropped from the log: the quoted PCR 4 no longer replays.
  const TpmGuest partial = tpm_guest(quoter, "vmlinuz 6.1", {4});
  expect_log_mismatch(partial.envelope, o, "sha256 PCR 4 differs");
  // No log at all, while event digests are registered.
  good.envelope.primary.event_log.reset();
  expect_log_mismatch(good.envelope, o, "the log is required");
}

TEST(AppraiseTpm, AQuoteByAnAkThatIsNotEnrolledIsRejectedWhateverThePolicy) {
  auto quoter = evidence::tpm::SoftQuoter::create().value();
  const TpmGuest good = tpm_guest(quoter, "vmlinuz 6.1");
  MemoryReferenceStore refs = tpm_refs(good);
  refs.remove("tpm.ak").value();
  AppraiseOptions o;
  o.refs = &refs;
  // An owner policy with no hardware rule at all.
  o.policies.emplace("tpm", parse_policy(R"({"id": "lax", "version": 1, "rules": [
      {"id": "pcrs", "claim": "executables",
       "when": {"path": "registers", "each_in_refs": "tpm."}, "then": 2, "else": 33}]})")
                                .value());
  auto a = appraise_envelope(good.envelope, o);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->devices[0].evidence.normalized["evidence_verified"], false);
  EXPECT_NE(a->status, Tier::kAffirming);
  EXPECT_NE(a->devices[0].evidence.verdict.reason.find("not an enrolled AK (tpm.ak)"),
            std::string::npos)
      << a->devices[0].evidence.verdict.reason;
}

TEST(AppraiseEnvelope, AdditionalDevicesBindTheEnvelopesRuntimeDataAndThePrimaryIsNamed) {
  auto quoter = evidence::tpm::SoftQuoter::create().value();
  const TpmGuest good = tpm_guest(quoter, "vmlinuz 6.1");
  MemoryReferenceStore refs = tpm_refs(good);
  AppraiseOptions o;
  o.refs = &refs;
  o.require_binding = true;
  // The same quote as an additional device of an envelope whose runtime
  // data is another: bound to "tpm-n", not to "other", so not bound.
  Envelope e = good.envelope;
  DeviceEvidence extra = good.envelope.primary;
  extra.runtime_data = nullptr;
  e.additional_devices["tpm-vtpm"] = extra;
  auto a = appraise_envelope(e, o);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_TRUE(a->all_bound());
  EXPECT_EQ(a->attestation_result(std::chrono::seconds(60), "t").primary, "tpm");
  e.primary.runtime_data = runtime("other");
  a = appraise_envelope(e, o);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_FALSE(a->all_bound());
  ASSERT_EQ(a->devices.size(), 2u);
  EXPECT_FALSE(a->devices[1].binding.value().accepted);
  // Its own runtime data, or the primary's name, is refused.
  e = good.envelope;
  extra.runtime_data = runtime("tpm-n");
  e.additional_devices["tpm-vtpm"] = extra;
  EXPECT_FALSE(appraise_envelope(e, o));
  e = good.envelope;
  extra.runtime_data = nullptr;
  e.additional_devices["tpm"] = extra;
  EXPECT_FALSE(appraise_envelope(e, o));
  // Without runtime data, binding is required.
  e = good.envelope;
  e.primary.runtime_data = nullptr;
  EXPECT_FALSE(appraise_envelope(e, o));
}

}  // namespace
}  // namespace concierge::verifier
