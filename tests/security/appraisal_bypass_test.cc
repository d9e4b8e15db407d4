// The attacker's suite, part I ("no secret to the wrong guest"): every
// bypass of the appraisal that reviews showed on loopback, replayed through
// the HTTP path against a running broker, on SQLite and on PostgreSQL.
//
// Each attack asserts the refusal and its status, that neither the secret
// nor any registered reference value appears in any response the attacker
// saw, and that the server still answers. docs/security.md lists the
// attacks with the checks that stop them.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "concierge/attester/kbs_client.h"
#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/evidence/tpm/soft_quoter.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/replay.h"
#include "concierge/store/secret_box.h"
#include "concierge/store/store.h"
#include "concierge/verifier/binding.h"
#include "support/broker_harness.h"
#include "support/postgres.h"
#include "support/running_server.h"
#include "support/test_cache.h"

namespace concierge::testing {
namespace {

using Json = nlohmann::json;
namespace snp = evidence::snp;
namespace dcap = evidence::dcap;
namespace tpm = evidence::tpm;

constexpr const char* kSecret = "the owner's disk key: 7f3a9c";
constexpr const char* kPath = "default/disk/key";

std::string hex_of(std::uint8_t fill, std::size_t n) { return hex_encode(Bytes(n, fill)); }

// What the attacker saw of one exchange.
struct Exchange {
  int auth = 0;
  int attest = 0;
  int resource = 0;  // 0 when attest refused
  std::string token;
  std::string released;             // the decrypted secret, when there was one
  std::vector<std::string> bodies;  // every response body, in order
};

// A guest (or the attacker posing as one) over real HTTP.
class HttpGuest {
 public:
  explicit HttpGuest(const std::string& url) : client_(url) {}

  // auth, attest with evidence(runtime data), then GET the resource.
  Exchange exchange(const std::string& tee,
                    const std::function<Json(const Json& runtime)>& evidence,
                    const std::function<void(Json& attest_body)>& tamper = nullptr) {
    Exchange e;
    const Json req = {{"version", "0.4.0"}, {"tee", tee}, {"extra-params", Json::object()}};
    auto r = client_.Post("/kbs/v0/auth", req.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return e;
    e.auth = r->status;
    e.bodies.push_back(r->body);
    if (r->status != 200) return e;
    guest_.nonce = Json::parse(r->body)["nonce"].get<std::string>();
    const std::string cookie = r->get_header_value("Set-Cookie");
    guest_.cookie = cookie.substr(0, cookie.find(';'));
    const Json rt = guest_.runtime_data();
    Json body = {{"runtime-data", rt}, {"tee-evidence", evidence(rt)}};
    if (tamper) tamper(body);
    httplib::Headers headers = {{"Cookie", guest_.cookie}};
    r = client_.Post("/kbs/v0/attest", headers, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return e;
    e.attest = r->status;
    e.bodies.push_back(r->body);
    if (r->status != 200) return e;
    e.token = Json::parse(r->body)["token"].get<std::string>();
    r = client_.Get(std::string("/kbs/v0/resource/") + kPath, headers);
    EXPECT_TRUE(r);
    if (!r) return e;
    e.resource = r->status;
    e.bodies.push_back(r->body);
    if (r->status == 200) {
      broker::HttpResponse response;
      response.body = r->body;
      e.released = guest_.decrypt(response);
    }
    return e;
  }
  const Guest& guest() const { return guest_; }

 private:
  httplib::Client client_;
  Guest guest_;
};

// The EAR's claims (its signature is the broker's business; here we read).
Json ear_payload(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return Json::parse(as_chars(base64url_decode(token.substr(a + 1, b - a - 1)).value()));
}

// SEV-SNP evidence from the shared simulator, bound to `runtime`, with the
// known-good measurement unless `change` says otherwise.
Json snp_evidence(const Json& runtime,
                  const std::function<void(snp::ReportRequest&)>& change = nullptr) {
  const auto& sim = shared_snp_simulator();
  snp::ReportRequest req;
  const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha384, 64).value();
  std::copy(rd.begin(), rd.end(), req.report_data.begin());
  req.measurement = good_measurement();
  if (change) change(req);
  return {{"evidence", base64_encode(sim.issue(req).value())},
          {"endorsements", {{"cert_table", base64_encode(sim.cert_table().value())}}}};
}

// A software TPM's quote of `pcrs` (sha256) bound to `runtime`, with its
// AK's public area and, when given, an event log.
Json tpm_evidence(const tpm::SoftQuoter& quoter, const Json& runtime,
                  const std::map<unsigned, Bytes>& pcrs, const std::optional<Bytes>& log = {}) {
  const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha256, 32).value();
  const auto q = quoter.quote(HashAlg::kSha256, pcrs, rd).value();
  Json bank = Json::object();
  for (const auto& [pcr, v] : pcrs) bank[std::to_string(pcr)] = hex_encode(v);
  Json out = {{"evidence", base64_encode(q.attest)},
              {"endorsements",
               {{"signature", base64_encode(q.signature)},
                {"ak", base64_encode(q.ak_public)},
                {"pcrs", {{"sha256", bank}}}}}};
  if (log) out["event_log"] = base64_encode(*log);
  return out;
}

std::string ak_of(const tpm::SoftQuoter& q) {
  return "ak:" + hex_encode(digest(HashAlg::kSha256, q.ak().value().to_der().value()).value());
}

// A measured boot: bootloader into PCR 4, kernel into PCR 9; its log and
// the PCR values it reaches.
struct Boot {
  Bytes log;
  std::map<unsigned, Bytes> pcrs;
  std::vector<std::string> event_digests;
};
Boot measured_boot(const std::string& kernel, bool drop_pcr4_events = false) {
  measure::EventLogWriter full({HashAlg::kSha256});
  measure::EventLogWriter sent({HashAlg::kSha256});
  Boot b;
  const auto add = [&](unsigned pcr, std::uint32_t type, const std::string& data, bool keep) {
    auto digests = full.add(pcr, type, as_bytes(data)).value();
    b.event_digests.push_back(hex_encode(digests.front().value));
    if (keep) sent.add(pcr, type, as_bytes(data)).value();
  };
  add(4, measure::event_type::kEfiBootServicesApplication, "shim 15.8", !drop_pcr4_events);
  add(9, measure::event_type::kIpl, kernel, true);
  b.log = sent.bytes();
  const auto replayed = measure::replay(measure::parse_event_log(full.bytes()).value()).value();
  for (unsigned pcr : {0u, 4u, 7u, 9u}) {
    const ByteView v = replayed.bank(HashAlg::kSha256)->value(pcr);
    b.pcrs[pcr] = Bytes(v.begin(), v.end());
  }
  return b;
}

class AppraisalBypass : public ::testing::TestWithParam<std::string> {
 protected:
  // A broker on the parameter's store, trusting the SNP simulator, with
  // the secret stored and served over HTTP. False when the store is
  // unavailable (the test was skipped or failed).
  bool start(HarnessOptions o = {}) {
    if (GetParam() == "postgres") {
      std::string why;
      const auto url = test_postgres_database(&why);
      if (!url) {
        if (postgres_required()) ADD_FAILURE() << "PostgreSQL is required: " << why;
        return false;
      }
      o.store_url = *url;
    }
    h_ = std::make_unique<BrokerHarness>(o);
    h_->now = std::chrono::system_clock::now();
    EXPECT_EQ(h_->admin("PUT", std::string("/admin/v0/resources/") + kPath, kSecret).status, 200);
    server_ = std::make_unique<RunningServer>(*h_);
    return true;
  }
  // `accepted`: the values are what a guest must match (never to be
  // shown to one); false for settings such as tpm.required_pcr.
  void refs(const std::vector<std::pair<std::string, std::string>>& values, bool accepted = true) {
    Json list = Json::array();
    for (const auto& [name, value] : values) {
      list.push_back({{"name", name}, {"value", value}});
      if (accepted) registered_.push_back(value);
    }
    const Json doc = {{"reference_values", list}};
    ASSERT_EQ(h_->admin("POST", "/admin/v0/reference-values", doc.dump()).status, 200);
  }
  void attestation_policy(const std::string& tee, const std::string& policy) {
    ASSERT_EQ(h_->admin("PUT", "/admin/v0/attestation-policies/" + tee, policy).status, 200);
  }
  Exchange exchange(const std::string& tee, const std::function<Json(const Json&)>& evidence,
                    const std::function<void(Json&)>& tamper = nullptr) {
    HttpGuest g(server_->url());
    return g.exchange(tee, evidence, tamper);
  }
  // No secret: refused at attest with `attest_status`, or at the resource
  // with `resource_status`; neither the secret nor an accepted reference
  // value in anything the attacker saw; the server still answers.
  // `own`: values the attacker's evidence itself carries (its own event
  // digests, say), which it may read back.
  void expect_refused(const Exchange& e, int attest_status, int resource_status = 0,
                      const std::vector<std::string>& own = {}) {
    EXPECT_EQ(e.attest, attest_status) << (e.bodies.empty() ? "" : e.bodies.back());
    EXPECT_EQ(e.resource, resource_status) << (e.bodies.empty() ? "" : e.bodies.back());
    EXPECT_TRUE(e.released.empty());
    for (const std::string& body : e.bodies) {
      EXPECT_EQ(body.find(kSecret), std::string::npos) << body;
      for (const std::string& value : registered_) {
        if (std::find(own.begin(), own.end(), value) != own.end()) continue;
        EXPECT_EQ(body.find(value), std::string::npos)
            << "a refusal lists the accepted reference value " << value << ": " << body;
      }
    }
    httplib::Client c(server_->url());
    auto health = c.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
  BrokerHarness& h() { return *h_; }
  std::string url() const { return server_->url(); }

  // The harness registers good_measurement() as snp.measurement.
  std::vector<std::string> registered_ = {hex_encode(good_measurement())};

 private:
  std::unique_ptr<BrokerHarness> h_;
  std::unique_ptr<RunningServer> server_;
};

INSTANTIATE_TEST_SUITE_P(Stores, AppraisalBypass, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

// --- 1. Extra devices: bound to the session, appraised, never the primary.

TEST_P(AppraisalBypass, AReplayedQuoteAsAnExtraDeviceDoesNotUnlockARefusedGuest) {
  if (!start()) return;
  const auto quoter = tpm::SoftQuoter::create().value();
  const Boot boot = measured_boot("vmlinuz 6.1");
  refs({{"tpm.ak", ak_of(quoter)}, {"tpm.pcr9", hex_encode(boot.pcrs.at(9))}});
  std::array<std::uint8_t, 48> unapproved{};
  unapproved.fill(0x66);
  const auto snp_unapproved = [&](const Json& rt) {
    return snp_evidence(rt, [&](snp::ReportRequest& r) { r.measurement = unapproved; });
  };
  // On its own: refused by the release policy.
  expect_refused(exchange("snp", snp_unapproved), 200, 403);

  // With a genuine TPM quote replayed from another session, named "tpm":
  // bound to that session's nonce, not this one's.
  const Json old_runtime = {{"nonce", "an old session's nonce"},
                            {"tee-pubkey", Guest().runtime_data("x")["tee-pubkey"]}};
  Json replayed = tpm_evidence(quoter, old_runtime, {{9, boot.pcrs.at(9)}});
  replayed["tee"] = "tpm";
  Exchange e = exchange("snp", [&](const Json& rt) {
    Json ev = snp_unapproved(rt);
    ev["additional_devices"] = {{"tpm", replayed}};
    return ev;
  });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("tpm: report data does not bind"), std::string::npos)
      << e.bodies.back();

  // Carrying its own runtime data (the old one) is refused outright.
  e = exchange("snp", [&](const Json& rt) {
    Json ev = snp_unapproved(rt);
    Json device = replayed;
    device["tee"] = "tpm";
    device["runtime_data"] = old_runtime;
    ev["additional_devices"] = {{"tpm-vtpm", device}};
    return ev;
  });
  expect_refused(e, 400);

  // Bound to this session too, and affirming: still the SNP guest is the
  // primary (the broker's choice), so its unapproved measurement decides.
  e = exchange("snp", [&](const Json& rt) {
    Json ev = snp_unapproved(rt);
    Json device = tpm_evidence(quoter, rt, {{9, boot.pcrs.at(9)}});
    device["tee"] = "tpm";
    ev["additional_devices"] = {{"tpm", device}};
    return ev;
  });
  expect_refused(e, 200, 403);
  const Json ear = ear_payload(e.token);
  EXPECT_EQ(ear["concierge.primary-submod"], "snp") << ear.dump();
  EXPECT_EQ(ear["submods"]["snp"]["ear.status"], "warning");

  // A device is named after its kind: a second SNP report cannot pose as
  // the vTPM a release policy names.
  e = exchange("snp", [&](const Json& rt) {
    Json ev = snp_evidence(rt);
    Json device = snp_evidence(rt);
    device["tee"] = "snp";
    ev["additional_devices"] = {{"tpm-vtpm", device}};
    return ev;
  });
  expect_refused(e, 400);

  // The device may not take the primary's name either.
  e = exchange("snp", [&](const Json& rt) {
    Json ev = snp_evidence(rt);
    Json device = tpm_evidence(quoter, rt, {{9, boot.pcrs.at(9)}});
    device["tee"] = "tpm";
    ev["additional_devices"] = {{"snp", device}};
    return ev;
  });
  expect_refused(e, 400);
}

TEST_P(AppraisalBypass, TheOwnersPoliciesApplyToEveryDevice) {
  if (!start()) return;
  const auto quoter = tpm::SoftQuoter::create().value();
  const Boot boot = measured_boot("vmlinuz 6.1");
  refs({{"tpm.ak", ak_of(quoter)}, {"tpm.pcr9", hex_encode(boot.pcrs.at(9))}});
  const auto with_vtpm = [&](const Json& rt) {
    Json ev = snp_evidence(rt);
    Json device = tpm_evidence(quoter, rt, {{9, boot.pcrs.at(9)}});
    device["tee"] = "tpm";
    ev["additional_devices"] = {{"tpm-vtpm", device}};
    return ev;
  };
  // Both devices good: the secret is released.
  Exchange e = exchange("snp", with_vtpm);
  ASSERT_EQ(e.resource, 200) << e.bodies.back();
  EXPECT_EQ(e.released, kSecret);
  // The owner's TPM policy demands a PCR the vTPM does not quote: the
  // additional device is appraised by it, and the secret stays.
  attestation_policy("tpm", R"({"id": "owner/tpm", "version": 1, "rules": [
      {"id": "pcr7", "claim": "configuration",
       "when": {"path": "registers.pcr7", "exists": true}, "then": 2, "else": 96}]})");
  const Exchange refused = exchange("snp", with_vtpm);
  expect_refused(refused, 401);
  EXPECT_NE(refused.bodies.back().find("tpm-vtpm: pcr7"), std::string::npos)
      << refused.bodies.back();
}

// --- 2, 3, 4. TPM: the selection, the log, the hardware.

class TpmBypass : public AppraisalBypass {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.register_measurement = false;
    registered_.clear();
    started_ = start(o);
    if (!started_) return;
    good_ = measured_boot("vmlinuz 6.1");
    refs({{"tpm.ak", ak_of(quoter_)},
          {"tpm.pcr0", hex_encode(good_.pcrs.at(0))},
          {"tpm.pcr4", hex_encode(good_.pcrs.at(4))},
          {"tpm.pcr9", hex_encode(good_.pcrs.at(9))}});
    std::vector<std::pair<std::string, std::string>> digests;
    for (const auto& d : good_.event_digests) digests.emplace_back("tpm.event_digest", d);
    refs(digests);
  }
  Exchange quote(const std::map<unsigned, Bytes>& pcrs, const std::optional<Bytes>& log) {
    return exchange("tpm", [&](const Json& rt) { return tpm_evidence(quoter_, rt, pcrs, log); });
  }
  bool started_ = false;
  tpm::SoftQuoter quoter_ = tpm::SoftQuoter::create().value();
  Boot good_;
};

INSTANTIATE_TEST_SUITE_P(Stores, TpmBypass, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST_P(TpmBypass, TheAttesterDoesNotChooseWhichPcrsAreAppraised) {
  if (!started_) return;
  // Everything quoted: released.
  const Exchange good = quote(good_.pcrs, good_.log);
  ASSERT_EQ(good.resource, 200) << good.bodies.back();
  EXPECT_EQ(good.released, kSecret);
  // PCR 0 alone: PCRs 4 and 9 have reference values and are missing.
  Exchange e = quote({{0, good_.pcrs.at(0)}}, good_.log);
  expect_refused(e, 200, 403);
  EXPECT_NE(e.bodies.back().find("registers.pcr4 is absent"), std::string::npos) << e.bodies.back();
}

TEST_P(TpmBypass, EventsLeftOutOfTheLogOrNoLogAreNoticed) {
  if (!started_) return;
  // PCR 4's events dropped from the log: the quoted PCR 4 no longer replays.
  const Boot partial = measured_boot("vmlinuz 6.1", /*drop_pcr4_events=*/true);
  Exchange e = quote(partial.pcrs, partial.log);
  expect_refused(e, 200, 403);
  EXPECT_NE(e.bodies.back().find("log-explained"), std::string::npos) << e.bodies.back();
  // No log at all, while event digests are registered.
  expect_refused(quote(good_.pcrs, std::nullopt), 200, 403);
}

TEST_P(TpmBypass, ACustomPolicyCannotDropTheHardwareCheck) {
  if (!started_) return;
  // The owner's policy has no hardware rule; a software TPM's AK that was
  // never enrolled quotes the known-good PCRs.
  attestation_policy("tpm", R"({"id": "owner/lax", "version": 1, "rules": [
      {"id": "known-pcrs", "claim": "executables",
       "when": {"path": "registers", "each_in_refs": "tpm."}, "then": 2, "else": 33},
      {"id": "bound-to-key", "claim": "instance-identity",
       "when": {"path": "binding", "equals": true}, "then": 2, "else": 96}]})");
  const auto stranger = tpm::SoftQuoter::create().value();
  Exchange e = exchange(
      "tpm", [&](const Json& rt) { return tpm_evidence(stranger, rt, good_.pcrs, good_.log); });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("not an enrolled AK"), std::string::npos) << e.bodies.back();
}

TEST_P(TpmBypass, ExpiringAReferenceValueRevokesItAndNeverOpensTheRegister) {
  if (!started_) return;
  // The owner lets the current kernel's PCR 9 and the event digests expire
  // in a minute (say, to retire that kernel).
  ASSERT_EQ(h().admin("DELETE", "/admin/v0/reference-values/tpm.pcr9").status, 200);
  ASSERT_EQ(h().admin("DELETE", "/admin/v0/reference-values/tpm.event_digest").status, 200);
  Json list = Json::array();
  const std::string soon = format_rfc3339(h().now + std::chrono::seconds(60));
  list.push_back(
      {{"name", "tpm.pcr9"}, {"value", hex_encode(good_.pcrs.at(9))}, {"expires", soon}});
  for (const auto& d : good_.event_digests) {
    list.push_back({{"name", "tpm.event_digest"}, {"value", d}, {"expires", soon}});
  }
  ASSERT_EQ(
      h().admin("POST", "/admin/v0/reference-values", Json({{"reference_values", list}}).dump())
          .status,
      200);
  h().advance(std::chrono::seconds(120));
  // Another kernel, quoted honestly: PCR 9's only reference value expired.
  // (The shim is the same: its event digest and PCR 4 are the guest's own.)
  const Boot evil = measured_boot("vmlinuz with a backdoor");
  std::vector<std::string> own = evil.event_digests;
  for (const auto& [pcr, v] : evil.pcrs) own.push_back(hex_encode(v));
  expect_refused(quote(evil.pcrs, evil.log), 200, 403, own);
  // The log left out: the (expired) event digests still make it required.
  expect_refused(quote(evil.pcrs, std::nullopt), 200, 403, own);
}

TEST_P(AppraisalBypass, AnEventDigestAllowlistCannotBeDodgedByTheSelection) {
  HarnessOptions o;
  o.register_measurement = false;
  registered_.clear();
  if (!start(o)) return;
  // The allowlist set-up: the AK, PCR 0's value, and the known events, but no
  // value for PCRs 4 and 9 (kernels vary).
  const auto quoter = tpm::SoftQuoter::create().value();
  const Boot good = measured_boot("vmlinuz 6.1");
  refs({{"tpm.ak", ak_of(quoter)}, {"tpm.pcr0", hex_encode(good.pcrs.at(0))}});
  std::vector<std::pair<std::string, std::string>> digests;
  for (const auto& d : good.event_digests) digests.emplace_back("tpm.event_digest", d);
  refs(digests);
  const Boot evil = measured_boot("vmlinuz with a backdoor");
  const auto pcr0_only = [&](const Boot& b) {
    return exchange("tpm", [&](const Json& rt) {
      return tpm_evidence(quoter, rt, {{0, b.pcrs.at(0)}}, b.log);
    });
  };
  // PCR 0 alone, with the evil log: the kernel's event is in a PCR the quote
  // does not cover, and is judged all the same.
  Exchange e = pcr0_only(evil);
  expect_refused(e, 200, 403);
  EXPECT_NE(e.bodies.back().find("does not cover"), std::string::npos) << e.bodies.back();
  // With the PCRs the owner requires, a quote that leaves them out is
  // rejected outright, log or no log.
  refs({{"tpm.required_pcr", "4"}, {"tpm.required_pcr", "9"}}, /*accepted=*/false);
  e = pcr0_only(good);
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("does not cover PCR"), std::string::npos) << e.bodies.back();
  // The good boot, fully quoted, is released.
  e = exchange("tpm",
               [&](const Json& rt) { return tpm_evidence(quoter, rt, good.pcrs, good.log); });
  EXPECT_EQ(e.resource, 200) << e.bodies.back();
}

// Security II, 9: write access to the database is not enough. The attacker
// inserts its AK's fingerprint as an enrolled key (any row it writes lacks
// a tag made with the KEK; here it writes through a store opened with a key
// of its own, which is the same as writing the row by hand).
TEST_P(TpmBypass, AnAkInsertedIntoTheDatabaseIsNotEnrolled) {
  if (!started_) return;
  const auto stranger = tpm::SoftQuoter::create().value();
  const auto attack = [&] {
    return exchange(
        "tpm", [&](const Json& rt) { return tpm_evidence(stranger, rt, good_.pcrs, good_.log); });
  };
  expect_refused(attack(), 401);
  auto forger = store::open_store(h().store_url(), store::SecretBox::generate().value());
  ASSERT_TRUE(forger) << forger.error().to_string();
  ASSERT_TRUE((*forger)->references().add(
      {"tpm.ak", ak_of(stranger), std::nullopt, "attacker", std::nullopt, ""}));
  const Exchange e = attack();
  EXPECT_NE(e.attest, 200);
  EXPECT_EQ(e.resource, 0);
  EXPECT_TRUE(e.released.empty());
  for (const std::string& body : e.bodies) EXPECT_EQ(body.find(kSecret), std::string::npos);
  // The owner's own enrolled AK is refused too until the forged row is gone:
  // a store that fails its integrity check never affirms.
  EXPECT_NE(quote(good_.pcrs, good_.log).resource, 200);
}

// --- 5, 10. DCAP collateral: the operator's wins; none is never affirming.

struct TdxPlatform {
  dcap::DcapSimulator sim = dcap::DcapSimulator::create().value();
  TempDir dir;
  // Writes collateral saying `status` (evaluation number `number`) to
  // `folder` under dir, and returns the folder.
  std::filesystem::path collateral(const std::string& folder, dcap::TcbStatus status,
                                   std::uint32_t number = 17) const {
    dcap::CollateralOptions o;
    o.tcb_status = status;
    o.tcb_evaluation_data_number = number;
    EXPECT_TRUE(sim.write_collateral(dir / folder, dcap::TeeType::kTdx, o));
    return dir / folder;
  }
  // The same collateral as a guest would send it.
  Json sent_collateral(dcap::TcbStatus status, std::uint32_t number) const {
    const auto folder = collateral("sent-" + std::to_string(number), status, number);
    const auto text = [&](const std::filesystem::path& p) {
      return std::string(as_chars(read_file(p)));
    };
    return {{"tcb_info", text(folder / "tcb" / (hex_encode(sim.fmspc()) + ".json"))},
            {"qe_identity", text(folder / "qe" / "identity.json")},
            {"tcb_signing_chain", text(folder / "tcb_signing_chain.pem")}};
  }
  Json evidence(const Json& runtime, const Json& collateral = nullptr) const {
    dcap::TdQuoteInput input;
    const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha384, 64).value();
    std::copy(rd.begin(), rd.end(), input.report_data.begin());
    Json ev = {{"evidence", base64_encode(sim.tdx_quote(input).value())}};
    if (!collateral.is_null()) ev["endorsements"] = {{"collateral", collateral}};
    return ev;
  }
};

class DcapBypass : public AppraisalBypass {
 protected:
  // A broker trusting the simulator's root, with the operator's collateral
  // folder when `operator_status` is given.
  bool start_tdx(std::optional<dcap::TcbStatus> operator_status, std::uint32_t minimum = 0) {
    HarnessOptions o;
    o.dcap_min_evaluation_number = minimum;
    o.register_measurement = false;
    o.intel_root = tdx.sim.root();
    if (operator_status) o.dcap_collateral_dir = tdx.collateral("operator", *operator_status);
    registered_.clear();
    if (!start(o)) return false;
    refs({{"tdx.mrtd", hex_of(0, 48)}, {"tdx.rtmr0", hex_of(0, 48)}});
    return true;
  }
  TdxPlatform tdx;
};

INSTANTIATE_TEST_SUITE_P(Stores, DcapBypass, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST_P(DcapBypass, TheOperatorsCollateralWinsOverTheGuests) {
  if (!start_tdx(dcap::TcbStatus::kOutOfDate)) return;
  // The guest sends collateral saying UpToDate (genuinely signed, but not
  // the operator's): the operator's OutOfDate decides.
  const Json fresh = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 18);
  Exchange e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, fresh); });
  expect_refused(e, 200, 403);
  EXPECT_NE(e.bodies.back().find("OutOfDate"), std::string::npos) << e.bodies.back();
}

TEST_P(DcapBypass, GuestCollateralIsRefusedWithoutAConfiguredMinimum) {
  if (!start_tdx(std::nullopt)) return;
  // Without a floor, every replica (or a restarted one) would take whatever
  // collateral a guest picks.
  const Json picked = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 18);
  Exchange e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, picked); });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("no minimum tcbEvaluationDataNumber"), std::string::npos)
      << e.bodies.back();
}

TEST_P(DcapBypass, GuestCollateralCannotRollBackAndNoCollateralIsNeverAffirming) {
  if (!start_tdx(std::nullopt, /*minimum=*/16)) return;
  // No collateral at all: the TCB is unknown, never affirming.
  expect_refused(exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt); }), 401);
  // Collateral with evaluation number 18: accepted, and remembered.
  const Json newer = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 18);
  Exchange e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, newer); });
  ASSERT_EQ(e.resource, 200) << e.bodies.back();
  EXPECT_EQ(e.released, kSecret);
  // An older one (before a revocation, say) is refused after that.
  const Json older = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 16);
  e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, older); });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("tcbEvaluationDataNumber 16"), std::string::npos)
      << e.bodies.back();
}

TEST_P(DcapBypass, GuestCollateralBelowTheConfiguredMinimumIsRefused) {
  if (!start_tdx(std::nullopt, /*minimum=*/18)) return;
  const Json old = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 17);
  Exchange e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, old); });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("configured minimum"), std::string::npos) << e.bodies.back();
  const Json current = tdx.sent_collateral(dcap::TcbStatus::kUpToDate, 18);
  e = exchange("tdx", [&](const Json& rt) { return tdx.evidence(rt, current); });
  EXPECT_EQ(e.resource, 200) << e.bodies.back();
}

// --- 6. SEV-SNP: TCB, VMPL, migration agent, the chip key.

TEST_P(AppraisalBypass, SnpTcbVmplMigrationAgentAndAnUnsignedReportAreRefused) {
  if (!start()) return;
  const auto with = [&](const std::function<void(snp::ReportRequest&)>& change) {
    return exchange("snp", [&](const Json& rt) { return snp_evidence(rt, change); });
  };
  // Reference: a good report is released.
  Exchange good = with(nullptr);
  ASSERT_EQ(good.resource, 200) << good.bodies.back();
  // MASK_CHIP_ID: valid evidence, released.
  Exchange masked_id = with([](snp::ReportRequest& r) { r.mask_chip_id = true; });
  EXPECT_EQ(masked_id.resource, 200) << masked_id.bodies.back();
  // A REPORTED_TCB below Genoa's minimum (microcode 1): the VCEK was issued
  // for the simulator's TCB, so the report claims an older TCB than its VCEK
  // and is refused; either way no secret.
  snp::TcbVersion old_tcb = snp::default_tcb(snp::Product::kGenoa);
  old_tcb.microcode = 1;
  Exchange e = with([&](snp::ReportRequest& r) {
    r.reported_tcb = snp::encode_tcb(old_tcb, snp::Product::kGenoa);
  });
  EXPECT_NE(e.resource, 200);
  EXPECT_TRUE(e.released.empty());
  // VMPL 2, a migration agent allowed, MASK_CHIP_KEY (a zero signature).
  expect_refused(with([](snp::ReportRequest& r) { r.vmpl = 2; }), 401);
  expect_refused(with([](snp::ReportRequest& r) { r.policy |= 1ull << 18; }), 401);
  e = with([](snp::ReportRequest& r) { r.mask_chip_key = true; });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("MASK_CHIP_KEY"), std::string::npos) << e.bodies.back();
}

TEST_P(AppraisalBypass, AGenoaBelowTheMinimumTcbIsRefused) {
  // A platform whose VCEK is issued for an old TCB (microcode 60, below
  // Genoa's default minimum of 84): genuine, correctly signed, not patched.
  snp::SimulatorOptions so;
  so.product = snp::Product::kGenoa;
  snp::TcbVersion old_tcb = snp::default_tcb(snp::Product::kGenoa);
  old_tcb.microcode = 60;
  so.tcb = old_tcb;
  static const snp::SnpSimulator unpatched = cached_snp_simulator(so);
  HarnessOptions o;
  o.also_trust = &unpatched;
  if (!start(o)) return;
  Exchange e = exchange("snp", [&](const Json& rt) {
    snp::ReportRequest req;
    const Bytes rd = verifier::runtime_data_digest(rt, HashAlg::kSha384, 64).value();
    std::copy(rd.begin(), rd.end(), req.report_data.begin());
    req.measurement = good_measurement();
    return Json{{"evidence", base64_encode(unpatched.issue(req).value())},
                {"endorsements", {{"cert_table", base64_encode(unpatched.cert_table().value())}}}};
  });
  expect_refused(e, 401);
  EXPECT_NE(e.bodies.back().find("tcb-minimum"), std::string::npos) << e.bodies.back();
  // The guest learns its own SPL, not the minimum it would have needed.
  EXPECT_EQ(e.bodies.back().find("minimum 84"), std::string::npos) << e.bodies.back();
}

// --- 7. The agent verifies who answers.

TEST_P(AppraisalBypass, TheAgentDoesNotTakeASecretFromAnImpostor) {
  if (!start()) return;
  // The host runs a broker of its own and answers in the real one's place.
  BrokerHarness impostor;
  impostor.now = std::chrono::system_clock::now();
  ASSERT_EQ(impostor.admin("PUT", std::string("/admin/v0/resources/") + kPath, "host's key").status,
            200);
  RunningServer host(impostor);
  const auto collect = [](ByteView report_data, const Json&) -> Result<Json> {
    snp::ReportRequest req;
    std::copy(report_data.begin(), report_data.end(), req.report_data.begin());
    req.measurement = good_measurement();
    const auto& sim = shared_snp_simulator();
    CONCIERGE_ASSIGN_OR_RETURN(Bytes report, sim.issue(req));
    CONCIERGE_ASSIGN_OR_RETURN(Bytes table, sim.cert_table());
    return Json{{"evidence", base64_encode(report)},
                {"endorsements", {{"cert_table", base64_encode(table)}}}};
  };
  // Plain http is refused unless the caller says so.
  EXPECT_FALSE(attester::KbsClient::create(host.url()));
  attester::KbsClientOptions co;
  co.allow_insecure_http = true;
  co.broker_jwks = Json::parse(h().call("GET", "/.well-known/jwks.json").body);
  auto fooled = attester::KbsClient::create(host.url(), co).value();
  auto attested = fooled->attest("snp", collect);
  ASSERT_FALSE(attested);
  EXPECT_EQ(attested.error().code, Errc::kCrypto) << attested.error().to_string();
  EXPECT_FALSE(fooled->get_resource(kPath));
  // The real broker, pinned the same way: the secret arrives.
  auto real = attester::KbsClient::create(url(), co).value();
  auto ok = real->attest("snp", collect);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(real->ear_verified());
  auto got = real->get_resource(kPath);
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(std::string(as_chars(got->secret)), kSecret);
}

}  // namespace
}  // namespace concierge::testing
