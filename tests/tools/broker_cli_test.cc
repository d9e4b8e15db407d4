// `concierge serve`, `admin` and `agent` as processes: the owner's setup, a
// simulated SEV-SNP guest fetching a secret, exit codes, a server restart in
// the middle of an exchange, and the README's demo.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <httplib.h>

#include "concierge/attester/kbs_client.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jose.h"
#include "concierge/core/jwe.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/verifier/binding.h"
#include "support/postgres.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::TempDir;
using Json = nlohmann::json;

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// A `concierge serve` process on a free port.
class ServeProcess {
 public:
  explicit ServeProcess(const std::filesystem::path& config) : config_(config) { start(); }
  ~ServeProcess() { stop(); }
  void start() {
    log_ = config_.parent_path() / "serve.log";
    std::filesystem::remove(log_);
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = log_.string();
      FILE* f = std::freopen(log.c_str(), "w", stdout);
      (void)f;
      dup2(fileno(stdout), 2);
      const std::string config = config_.string();
      const std::string p = port_ == 0 ? "0" : std::to_string(port_);
      execl(CONCIERGE_CLI_PATH, "concierge", "serve", "--config", config.c_str(), "--port",
            p.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    bool serving = false;
    for (int i = 0; i < 400 && !serving; ++i) {
      std::ifstream in(log_);
      std::string line;
      std::getline(in, line);
      const auto pos = line.rfind("127.0.0.1:");
      if (pos != std::string::npos) {
        port_ = std::stoi(line.substr(pos + 10));
        serving = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
    ASSERT_TRUE(serving) << "the server did not start";
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "serve did not stop cleanly";
      pid_ = -1;
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path config_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int port_ = 0;  // kept across restarts
};

struct BrokerSetup {
  TempDir dir;
  std::string admin;  // the admin command prefix, without the URL
  std::string measurement;
  std::string ear_public_pem;
  std::string agent_flags;  // plain http, knowingly, with the broker's EAR key pinned
  BrokerSetup() {
    auto sim = run_cli("snp simulate init --dir " + q(dir / "sim") + " --product Genoa");
    EXPECT_EQ(sim.exit_code, 0) << sim.err;
    auto kg = run_cli("admin keygen --out " + q(dir / "admin.pem") + " --public " +
                      q(dir / "admin.pub.pem"));
    EXPECT_EQ(kg.exit_code, 0) << kg.err;
    testing::write_file(dir / "kek", as_bytes(std::string(64, 'a') + "\n"));
    // The broker's EAR key, made here so that the guests can pin its public half.
    const PrivateKey ear = PrivateKey::generate_ec(EcCurve::kP256).value();
    testing::write_file(dir / "ear.pem", as_bytes(ear.to_pem().value()));
    std::filesystem::permissions(
        dir / "ear.pem", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ear_public_pem = ear.public_key().value().to_pem().value();
    testing::write_file(dir / "ear.pub.pem", as_bytes(ear_public_pem));
    agent_flags = " --insecure --broker-jwks " + q(dir / "ear.pub.pem") + " ";
    std::filesystem::permissions(
        dir / "kek", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const Json config = {
        {"listen", "127.0.0.1:0"},         {"store", "sqlite:broker.db"},
        {"kek", {{"file", "kek"}}},        {"ear_key", "ear.pem"},
        {"admin_keys", {"admin.pub.pem"}}, {"trust", {{"snp_roots", {"sim/roots.pem"}}}}};
    testing::write_file(dir / "config.json", as_bytes(config.dump()));
    measurement = std::string(96, '5');
    const Json refs = {
        {"reference_values", {{{"name", "snp.measurement"}, {"value", measurement}}}}};
    testing::write_file(dir / "refs.json", as_bytes(refs.dump()));
    testing::write_file(dir / "secret", as_bytes("s3cr3t disk key"));
  }
  std::string admin_cmd(const ServeProcess& s) const {
    return "admin --url " + s.url() + " --key " + q(dir / "admin.pem") + " ";
  }
};

TEST(BrokerCliTest, OwnerSetsUpAndASimulatedGuestFetchesItsSecret) {
  BrokerSetup s;
  ServeProcess serve(s.dir / "config.json");
  const std::string admin = s.admin_cmd(serve);
  ASSERT_EQ(run_cli(admin + "put-resource default/disk/key " + q(s.dir / "secret")).exit_code, 0);
  ASSERT_EQ(run_cli(admin + "add-refs " + q(s.dir / "refs.json")).exit_code, 0);
  auto resources = run_cli(admin + "resources");
  EXPECT_EQ(resources.exit_code, 0);
  EXPECT_NE(resources.out.find("default/disk/key"), std::string::npos);
  EXPECT_EQ(resources.out.find("s3cr3t"), std::string::npos);

  const std::string url = serve.url() + "/kbs/v0/resource/default/disk/key";
  auto got =
      run_cli("agent get-resource " + url + s.agent_flags + " --tee sim-snp --sim-state " +
              q(s.dir / "sim") + " --measurement " + s.measurement + " --out " + q(s.dir / "got"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(std::string(as_chars(testing::read_file(s.dir / "got"))), "s3cr3t disk key");

  // Other firmware: refused (exit 1), nothing written.
  auto refused = run_cli("agent get-resource " + url + s.agent_flags +
                         " --tee sim-snp --sim-state " + q(s.dir / "sim") + " --measurement " +
                         std::string(96, '6') + " --out " + q(s.dir / "stolen"));
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("measurement"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(s.dir / "stolen"));

  // A passport: attest once, fetch with the token.
  auto token = run_cli("agent attest " + serve.url() + s.agent_flags +
                       " --tee sim-snp --sim-state " + q(s.dir / "sim") + " --measurement " +
                       s.measurement + " --token-out " + q(s.dir / "token"));
  ASSERT_EQ(token.exit_code, 0) << token.err;
  // The passport's key is the attesting agent's, which is gone: the broker
  // still releases (to that key), and this agent cannot decrypt it.
  auto passport = run_cli("agent get-resource " + url + s.agent_flags + " --passport " +
                          q(s.dir / "token") + " --out " + q(s.dir / "p"));
  EXPECT_EQ(passport.exit_code, 2) << passport.err;
  EXPECT_NE(passport.err.find("does not decrypt"), std::string::npos) << passport.err;

  // The audit log, and refusals for a stranger.
  auto audit = run_cli(admin + "audit");
  EXPECT_EQ(audit.exit_code, 0);
  EXPECT_NE(audit.out.find("release"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("refuse"), std::string::npos) << audit.out;
  (void)run_cli("admin keygen --out " + q(s.dir / "other.pem") + " --public " +
                q(s.dir / "other.pub"));
  auto stranger =
      run_cli("admin --url " + serve.url() + " --key " + q(s.dir / "other.pem") + " resources");
  EXPECT_EQ(stranger.exit_code, 1) << stranger.err;
  // Usage errors are 2.
  EXPECT_EQ(run_cli("agent get-resource not-a-url --tee sim-snp").exit_code, 2);
  EXPECT_EQ(run_cli("serve --config " + q(s.dir / "missing.json")).exit_code, 2);
  // Plain http on an address other hosts reach would carry the admin API in
  // the clear: refused unless the configuration says so explicitly.
  Json open_config = Json::parse(as_chars(testing::read_file(s.dir / "config.json")));
  open_config["listen"] = "0.0.0.0:0";
  testing::write_file(s.dir / "open.json", as_bytes(open_config.dump()));
  auto open = run_cli("serve --config " + q(s.dir / "open.json"));
  EXPECT_EQ(open.exit_code, 2) << open.err;
  EXPECT_NE(open.err.find("allow_plain_http_on_network"), std::string::npos) << open.err;
  open_config["allow_plain_http_on_network"] = "yes";
  testing::write_file(s.dir / "open.json", as_bytes(open_config.dump()));
  EXPECT_EQ(run_cli("serve --config " + q(s.dir / "open.json")).exit_code, 2);
}

TEST(BrokerCliTest, ARestartBetweenAuthAndAttestDoesNotBreakTheExchange) {
  BrokerSetup s;
  ServeProcess serve(s.dir / "config.json");
  const std::string admin = s.admin_cmd(serve);
  ASSERT_EQ(run_cli(admin + "put-resource default/disk/key " + q(s.dir / "secret")).exit_code, 0);
  ASSERT_EQ(run_cli(admin + "add-refs " + q(s.dir / "refs.json")).exit_code, 0);
  auto sim = evidence::snp::SnpSimulator::load(s.dir / "sim");
  ASSERT_TRUE(sim);
  attester::KbsClientOptions co;
  co.allow_insecure_http = true;
  jose::Jwks pinned;
  ASSERT_TRUE(pinned.add(PublicKey::from_pem(s.ear_public_pem).value()));
  co.broker_jwks = pinned.to_json();
  auto client = attester::KbsClient::create(serve.url(), co);
  ASSERT_TRUE(client);
  bool restarted = false;
  auto attested = (*client)->attest("snp", [&](ByteView report_data, const Json&) -> Result<Json> {
    // Between auth (done) and attest (about to be sent): the server restarts.
    serve.stop();
    serve.start();
    restarted = true;
    evidence::snp::ReportRequest req;
    std::copy(report_data.begin(), report_data.end(), req.report_data.begin());
    req.measurement.fill(0x55);
    CONCIERGE_ASSIGN_OR_RETURN(Bytes report, sim->issue(req));
    CONCIERGE_ASSIGN_OR_RETURN(Bytes table, sim->cert_table());
    return Json{{"evidence", base64_encode(report)},
                {"endorsements", {{"cert_table", base64_encode(table)}}}};
  });
  ASSERT_TRUE(restarted);
  ASSERT_TRUE(attested) << attested.error().to_string();
  ASSERT_FALSE(attested->refused) << attested->reason;
  auto got = (*client)->get_resource("default/disk/key");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(std::string(as_chars(got->secret)), "s3cr3t disk key");
}

// Two `concierge serve` processes on one PostgreSQL database: an exchange
// begun on one is finished on the other, and a challenge is spent for both.
TEST(BrokerCliTest, TwoServerProcessesOnOnePostgresCompleteEachOthersExchanges) {
  CONCIERGE_REQUIRE_POSTGRES(db);
  BrokerSetup s;
  Json config = Json::parse(as_chars(testing::read_file(s.dir / "config.json")));
  config["store"] = *db;
  testing::write_file(s.dir / "config.json", as_bytes(config.dump()));
  std::filesystem::create_directories(s.dir / "b");
  config["kek"]["file"] = "../kek";
  config["ear_key"] = "../ear.pem";
  config["admin_keys"] = {"../admin.pub.pem"};
  config["trust"]["snp_roots"] = {"../sim/roots.pem"};
  testing::write_file(s.dir / "b" / "config.json", as_bytes(config.dump()));
  ServeProcess a(s.dir / "config.json");
  ServeProcess b(s.dir / "b" / "config.json");
  const std::string admin = s.admin_cmd(a);
  ASSERT_EQ(run_cli(admin + "put-resource default/disk/key " + q(s.dir / "secret")).exit_code, 0);
  ASSERT_EQ(run_cli(admin + "add-refs " + q(s.dir / "refs.json")).exit_code, 0);

  auto sim = evidence::snp::SnpSimulator::load(s.dir / "sim");
  ASSERT_TRUE(sim);
  auto key = PrivateKey::generate_ec(EcCurve::kP256).value();
  const Json jwk = jose::encryption_jwk(key.public_key().value()).value();
  httplib::Client ca(a.url()), cb(b.url());
  auto auth = ca.Post("/kbs/v0/auth", R"({"version":"0.4.0","tee":"snp","extra-params":{}})",
                      "application/json");
  ASSERT_TRUE(auth);
  ASSERT_EQ(auth->status, 200);
  const std::string cookie = auth->get_header_value("Set-Cookie")
                                 .substr(0, auth->get_header_value("Set-Cookie").find(';'));
  const Json runtime = {{"nonce", Json::parse(auth->body)["nonce"]}, {"tee-pubkey", jwk}};
  evidence::snp::ReportRequest req;
  const Bytes rd = verifier::runtime_data_digest(runtime, HashAlg::kSha384, 64).value();
  std::copy(rd.begin(), rd.end(), req.report_data.begin());
  req.measurement.fill(0x55);
  const Json attest = {
      {"runtime-data", runtime},
      {"tee-evidence",
       {{"evidence", base64_encode(sim->issue(req).value())},
        {"endorsements", {{"cert_table", base64_encode(sim->cert_table().value())}}}}}};
  const httplib::Headers headers = {{"Cookie", cookie}};
  auto attested = cb.Post("/kbs/v0/attest", headers, attest.dump(), "application/json");
  ASSERT_TRUE(attested);
  ASSERT_EQ(attested->status, 200) << attested->body;
  // The same evidence again, on the first server: the challenge is spent.
  auto replay = ca.Post("/kbs/v0/attest", headers, attest.dump(), "application/json");
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401) << replay->body;
  auto got = ca.Get("/kbs/v0/resource/default/disk/key", headers);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  auto plain = jose::jwe_decrypt(std::string_view(got->body), key);
  ASSERT_TRUE(plain && *plain);
  EXPECT_EQ(std::string(as_chars(plain->plaintext)), "s3cr3t disk key");
}

// The README's main command, on the software TPM (the swtpm variant runs in
// `make demo` itself).
TEST(BrokerCliTest, TheDemoTellsTheWholeStory) {
  auto run = testing::run_shell(std::string("DEMO_SOFTWARE_TPM=1 '") + CONCIERGE_SOURCE_DIR +
                                "/scripts/demo.sh' '" + CONCIERGE_CLI_PATH + "'");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("the VM holds the owner's disk key"), std::string::npos);
  EXPECT_NE(run.err.find("/boot/vmlinuz"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("demo complete"), std::string::npos);
}

}  // namespace
}  // namespace concierge
