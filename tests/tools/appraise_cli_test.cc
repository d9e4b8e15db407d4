// `concierge envelope make|report-data`, `refs add` and `appraise`: a
// simulated SEV-SNP guest from evidence to a signed EAR that jwcrypto
// verifies against the verifier's JWKS; exit codes 0 / 1 / 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "support/jwcrypto.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::read_file;
using testing::run_cli;
using testing::TempDir;

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

constexpr const char* kJwk =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

struct Guest {
  std::string envelope;  // path
  std::string measurement;
};

// A simulated guest whose report binds `nonce` and the key above.
Guest simulated_guest(const TempDir& dir, const std::string& name, const std::string& firmware) {
  const std::string jwk = (dir / "jwk.json").string();
  testing::write_file(jwk, as_bytes(kJwk));
  auto rd = run_cli("envelope report-data --tee snp --nonce n-1 --tee-pubkey " + q(jwk));
  EXPECT_EQ(rd.exit_code, 0) << rd.err;
  std::string report_data = rd.out;
  report_data.erase(report_data.find_last_not_of("\n") + 1);
  auto m = testing::run_shell("printf '" + firmware + "' | sha384sum | cut -d' ' -f1");
  std::string measurement = m.out.substr(0, 96);
  auto rep = run_cli("snp simulate report --dir " + q(dir / "sim") + " --report-data " +
                     report_data + " --measurement " + measurement + " --out " +
                     q(dir / (name + ".bin")) + " --certs-out " + q(dir / (name + ".certs")));
  EXPECT_EQ(rep.exit_code, 0) << rep.err;
  auto env = run_cli("envelope make --tee snp --evidence " + q(dir / (name + ".bin")) +
                     " --cert-table " + q(dir / (name + ".certs")) + " --nonce n-1 --tee-pubkey " +
                     q(jwk) + " -o " + q(dir / (name + ".json")));
  EXPECT_EQ(env.exit_code, 0) << env.err;
  return {(dir / (name + ".json")).string(), measurement};
}

TEST(AppraiseCli, SimulatedGuestIsAffirmedAndItsEarVerifiesWithJwcrypto) {
  TempDir dir;
  ASSERT_EQ(run_cli("snp simulate init --dir " + q(dir / "sim")).exit_code, 0);
  const Guest good = simulated_guest(dir, "good", "firmware v1");
  const std::string refs = (dir / "refs.json").string();
  auto add = run_cli("refs add snp.measurement " + good.measurement + " --file " + q(refs) +
                     " --provenance 'build 42'");
  ASSERT_EQ(add.exit_code, 0) << add.err;

  const std::string base = " --snp-root " + q(dir / "sim" / "roots.pem") + " --refs " + q(refs);
  auto ok = run_cli("appraise " + q(good.envelope) + base + " --token --key " + q(dir / "ear.key") +
                    " --jwks-out " + q(dir / "jwks.json") + " --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err << ok.out;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["status"], "affirming");
  const std::string token = j["token"];
  const auto jwks = nlohmann::json::parse(as_chars(read_file(dir / "jwks.json")));

  std::vector<testing::JwcryptoVerifyRequest> requests = {{token, jwks, {"ES256"}, true}};
  const auto tampered = testing::tampered_tokens(token, 17);
  for (const std::string& t : tampered) requests.push_back({t, jwks, {"ES256"}, true});
  const testing::JwcryptoRun run = testing::run_jwcrypto(requests, {});
  CONCIERGE_REQUIRE_JWCRYPTO(run);
  ASSERT_EQ(run.verified.size(), requests.size());
  ASSERT_TRUE(run.verified[0].valid) << run.verified[0].error;
  const auto claims = nlohmann::json::parse(run.verified[0].payload);
  EXPECT_EQ(claims["eat_profile"], "tag:github.com,2023:veraison/ear");
  EXPECT_EQ(claims["submods"]["snp"]["ear.status"], "affirming");
  EXPECT_EQ(claims["submods"]["snp"]["ear.trustworthiness-vector"]["executables"], 2);
  EXPECT_EQ(claims["eat_nonce"], "n-1");
  for (std::size_t i = 1; i < run.verified.size(); ++i) {
    EXPECT_FALSE(run.verified[i].valid) << "jwcrypto accepted " << requests[i].token;
  }
}

TEST(AppraiseCli, SubstitutedFirmwareIsNamedAndExitsOne) {
  TempDir dir;
  ASSERT_EQ(run_cli("snp simulate init --dir " + q(dir / "sim")).exit_code, 0);
  const Guest good = simulated_guest(dir, "good", "firmware v1");
  const Guest evil = simulated_guest(dir, "evil", "firmware evil");
  const std::string refs = (dir / "refs.json").string();
  ASSERT_EQ(
      run_cli("refs add snp.measurement " + good.measurement + " --file " + q(refs)).exit_code, 0);
  const std::string base = " --snp-root " + q(dir / "sim" / "roots.pem") + " --refs " + q(refs);
  auto bad = run_cli("appraise " + q(evil.envelope) + base);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find(evil.measurement), std::string::npos) << bad.out;
  EXPECT_NE(bad.err.find("appraisal: warning"), std::string::npos) << bad.err;

  // Without the test root: AMD's roots only, a cryptographic failure.
  auto untrusted = run_cli("appraise " + q(good.envelope) + " --refs " + q(refs));
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("contraindicated"), std::string::npos) << untrusted.err;

  // Malformed input: exit 2 with one line.
  testing::write_file(dir / "junk.json", as_bytes("{\"tee\": \"snp\"}"));
  auto junk = run_cli("appraise " + q(dir / "junk.json") + " --refs " + q(refs));
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("evidence"), std::string::npos) << junk.err;
  auto no_key = run_cli("appraise " + q(good.envelope) + base + " --token");
  EXPECT_EQ(no_key.exit_code, 2);
}

}  // namespace
}  // namespace concierge
