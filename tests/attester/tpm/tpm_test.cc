// The TPM attester against swtpm: PCRs, EK and its certificate, AK creation,
// quotes verified by the verifier, credential activation, measured boot.
#include <gtest/gtest.h>

#include "concierge/attester/tpm/keys.h"
#include "concierge/attester/tpm/measured_boot.h"
#include "concierge/attester/tpm/tpm.h"
#include "concierge/core/encoding.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/tpm/credential.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/evidence/tpm/tpm_public.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/replay.h"
#include "support/swtpm.h"

namespace concierge::attester::tpm {
namespace {

using testing::Swtpm;

std::unique_ptr<Tpm> open(const Swtpm& swtpm) {
  auto tpm = Tpm::open(swtpm.tcti());
  EXPECT_TRUE(tpm.has_value()) << tpm.error().to_string();
  return tpm ? std::move(*tpm) : nullptr;
}

TEST(TpmPcrSelection, ParsesTpm2ToolsSyntax) {
  auto s = parse_pcr_selection("sha256:0,1,2,3,8+sha1:7");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].bank, HashAlg::kSha256);
  EXPECT_EQ((*s)[0].pcrs, (std::vector<unsigned>{0, 1, 2, 3, 8}));
  EXPECT_EQ((*s)[1].bank, HashAlg::kSha1);
  auto all = parse_pcr_selection("sha384:all");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ((*all)[0].pcrs.size(), 24u);
  for (const char* bad : {"", "sha256", "sha256:", "sha256:24", "sha256:1,1", "md5:0",
                          "sha256:0+sha256:1", "sha256:0,,1", "sha256:x"}) {
    EXPECT_FALSE(parse_pcr_selection(bad).has_value()) << bad;
  }
}

TEST(TpmOpen, UnknownTctiIsAnIoError) {
  auto tpm = Tpm::open("swtpm:host=127.0.0.1,port=1");
  ASSERT_FALSE(tpm.has_value());
  EXPECT_EQ(tpm.error().code, Errc::kIo) << tpm.error().to_string();
}

TEST(TpmPcrs, ExtendMatchesSoftwareBankAndResetClears) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  auto banks = tpm->pcr_banks();
  ASSERT_TRUE(banks.has_value()) << banks.error().to_string();
  EXPECT_EQ(*banks, (std::vector<HashAlg>{HashAlg::kSha256, HashAlg::kSha384}));

  measure::PcrBank sw256(HashAlg::kSha256), sw384(HashAlg::kSha384);
  for (const char* text : {"one", "two"}) {
    Bytes d256 = *digest(HashAlg::kSha256, as_bytes(text));
    Bytes d384 = *digest(HashAlg::kSha384, as_bytes(text));
    ASSERT_TRUE(tpm->extend_pcr(16, {{0x000b, d256}, {0x000c, d384}}).has_value());
    ASSERT_TRUE(sw256.extend(16, d256).has_value());
    ASSERT_TRUE(sw384.extend(16, d384).has_value());
  }
  auto values = tpm->read_pcrs({{HashAlg::kSha256, {0, 16}}, {HashAlg::kSha384, {16}}});
  ASSERT_TRUE(values.has_value()) << values.error().to_string();
  EXPECT_EQ(hex_encode((*values)[HashAlg::kSha256][16]), hex_encode(sw256.value(16)));
  EXPECT_EQ(hex_encode((*values)[HashAlg::kSha384][16]), hex_encode(sw384.value(16)));
  EXPECT_EQ((*values)[HashAlg::kSha256][0], Bytes(32, 0));

  ASSERT_TRUE(tpm->reset_pcr(16).has_value());
  auto after = tpm->read_pcrs({{HashAlg::kSha256, {16}}});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)[HashAlg::kSha256][16], Bytes(32, 0));
  // PCR 0 is not resettable from locality 0.
  EXPECT_EQ(tpm->reset_pcr(0).error().code, Errc::kDevice);
  // The sha1 bank is not allocated in this TPM.
  EXPECT_EQ(tpm->read_pcrs({{HashAlg::kSha1, {0}}}).error().code, Errc::kNotFound);
}

TEST(TpmPcrs, ReadsAllTwentyFourAcrossSeveralCommands) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  auto sel = parse_pcr_selection("sha256:all+sha384:all");
  auto values = tpm->read_pcrs(*sel);
  ASSERT_TRUE(values.has_value()) << values.error().to_string();
  EXPECT_EQ((*values)[HashAlg::kSha256].size(), 24u);
  EXPECT_EQ((*values)[HashAlg::kSha384].size(), 24u);
  EXPECT_EQ((*values)[HashAlg::kSha384][23].size(), 48u);
}

TEST(TpmEk, RsaEkMatchesItsCertificateFromTheLocalCa) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  auto ek = create_ek(*tpm, KeyAlg::kRsa2048);
  ASSERT_TRUE(ek.has_value()) << ek.error().to_string();
  auto cert_der = read_ek_certificate(*tpm, KeyAlg::kRsa2048);
  ASSERT_TRUE(cert_der.has_value()) << cert_der.error().to_string();
  ASSERT_TRUE(cert_der->has_value()) << "swtpm_setup --create-ek-cert wrote no RSA EK cert";
  auto cert = Certificate::from_der(**cert_der);
  ASSERT_TRUE(cert.has_value()) << cert.error().to_string();
  auto cert_key = cert->public_key();
  ASSERT_TRUE(cert_key.has_value());
  EXPECT_EQ(*cert_key->to_der(), *ek->key.to_der());
  // The EK's public area is the default template's: a verifier holding only
  // the certificate computes the same name.
  auto from_cert = evidence::tpm::ek_public_from_key(*cert_key);
  ASSERT_TRUE(from_cert.has_value()) << from_cert.error().to_string();
  auto parsed = evidence::tpm::parse_tpm_public(ek->tpm2b_public);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(hex_encode(from_cert->name), hex_encode(parsed->name));
  // swtpm's ECC EK certificate is for a P-384 key at another index; there
  // is none at the profile's P-256 index.
  auto ecc = read_ek_certificate(*tpm, KeyAlg::kEccP256);
  ASSERT_TRUE(ecc.has_value()) << ecc.error().to_string();
  EXPECT_FALSE(ecc->has_value());
}

class TpmQuote : public ::testing::TestWithParam<KeyAlg> {};

TEST_P(TpmQuote, QuoteVerifiesAndBindsNonceAndPcrs) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  auto ek = create_ek(*tpm, KeyAlg::kRsa2048);
  ASSERT_TRUE(ek.has_value()) << ek.error().to_string();
  auto blob = create_ak(*tpm, *ek, GetParam());
  ASSERT_TRUE(blob.has_value()) << blob.error().to_string();
  auto ak = load_ak(*tpm, *ek, *blob);
  ASSERT_TRUE(ak.has_value()) << ak.error().to_string();
  auto ak_public = evidence::tpm::parse_tpm_public(blob->tpm2b_public);
  ASSERT_TRUE(ak_public.has_value());
  EXPECT_TRUE(evidence::tpm::check_ak_attributes(*ak_public).accepted);

  ASSERT_TRUE(tpm->extend_pcr(16, {{0x000b, Bytes(32, 0xab)}}).has_value());
  Bytes nonce = *hex_decode("00112233445566778899aabbccddeeff");
  auto sel = parse_pcr_selection("sha256:0,1,2,3,16+sha384:16");
  auto q = quote(*tpm, *ak, *sel, nonce);
  ASSERT_TRUE(q.has_value()) << q.error().to_string();
  EXPECT_EQ(q->pcrs.at(HashAlg::kSha256).size(), 5u);

  auto check = evidence::tpm::verify_quote(q->tpms_attest, q->tpmt_signature, ak_public->key, nonce,
                                           &q->pcrs);
  ASSERT_TRUE(check.has_value()) << check.error().to_string();
  EXPECT_TRUE(check->verdict.accepted) << check->verdict.reason;
  EXPECT_EQ(check->quote.qualified_signer.size(), 34u);

  Bytes other_nonce = nonce;
  other_nonce[0] ^= 1;
  auto wrong = evidence::tpm::verify_quote(q->tpms_attest, q->tpmt_signature, ak_public->key,
                                           other_nonce, &q->pcrs);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(wrong->verdict.accepted);
  auto changed = q->pcrs;
  changed[HashAlg::kSha384][16][0] ^= 1;
  auto bad_pcr = evidence::tpm::verify_quote(q->tpms_attest, q->tpmt_signature, ak_public->key,
                                             nonce, &changed);
  ASSERT_TRUE(bad_pcr.has_value());
  EXPECT_FALSE(bad_pcr->verdict.accepted);
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, TpmQuote,
                         ::testing::Values(KeyAlg::kEccP256, KeyAlg::kRsa2048));

class TpmCredential : public ::testing::TestWithParam<KeyAlg> {};

TEST_P(TpmCredential, ActivatesForTheEksAkOnly) {
  CONCIERGE_REQUIRE_SWTPM(a, Swtpm::Kind::kManufactured);
  CONCIERGE_REQUIRE_SWTPM(b, Swtpm::Kind::kBlank);
  auto tpm_a = open(*a);
  auto tpm_b = open(*b);
  ASSERT_TRUE(tpm_a && tpm_b);
  auto ek_a = create_ek(*tpm_a, GetParam());
  auto ek_b = create_ek(*tpm_b, GetParam());
  ASSERT_TRUE(ek_a.has_value() && ek_b.has_value());
  EXPECT_NE(ek_a->tpm2b_public, ek_b->tpm2b_public);
  auto ak_a = create_ak(*tpm_a, *ek_a, KeyAlg::kEccP256);
  auto ak_b = create_ak(*tpm_b, *ek_b, KeyAlg::kEccP256);
  ASSERT_TRUE(ak_a.has_value() && ak_b.has_value());

  // The verifier: public data only.
  auto ek_public = evidence::tpm::parse_tpm_public(ek_a->tpm2b_public);
  ASSERT_TRUE(ek_public.has_value());
  const Bytes secret =
      *hex_decode("5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e7aaaa");
  auto good = evidence::tpm::make_credential(*ek_public, ak_a->name, secret);
  ASSERT_TRUE(good.has_value()) << good.error().to_string();

  auto loaded_a = load_ak(*tpm_a, *ek_a, *ak_a);
  ASSERT_TRUE(loaded_a.has_value()) << loaded_a.error().to_string();
  auto got = activate_credential(*tpm_a, *ek_a, *loaded_a, good->id_object, good->encrypted_secret);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(hex_encode(*got), hex_encode(secret));

  // An AK from another TPM claims to live beside EK A: the credential is made
  // for EK A and AK B's name. TPM B cannot open it (its EK is another key),
  // and AK B cannot be loaded into TPM A (it is wrapped by EK B).
  auto forged = evidence::tpm::make_credential(*ek_public, ak_b->name, secret);
  ASSERT_TRUE(forged.has_value());
  auto loaded_b = load_ak(*tpm_b, *ek_b, *ak_b);
  ASSERT_TRUE(loaded_b.has_value());
  auto refused =
      activate_credential(*tpm_b, *ek_b, *loaded_b, forged->id_object, forged->encrypted_secret);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Errc::kDevice) << refused.error().to_string();
  auto cross_load = load_ak(*tpm_a, *ek_a, *ak_b);
  ASSERT_FALSE(cross_load.has_value());
  EXPECT_EQ(cross_load.error().code, Errc::kDevice);
  // AK A with a credential bound to AK B's name: the TPM's HMAC check fails.
  auto mismatched =
      activate_credential(*tpm_a, *ek_a, *loaded_a, forged->id_object, forged->encrypted_secret);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_EQ(mismatched.error().code, Errc::kDevice);
}

INSTANTIATE_TEST_SUITE_P(RsaAndEccEk, TpmCredential,
                         ::testing::Values(KeyAlg::kRsa2048, KeyAlg::kEccP256));

measure::BootManifest tpm_manifest() {
  const std::filesystem::path dir =
      std::filesystem::path(CONCIERGE_SOURCE_DIR) / "examples/boot-chain";
  Bytes text = testing::read_file(dir / "manifest-tpm.json");
  auto m = measure::parse_boot_manifest(as_chars(text), dir);
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return m ? *m : measure::BootManifest{};
}

TEST(TpmMeasuredBoot, LogReplaysToTheTpmsPcrs) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  ASSERT_TRUE(tpm->extend_pcr(16, {{0x000b, Bytes(32, 1)}}).has_value());  // reset first
  auto record = run_boot_chain_in_tpm(*tpm, tpm_manifest());
  ASSERT_TRUE(record.has_value()) << record.error().to_string();
  auto log = measure::parse_event_log(record->event_log);
  ASSERT_TRUE(log.has_value());
  auto replayed = measure::replay(*log);
  ASSERT_TRUE(replayed.has_value());
  auto values = tpm->read_pcrs(*parse_pcr_selection("sha256:8,9,12,16,23+sha384:8,9,12,16,23"));
  ASSERT_TRUE(values.has_value());
  for (const auto& [bank, pcrs] : *values) {
    for (const auto& [pcr, value] : pcrs) {
      EXPECT_EQ(hex_encode(value), hex_encode(replayed->bank(bank)->value(pcr)))
          << hash_name(bank) << " PCR " << pcr;
      EXPECT_NE(value, Bytes(value.size(), 0));
    }
  }
  // A second run into the same TPM: PCRs 8-15 are no longer in reset state.
  auto again = run_boot_chain_in_tpm(*tpm, tpm_manifest());
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("PCR 8"), std::string::npos) << again.error().message;
}

TEST(TpmMeasuredBoot, RefusesFirmwarePcrs) {
  CONCIERGE_REQUIRE_SWTPM(swtpm, Swtpm::Kind::kManufactured);
  auto tpm = open(*swtpm);
  ASSERT_TRUE(tpm);
  auto manifest = tpm_manifest();
  manifest.stages[0].pcr = 0;
  auto record = run_boot_chain_in_tpm(*tpm, manifest);
  ASSERT_FALSE(record.has_value());
  EXPECT_EQ(record.error().code, Errc::kInvalidArgument);
  EXPECT_NE(record.error().message.find("PCR 0"), std::string::npos);
}

TEST(TpmKernelLogs, AbsentFileIsNotAnError) {
  auto log = read_kernel_log("/nonexistent/binary_bios_measurements");
  ASSERT_TRUE(log.has_value());
  EXPECT_FALSE(log->has_value());
}

}  // namespace
}  // namespace concierge::attester::tpm
