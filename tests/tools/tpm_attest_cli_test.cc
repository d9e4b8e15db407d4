// The `concierge tpm` attester and enrolment commands against swtpm, and
// interoperability with tpm2-tools in both directions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "support/swtpm.h"
#include "support/vectors.h"

namespace concierge {
namespace {

using testing::run_cli;
using testing::run_shell;
using testing::Swtpm;
using testing::TempDir;

constexpr const char* kNonce = "5eed00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

bool have_tpm2_tools() { return run_shell("command -v tpm2_quote tpm2_checkquote").exit_code == 0; }

std::string source(const char* relative) {
  return q(std::filesystem::path(CONCIERGE_SOURCE_DIR) / relative);
}

class TpmCli : public ::testing::Test {
 protected:
  std::string verify(const std::filesystem::path& dir, const std::string& extra = "") {
    return "tpm verify-quote --ak " + q(dir / "ak.pub.pem") + " --msg " + q(dir / "quote.msg") +
           " --sig " + q(dir / "quote.sig") + " " + extra;
  }
  TempDir tmp_;
};

TEST_F(TpmCli, ConciergeQuoteVerifiesWithConciergeAndTpm2Checkquote) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto out = tmp_ / "quote";
  auto r = run_cli("tpm quote --tcti " + swtpm->tcti() + " --pcrs sha256:0,1,2,3,8 --nonce " +
                   kNonce + " --out " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto pcrs = nlohmann::json::parse(as_chars(testing::read_file(out / "pcrs.json")));
  EXPECT_EQ(pcrs["pcrs"]["sha256"].size(), 5u);

  auto v = run_cli(verify(
      out, "--nonce " + std::string(kNonce) + " --pcrs " + q(out / "pcrs.json") + " --json"));
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_TRUE(j["verified"].get<bool>());
  EXPECT_EQ(j["claims"]["nonce"], kNonce);

  if (!have_tpm2_tools()) GTEST_SKIP() << "tpm2-tools not installed";
  auto c = run_shell("tpm2_checkquote -u " + q(out / "ak.pub.pem") + " -m " + q(out / "quote.msg") +
                     " -s " + q(out / "quote.sig") + " -g sha256 -q " + kNonce);
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  // And tpm2_checkquote rejects another nonce, as we do.
  auto c2 = run_shell("tpm2_checkquote -u " + q(out / "ak.pub.pem") + " -m " +
                      q(out / "quote.msg") + " -s " + q(out / "quote.sig") + " -g sha256 -q 00");
  EXPECT_NE(c2.exit_code, 0);
}

TEST_F(TpmCli, Tpm2QuoteVerifiesWithConcierge) {
  if (!have_tpm2_tools()) GTEST_SKIP() << "tpm2-tools not installed";
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  const std::string t = " -T " + swtpm->tcti();
  auto d = [&](const char* name) { return q(tmp_ / name); };
  // Without a resource manager, tpm2-tools leave their objects loaded:
  // flush them between commands (swtpm has three object slots).
  const std::string flush = " && tpm2_flushcontext -t" + t + " && ";
  auto r = run_shell("cd " + q(tmp_.path()) + " && tpm2_createek" + t +
                     " -c ek.ctx -G rsa -u ek.pub" + flush + "tpm2_createak" + t +
                     " -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub -n ak.name" + flush +
                     "tpm2_quote" + t + " -c ak.ctx -l sha256:0,1,2,3,8 -q " + kNonce +
                     " -m quote.msg -s quote.sig -g sha256");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // tpm2_createak -u writes a TPM2B_PUBLIC, which --ak takes as it is.
  auto v = run_cli("tpm verify-quote --ak " + d("ak.pub") + " --msg " + d("quote.msg") + " --sig " +
                   d("quote.sig") + " --nonce " + kNonce);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  // The PCR values read with our CLI match the quote's digest.
  auto p = run_cli("tpm pcrs --tcti " + swtpm->tcti() + " --pcrs sha256:0,1,2,3,8");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  testing::write_file(tmp_ / "pcrs.json", as_bytes(p.out));
  auto v2 =
      run_cli("tpm verify-quote --ak " + d("ak.pub") + " --msg " + d("quote.msg") + " --sig " +
              d("quote.sig") + " --nonce " + kNonce + " --pcrs " + d("pcrs.json"));
  EXPECT_EQ(v2.exit_code, 0) << v2.err;
}

TEST_F(TpmCli, TamperedQuotesAreRejectedAndGarbageIsMalformed) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto a = tmp_ / "a";
  auto b = tmp_ / "b";
  for (const auto& out : {a, b}) {
    auto r = run_cli("tpm quote --tcti " + swtpm->tcti() + " --pcrs sha256:0,16 --nonce " + kNonce +
                     " --out " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string ok = "--nonce " + std::string(kNonce) + " --pcrs " + q(a / "pcrs.json");
  ASSERT_EQ(run_cli(verify(a, ok)).exit_code, 0);

  auto wrong_nonce =
      run_cli(verify(a, "--nonce 00" + std::string(kNonce + 2) + " --pcrs " + q(a / "pcrs.json")));
  EXPECT_EQ(wrong_nonce.exit_code, 1);
  EXPECT_NE(wrong_nonce.err.find("nonce"), std::string::npos) << wrong_nonce.err;

  auto pcrs = nlohmann::json::parse(as_chars(testing::read_file(a / "pcrs.json")));
  pcrs["pcrs"]["sha256"]["16"] = std::string(64, 'f');
  testing::write_file(tmp_ / "changed.json", as_bytes(pcrs.dump()));
  auto changed =
      run_cli(verify(a, "--nonce " + std::string(kNonce) + " --pcrs " + q(tmp_ / "changed.json")));
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.err.find("PCR digest"), std::string::npos) << changed.err;

  // Quote A checked with AK B (another AK of the same TPM).
  auto wrong_ak = run_cli("tpm verify-quote --ak " + q(b / "ak.pub.pem") + " --msg " +
                          q(a / "quote.msg") + " --sig " + q(a / "quote.sig") + " " + ok);
  EXPECT_EQ(wrong_ak.exit_code, 1);
  EXPECT_NE(wrong_ak.err.find("signature"), std::string::npos) << wrong_ak.err;

  Bytes sig = testing::read_file(a / "quote.sig");
  sig[sig.size() - 5] ^= 0x01;  // a bit of s
  testing::write_file(tmp_ / "flipped.sig", sig);
  auto flipped = run_cli("tpm verify-quote --ak " + q(a / "ak.pub.pem") + " --msg " +
                         q(a / "quote.msg") + " --sig " + q(tmp_ / "flipped.sig") + " " + ok);
  EXPECT_EQ(flipped.exit_code, 1) << flipped.err;

  testing::write_file(tmp_ / "garbage.msg", as_bytes("this is not a TPMS_ATTEST"));
  auto garbage = run_cli("tpm verify-quote --ak " + q(a / "ak.pub.pem") + " --msg " +
                         q(tmp_ / "garbage.msg") + " --sig " + q(a / "quote.sig") + " " + ok);
  EXPECT_EQ(garbage.exit_code, 2) << garbage.err;
}

TEST_F(TpmCli, EkCertificateChainsToTheSwtpmLocalCa) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto ek = tmp_ / "ek";
  auto r = run_cli("tpm ek --tcti " + swtpm->tcti() + " --out " + q(ek));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(ek / "ek.crt")) << r.out;
  auto v = run_cli("tpm verify-ek --cert " + q(ek / "ek.crt") + " --roots " +
                   q(Swtpm::ca_root_pem()) + " --intermediates " + q(Swtpm::ca_intermediate_pem()) +
                   " --ek " + q(ek / "ek.pub") + " --json");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["claims"]["tpm_model"], "swtpm");
  // Without the intermediate, or against another root: rejected.
  auto no_int =
      run_cli("tpm verify-ek --cert " + q(ek / "ek.crt") + " --roots " + q(Swtpm::ca_root_pem()));
  EXPECT_EQ(no_int.exit_code, 1) << no_int.err;
  auto wrong_root = run_cli("tpm verify-ek --cert " + q(ek / "ek.crt") + " --roots " +
                            q(Swtpm::ca_intermediate_pem()));
  EXPECT_EQ(wrong_root.exit_code, 1) << wrong_root.err;
}

TEST_F(TpmCli, CredentialActivationProvesTheAkSharesTheEksTpm) {
  CONCIERGE_REQUIRE_SWTPM(a, Swtpm::Kind::kManufactured);
  CONCIERGE_REQUIRE_SWTPM(b, Swtpm::Kind::kBlank);
  auto ek = tmp_ / "ek";
  ASSERT_EQ(run_cli("tpm ek --tcti " + a->tcti() + " --out " + q(ek)).exit_code, 0);
  auto ak_a = tmp_ / "ak-a";
  auto ak_b = tmp_ / "ak-b";
  auto ra = run_cli("tpm ak create --tcti " + a->tcti() + " --out " + q(ak_a));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  auto rb = run_cli("tpm ak create --tcti " + b->tcti() + " --out " + q(ak_b));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  testing::write_file(tmp_ / "secret", as_bytes("a 32-byte secret for this AK...."));

  // The verifier trusts EK A (from its certificate) and is shown AK A.
  auto mc = run_cli("tpm make-credential --ek " + q(ek / "ek.crt") + " --ak " + q(ak_a / "ak.pub") +
                    " --secret " + q(tmp_ / "secret") + " --out " + q(tmp_ / "cred-a"));
  ASSERT_EQ(mc.exit_code, 0) << mc.err;
  auto act = run_cli("tpm activate --tcti " + a->tcti() + " --ak " + q(ak_a) + " --credential " +
                     q(tmp_ / "cred-a") + " --out " + q(tmp_ / "got-a"));
  ASSERT_EQ(act.exit_code, 0) << act.err;
  EXPECT_EQ(as_chars(testing::read_file(tmp_ / "got-a")), "a 32-byte secret for this AK....");

  // Shown AK B (another TPM's), the credential cannot be activated there.
  // A name alone cannot be checked for the AK attributes: refused.
  auto name_only =
      run_cli("tpm make-credential --ek " + q(ek / "ek.pub") + " --ak-name " + q(ak_b / "ak.name") +
              " --secret " + q(tmp_ / "secret") + " --out " + q(tmp_ / "cred-name"));
  EXPECT_EQ(name_only.exit_code, 2) << name_only.err;
  EXPECT_NE(name_only.err.find("attributes"), std::string::npos) << name_only.err;
  // A name that is not the given AK's: refused.
  auto wrong_name = run_cli("tpm make-credential --ek " + q(ek / "ek.pub") + " --ak " +
                            q(ak_b / "ak.pub") + " --ak-name " + q(ak_a / "ak.name") +
                            " --secret " + q(tmp_ / "secret") + " --out " + q(tmp_ / "cred-x"));
  EXPECT_EQ(wrong_name.exit_code, 1) << wrong_name.err;
  auto mc_b = run_cli("tpm make-credential --ek " + q(ek / "ek.pub") + " --ak " +
                      q(ak_b / "ak.pub") + " --ak-name " + q(ak_b / "ak.name") + " --secret " +
                      q(tmp_ / "secret") + " --out " + q(tmp_ / "cred-b"));
  ASSERT_EQ(mc_b.exit_code, 0) << mc_b.err;
  auto act_b = run_cli("tpm activate --tcti " + b->tcti() + " --ak " + q(ak_b) + " --credential " +
                       q(tmp_ / "cred-b") + " --out " + q(tmp_ / "got-b"));
  EXPECT_EQ(act_b.exit_code, 1) << act_b.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "got-b"));
  // Nor can AK B's folder be used on TPM A: it was made under another EK.
  auto act_ab = run_cli("tpm activate --tcti " + a->tcti() + " --ak " + q(ak_b) + " --credential " +
                        q(tmp_ / "cred-b") + " --out " + q(tmp_ / "got-ab"));
  EXPECT_EQ(act_ab.exit_code, 2) << act_ab.err;

  // tpm2_activatecredential reads our credential file.
  if (!have_tpm2_tools()) return;
  const std::string t = " -T " + a->tcti();
  const std::string flush = " && tpm2_flushcontext -t" + t + " && ";
  auto r =
      run_shell("cd " + q(tmp_.path()) + " && tpm2_createek" + t + " -c ek.ctx -G rsa" + flush +
                "tpm2_createak" + t + " -C ek.ctx -c ak.ctx -G ecc -u tak.pub -n tak.name" + flush +
                "'" CONCIERGE_CLI_PATH "' tpm make-credential --ek " + q(ek / "ek.pub") +
                " --ak tak.pub --secret secret --out tcred && tpm2_startauthsession" + t +
                " --policy-session -S s.ctx && tpm2_policysecret" + t +
                " -S s.ctx -c e && tpm2_activatecredential" + t +
                " -c ak.ctx -C ek.ctx -i tcred -o tgot -P session:s.ctx && cmp tgot secret");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(TpmCli, MeasuredBootIntoSwtpmVerifiesAndASubstitutedStageIsNamed) {
  CONCIERGE_REQUIRE_SWTPM(good_tpm, Swtpm::Kind::kManufactured);
  CONCIERGE_REQUIRE_SWTPM(evil_tpm, Swtpm::Kind::kManufactured);
  const std::string manifest = source("examples/boot-chain/manifest-tpm.json");
  const std::string sel = "sha256:8,9,12,16,23";

  // Reference values from the known-good chain, computed in software.
  auto soft = run_cli("boot --manifest " + manifest + " --log " + q(tmp_ / "ref.log"));
  ASSERT_EQ(soft.exit_code, 0) << soft.err;
  auto ref =
      run_cli("eventlog reference " + q(tmp_ / "ref.log") + " --out " + q(tmp_ / "ref.json"));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;

  auto run = [&](const Swtpm& tpm, const std::string& name, const std::string& extra) {
    auto dir = tmp_ / name;
    auto b = run_cli("boot --manifest " + manifest + " --tcti " + tpm.tcti() + " --log " +
                     q(tmp_ / (name + ".log")) + " " + extra);
    EXPECT_EQ(b.exit_code, 0) << b.err;
    auto qr = run_cli("tpm quote --tcti " + tpm.tcti() + " --pcrs " + sel + " --nonce " + kNonce +
                      " --out " + q(dir));
    EXPECT_EQ(qr.exit_code, 0) << qr.err;
    return run_cli(verify(
        dir, "--nonce " + std::string(kNonce) + " --pcrs " + q(dir / "pcrs.json") + " --eventlog " +
                 q(tmp_ / (name + ".log")) + " --reference " + q(tmp_ / "ref.json")));
  };
  auto good = run(*good_tpm, "good", "");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  // The "verified" line says what the reference values compared.
  EXPECT_NE(good.out.find("reference values ("), std::string::npos) << good.out;
  // Reference values for a bank the quote does not have compare nothing:
  // an error, never "verified".
  testing::write_file(tmp_ / "sha1-ref.json",
                      as_bytes(R"({"pcrs": {"sha1": {"0": ")" + std::string(40, '0') + R"("}}})"));
  auto other_bank = run_cli(verify(tmp_ / "good", "--nonce " + std::string(kNonce) + " --pcrs " +
                                                      q(tmp_ / "good" / "pcrs.json") +
                                                      " --reference " + q(tmp_ / "sha1-ref.json")));
  EXPECT_EQ(other_bank.exit_code, 2) << other_bank.out << other_bank.err;
  EXPECT_NE(other_bank.err.find("nothing to compare"), std::string::npos) << other_bank.err;
  EXPECT_EQ(other_bank.out.find("verified"), std::string::npos) << other_bank.out;

  testing::write_file(tmp_ / "evil-vmlinuz", as_bytes("a kernel with a backdoor"));
  auto evil = run(*evil_tpm, "evil", "--replace kernel=" + q(tmp_ / "evil-vmlinuz"));
  EXPECT_EQ(evil.exit_code, 1) << evil.err;
  EXPECT_NE(evil.err.find("PCR 9"), std::string::npos) << evil.err;
  EXPECT_NE(evil.err.find("/boot/vmlinuz"), std::string::npos) << evil.err;

  // The honest log of the evil boot still matches its quote: without
  // reference values the quote verifies (authentic, but not what we expect).
  auto dir = tmp_ / "evil";
  auto no_ref =
      run_cli(verify(dir, "--nonce " + std::string(kNonce) + " --pcrs " + q(dir / "pcrs.json") +
                              " --eventlog " + q(tmp_ / "evil.log")));
  EXPECT_EQ(no_ref.exit_code, 0) << no_ref.err;
  // A log that does not belong to the quote: the PCR is named.
  auto wrong_log =
      run_cli(verify(dir, "--nonce " + std::string(kNonce) + " --pcrs " + q(dir / "pcrs.json") +
                              " --eventlog " + q(tmp_ / "good.log")));
  EXPECT_EQ(wrong_log.exit_code, 1);
  EXPECT_NE(wrong_log.err.find("sha256 PCR 9 differs from the event log"), std::string::npos)
      << wrong_log.err;
}

TEST_F(TpmCli, BootIntoATpmRefusesFirmwarePcrs) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto r = run_cli("boot --manifest " + source("examples/boot-chain/manifest.json") + " --tcti " +
                   swtpm->tcti() + " --log " + q(tmp_ / "log"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("PCR 0"), std::string::npos) << r.err;
}

TEST_F(TpmCli, UnreachableTpmIsExitTwo) {
  auto r = run_cli("tpm pcrs --tcti swtpm:host=127.0.0.1,port=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("swtpm"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace concierge
