// TPM 2.0 quote verification: a real quote from a Windows GCP Shielded VM
// (go-attestation's test data) and synthetic quotes built with tss2-mu.
#include "concierge/evidence/tpm/quote.h"
#include "concierge/evidence/tpm/soft_quoter.h"

#include <gtest/gtest.h>
#include <tss2/tss2_mu.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/private_key.h"
#include "concierge/core/signature.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/replay.h"
#include "support/test_cache.h"
#include "support/vectors.h"

namespace concierge::evidence::tpm {
namespace {

using concierge::testing::read_file;
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

Bytes b64(const nlohmann::json& j) {
  auto r = base64_decode(j.get<std::string>());
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return r.value_or(Bytes{});
}

struct GcpVector {
  Bytes ak_public, quote, signature, nonce, log;
  PcrValues pcrs;  // sha1 bank from Log.PCRs
};

GcpVector load_gcp(const std::filesystem::path& path) {
  Bytes text = read_file(path);
  auto j = nlohmann::json::parse(as_chars(text));
  GcpVector v;
  v.ak_public = b64(j["AK"]["Public"]);
  v.quote = b64(j["Quote"]["Quote"]);
  v.signature = b64(j["Quote"]["Signature"]);
  v.nonce = b64(j["Quote"]["Nonce"]);
  v.log = b64(j["Log"]["Raw"]);
  EXPECT_EQ(j["Quote"]["Alg"].get<int>(), 4);  // TPM_ALG_SHA1
  for (const auto& p : j["Log"]["PCRs"]) {
    EXPECT_EQ(p["DigestAlg"].get<int>(), 3);  // Go crypto.SHA1
    v.pcrs[HashAlg::kSha1][p["Index"].get<unsigned>()] = b64(p["Digest"]);
  }
  return v;
}

Result<QuoteCheck> verify(const GcpVector& v, const PcrValues* pcrs) {
  auto ak = parse_ak_public(v.ak_public);
  EXPECT_TRUE(ak.has_value()) << ak.error().to_string();
  if (!ak) return Unexpected(ak.error());
  return verify_quote(v.quote, v.signature, *ak, v.nonce, pcrs);
}

void expect_reject(const Result<QuoteCheck>& r, const std::string& reason) {
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_FALSE(r->verdict.accepted);
  EXPECT_EQ(r->verdict.reason, reason);
}

TEST(TpmQuoteGcp, RealQuoteVerifiesWithTheAkAndPcrValues) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/quote/windows_gcp_shielded_vm.json");
  GcpVector v = load_gcp(path);
  auto ak = parse_ak_public(v.ak_public);
  ASSERT_TRUE(ak.has_value()) << ak.error().to_string();
  EXPECT_EQ(ak->type(), KeyType::kRsa);
  EXPECT_EQ(ak->bits(), 2048);

  auto r = verify(v, &v.pcrs);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  const ParsedQuote& q = r->quote;
  EXPECT_TRUE(q.extra_data.empty());
  EXPECT_EQ(q.qualified_signer.size(), 34u);  // nameAlg SHA-256 + digest
  EXPECT_EQ(q.raw, v.quote);
  ASSERT_EQ(q.selections.size(), 1u);
  EXPECT_EQ(q.selections[0].bank, HashAlg::kSha1);
  EXPECT_EQ(q.selections[0].pcrs.size(), 24u);
  EXPECT_EQ(q.pcr_digest.size(), 20u);

  // Without PCR values only the signature and nonce are checked.
  auto no_pcrs = verify(v, nullptr);
  ASSERT_TRUE(no_pcrs.has_value());
  EXPECT_TRUE(no_pcrs->verdict.accepted);
}

TEST(TpmQuoteGcp, TamperingIsRejectedWithTheReason) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/quote/windows_gcp_shielded_vm.json");
  const GcpVector v = load_gcp(path);

  GcpVector bad = v;
  bad.signature.back() ^= 0x01;
  expect_reject(verify(bad, &v.pcrs), "signature does not verify with the AK");

  // Flip a bit of the clock: still a well-formed quote, no longer the signed one.
  bad = v;
  auto parsed = parse_quote(v.quote);
  ASSERT_TRUE(parsed.has_value());
  std::size_t clock_at = 6 + 2 + parsed->qualified_signer.size() + 2 + parsed->extra_data.size();
  bad.quote[clock_at + 7] ^= 0x01;
  auto reparsed = parse_quote(bad.quote);
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_EQ(reparsed->clock, parsed->clock ^ 1u);
  expect_reject(verify(bad, &v.pcrs), "signature does not verify with the AK");

  bad = v;
  bad.nonce = {0x01};
  expect_reject(verify(bad, &v.pcrs), "nonce (extraData) differs");

  PcrValues pcrs = v.pcrs;
  pcrs[HashAlg::kSha1][7][0] ^= 0x80;
  expect_reject(verify(v, &pcrs), "PCR digest differs from the digest of the given PCR values");

  pcrs = v.pcrs;
  pcrs[HashAlg::kSha1].erase(7);
  expect_reject(verify(v, &pcrs), "quote selects sha1 PCR 7 but no value was given");
  pcrs.clear();
  expect_reject(verify(v, &pcrs), "quote selects sha1 PCR 0 but no value was given");
}

TEST(TpmQuoteGcp, TruncationAndTrailingBytesAreErrors) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/quote/windows_gcp_shielded_vm.json");
  const GcpVector v = load_gcp(path);
  for (std::size_t n : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{20},
                        std::size_t{45}, std::size_t{70}, v.quote.size() - 1}) {
    auto r = parse_quote(ByteView(v.quote).first(n));
    ASSERT_FALSE(r.has_value()) << "truncated at " << n;
    EXPECT_EQ(r.error().code, Errc::kTruncated) << n << ": " << r.error().to_string();
  }
  Bytes longer = v.quote;
  longer.push_back(0);
  auto r = parse_quote(longer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kTrailingData);
  EXPECT_EQ(r.error().offset, v.quote.size());

  auto ak = parse_ak_public(v.ak_public);
  ASSERT_TRUE(ak.has_value());
  Bytes sig = v.signature;
  sig.push_back(0);
  auto vr = verify_quote(v.quote, sig, *ak, v.nonce, nullptr);
  ASSERT_FALSE(vr.has_value());
  EXPECT_EQ(vr.error().code, Errc::kTrailingData);
  auto vt = verify_quote(v.quote, ByteView(v.signature).first(10), *ak, v.nonce, nullptr);
  ASSERT_FALSE(vt.has_value());
  EXPECT_EQ(vt.error().code, Errc::kTruncated);

  Bytes pub = v.ak_public;
  pub.push_back(0);
  auto pr = parse_ak_public(pub);
  ASSERT_FALSE(pr.has_value());
  EXPECT_EQ(pr.error().code, Errc::kTrailingData);

  // The same key wrapped as a TPM2B_PUBLIC.
  Bytes wrapped = {static_cast<std::uint8_t>(v.ak_public.size() >> 8),
                   static_cast<std::uint8_t>(v.ak_public.size())};
  wrapped.insert(wrapped.end(), v.ak_public.begin(), v.ak_public.end());
  auto pw = parse_ak_public(wrapped);
  ASSERT_TRUE(pw.has_value()) << pw.error().to_string();
  EXPECT_EQ(pw->to_der().value(), parse_ak_public(v.ak_public)->to_der().value());
}

TEST(TpmQuoteGcp, WrongMagicOrTypeIsNotAQuote) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/quote/windows_gcp_shielded_vm.json");
  const GcpVector v = load_gcp(path);
  Bytes bad = v.quote;
  bad[0] = 0xfe;
  auto r = parse_quote(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "magic");
  bad = v.quote;
  bad[5] = 0x1a;  // TPM_ST_ATTEST_CREATION
  r = parse_quote(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field, "type");

  // A selection of a bank with an unknown hash: unsupported, naming where.
  auto parsed = parse_quote(v.quote);
  ASSERT_TRUE(parsed.has_value());
  const std::size_t hash_at = 6 + 2 + parsed->qualified_signer.size() + 2 + 17 + 8 + 4;
  ASSERT_EQ(v.quote[hash_at + 1], 0x04);  // TPM_ALG_SHA1
  bad = v.quote;
  bad[hash_at] = 0xff;
  r = parse_quote(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::kUnsupported) << r.error().to_string();
  EXPECT_EQ(r.error().offset, hash_at);
}

TEST(TpmQuoteGcp, EventLogReplaysToTheQuotedPcrs) {
  CONCIERGE_REQUIRE_VECTOR(path, "tpm/quote/windows_gcp_shielded_vm.json");
  const GcpVector v = load_gcp(path);
  auto log = measure::parse_event_log(v.log);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_EQ(log->format, measure::LogFormat::kLegacySha1);
  auto result = measure::replay(*log);
  ASSERT_TRUE(result.has_value()) << result.error().to_string();
  const measure::PcrBank* bank = result->bank(HashAlg::kSha1);
  ASSERT_NE(bank, nullptr);
  const auto& quoted = v.pcrs.at(HashAlg::kSha1);
  // Every PCR the log extends replays to the quoted value; the others keep
  // their reset values in the quote too (zeros; all-ones for 17-22).
  std::set<unsigned> extended, differ;
  for (unsigned pcr = 0; pcr < measure::kPcrCount; ++pcr) {
    if (bank->touched(pcr)) extended.insert(pcr);
    if (hex_encode(bank->value(pcr)) != hex_encode(quoted.at(pcr))) differ.insert(pcr);
  }
  EXPECT_EQ(extended, (std::set<unsigned>{0, 4, 5, 7, 11, 12, 13, 14}));
  EXPECT_EQ(differ, std::set<unsigned>{}) << "replayed PCRs differ from the quoted ones";
}

// ---- synthetic quotes ----

struct Synthetic {
  PrivateKey key;
  Bytes ak_public, quote, signature, nonce;
  PcrValues pcrs;
};

// A quote of sha256 PCRs 0, 1 and 7 from the software quoter (soft_quoter.h).
Synthetic make_synthetic() {
  auto quoter = SoftQuoter::create();
  EXPECT_TRUE(quoter.has_value());
  Synthetic s{PrivateKey::from_pem(quoter->key().to_pem().value()).value(), {}, {}, {}, {}, {}};
  s.nonce = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
  for (unsigned pcr : {0u, 1u, 7u}) {
    s.pcrs[HashAlg::kSha256][pcr] =
        digest(HashAlg::kSha256, as_bytes("pcr " + std::to_string(pcr))).value();
  }
  auto q = quoter->quote(HashAlg::kSha256, s.pcrs[HashAlg::kSha256], s.nonce);
  EXPECT_TRUE(q.has_value()) << q.error().to_string();
  s.quote = q->attest;
  s.signature = q->signature;
  s.ak_public = q->ak_public;
  s.pcrs[HashAlg::kSha256][3] = Bytes(32, 0x33);  // not selected: ignored
  return s;
}

TEST(TpmQuoteSynthetic, EcdsaP256QuoteVerifies) {
  Synthetic s = make_synthetic();
  auto ak = parse_ak_public(s.ak_public);
  ASSERT_TRUE(ak.has_value()) << ak.error().to_string();
  EXPECT_EQ(ak->curve(), EcCurve::kP256);
  EXPECT_EQ(ak->to_der().value(), s.key.public_key().value().to_der().value());

  auto r = verify_quote(s.quote, s.signature, *ak, s.nonce, &s.pcrs);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_TRUE(r->verdict.accepted) << r->verdict.reason;
  const ParsedQuote& q = r->quote;
  EXPECT_EQ(q.extra_data, s.nonce);
  EXPECT_EQ(q.clock, 123456789u);
  EXPECT_EQ(q.reset_count, 3u);
  EXPECT_EQ(q.restart_count, 5u);
  EXPECT_TRUE(q.safe);
  EXPECT_EQ(q.firmware_version, 0x0001000200030004ull);
  EXPECT_EQ(hex_encode(q.qualified_signer), "000b0102");
  ASSERT_EQ(q.selections.size(), 1u);
  EXPECT_EQ(q.selections[0].bank, HashAlg::kSha256);
  EXPECT_EQ(q.selections[0].pcrs, (std::vector<unsigned>{0, 1, 7}));
}

TEST(TpmQuoteSynthetic, TamperingIsRejected) {
  Synthetic s = make_synthetic();
  auto ak = parse_ak_public(s.ak_public);
  ASSERT_TRUE(ak.has_value());

  Bytes sig = s.signature;
  sig.back() ^= 0x01;  // last byte of s
  expect_reject(verify_quote(s.quote, sig, *ak, s.nonce, &s.pcrs),
                "signature does not verify with the AK");

  Bytes quote = s.quote;
  quote.back() ^= 0x01;  // last byte of pcrDigest
  expect_reject(verify_quote(quote, s.signature, *ak, s.nonce, &s.pcrs),
                "signature does not verify with the AK");

  Bytes nonce = s.nonce;
  nonce[0] ^= 0x01;
  expect_reject(verify_quote(s.quote, s.signature, *ak, nonce, &s.pcrs),
                "nonce (extraData) differs");
  expect_reject(verify_quote(s.quote, s.signature, *ak, ByteView(s.nonce).first(4), &s.pcrs),
                "nonce (extraData) differs");

  PcrValues pcrs = s.pcrs;
  pcrs[HashAlg::kSha256][1][31] ^= 0x01;
  expect_reject(verify_quote(s.quote, s.signature, *ak, s.nonce, &pcrs),
                "PCR digest differs from the digest of the given PCR values");
  pcrs = s.pcrs;
  pcrs[HashAlg::kSha256].erase(7);
  expect_reject(verify_quote(s.quote, s.signature, *ak, s.nonce, &pcrs),
                "quote selects sha256 PCR 7 but no value was given");

  // Another key: the signature does not verify.
  auto other = PrivateKey::generate_ec(EcCurve::kP256).value().public_key().value();
  expect_reject(verify_quote(s.quote, s.signature, other, s.nonce, &s.pcrs),
                "signature does not verify with the AK");
  // An RSA AK for an ECDSA signature: a rejection, not an error.
  auto rsa = concierge::testing::cached_rsa_key(2048).public_key().value();
  auto mismatch = verify_quote(s.quote, s.signature, rsa, s.nonce, &s.pcrs);
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_FALSE(mismatch->verdict.accepted);
}

TEST(TpmQuoteSynthetic, EveryTruncationIsAnError) {
  Synthetic s = make_synthetic();
  for (std::size_t n = 0; n < s.quote.size(); ++n) {
    auto r = parse_quote(ByteView(s.quote).first(n));
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, Errc::kTruncated) << n << ": " << r.error().to_string();
  }
  for (std::size_t n = 0; n < s.ak_public.size(); ++n) {
    EXPECT_FALSE(parse_ak_public(ByteView(s.ak_public).first(n)).has_value()) << n;
  }
}

}  // namespace
}  // namespace concierge::evidence::tpm
