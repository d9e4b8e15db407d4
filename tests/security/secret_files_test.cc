// Files that hold secrets, written by `concierge`: never through a link
// planted at their path, never over an existing admin key, of mode 0600
// whatever the umask (core/state_files.h create_file); and the warning when
// the broker's key-encryption key comes from the environment.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "support/broker_harness.h"
#include "support/running_server.h"
#include "support/vectors.h"

namespace concierge::testing {
namespace {

namespace fs = std::filesystem;

std::string contents(const fs::path& p) { return std::string(as_chars(read_file(p))); }
std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// The CLI under umask 000: a file it creates with its default mode would be
// world-readable.
CliRun cli_with_open_umask(const std::string& args) {
  return run_shell(std::string("umask 000; '") + CONCIERGE_CLI_PATH + "' " + args);
}

TEST(SecretFiles, TheAgentsTokenIsNotWrittenThroughALink) {
  BrokerHarness h;
  h.now = std::chrono::system_clock::now();
  RunningServer server(h);
  TempDir dir;
  ASSERT_TRUE(shared_snp_simulator().save(dir / "sim"));
  const PrivateKey ear = PrivateKey::from_pem(h.ear_key_pem()).value();
  write_file(dir / "ear.pub.pem", as_bytes(ear.public_key().value().to_pem().value()));
  const auto m = good_measurement();
  const std::string agent = "agent attest " + server.url() + " --tee sim-snp --sim-state " +
                            q(dir / "sim") + " --measurement " + hex_encode(ByteView(m)) +
                            " --insecure --broker-jwks " + q(dir / "ear.pub.pem") + " --quiet";

  // A link planted where the token goes, to a file the attacker wants
  // overwritten (or read later).
  write_file(dir / "victim", as_bytes(std::string("untouched")));
  fs::create_symlink(dir / "victim", dir / "token");
  CliRun run = cli_with_open_umask(agent + " --token-out " + q(dir / "token"));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("exists"), std::string::npos) << run.err;
  EXPECT_EQ(contents(dir / "victim"), "untouched");
  EXPECT_TRUE(fs::is_symlink(dir / "token"));

  // To a new path: the token, mode 0600 despite the umask.
  run = cli_with_open_umask(agent + " --token-out " + q(dir / "token.jwt"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(mode_of(dir / "token.jwt"), 0600u);
  EXPECT_EQ(contents(dir / "token.jwt").find("eyJ"), 0u);
  // Not replaced by a second run.
  const std::string first = contents(dir / "token.jwt");
  run = cli_with_open_umask(agent + " --token-out " + q(dir / "token.jwt"));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(contents(dir / "token.jwt"), first);
}

TEST(SecretFiles, KeygenNeitherOverwritesAnAdminKeyNorFollowsALink) {
  TempDir dir;
  const std::string keygen =
      "admin keygen --out " + q(dir / "admin.pem") + " --public " + q(dir / "admin.pub.pem");
  CliRun run = cli_with_open_umask(keygen);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(mode_of(dir / "admin.pem"), 0600u);
  EXPECT_EQ(mode_of(dir / "admin.pub.pem"), 0644u);
  const std::string key = contents(dir / "admin.pem");
  const std::string pub = contents(dir / "admin.pub.pem");

  run = cli_with_open_umask(keygen);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("refusing to replace"), std::string::npos) << run.err;
  EXPECT_EQ(contents(dir / "admin.pem"), key);
  EXPECT_EQ(contents(dir / "admin.pub.pem"), pub);

  write_file(dir / "victim", as_bytes(std::string("untouched")));
  fs::create_symlink(dir / "victim", dir / "link.pem");
  run = cli_with_open_umask("admin keygen --out " + q(dir / "link.pem") + " --public " +
                            q(dir / "other.pub.pem"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(contents(dir / "victim"), "untouched");
}

TEST(SecretFiles, AKekFromTheEnvironmentIsWarnedAbout) {
  TempDir dir;
  const nlohmann::json config = {{"listen", "127.0.0.1:0"},
                                 {"store", "sqlite:" + (dir / "absent" / "broker.db").string()},
                                 {"kek", {{"env", "CONCIERGE_TEST_KEK"}}},
                                 {"ear_key", "ear.pem"},
                                 {"admin_keys", {"admin.pub.pem"}}};
  write_file(dir / "config.json", as_bytes(config.dump()));
  // The store cannot be opened, so the broker stops right after reading
  // the key; the warning comes first.
  const CliRun run = run_shell("CONCIERGE_TEST_KEK=" + std::string(64, 'a') + " '" +
                               CONCIERGE_CLI_PATH + "' serve --config " + q(dir / "config.json"));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("WARNING: the key-encryption key is taken from the environment "
                         "variable CONCIERGE_TEST_KEK"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("/environ"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace concierge::testing
