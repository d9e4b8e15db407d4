#include "concierge/verifier/ear.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "support/jwcrypto.h"
#include "support/vectors.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

// A key of a type these functions do not take.
constexpr const char* kEd25519Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBoUS2TfSxh5N5pCDSVNrpeUFzGEtxVSpRxURRS/eAWZ\n"
    "-----END PRIVATE KEY-----\n";

TimePoint at(std::int64_t unix) { return TimePoint(seconds(unix)); }

AttestationResult sample(std::int64_t iat = 1700000000) {
  AttestationResult r;
  r.iat = iat;
  r.exp = iat + 600;
  r.verifier_build = "0.1.0";
  r.nonce = "bm9uY2Utbm9uY2Utbm9uY2U";
  EarSubmod snp;
  snp.status = Tier::kAffirming;
  EXPECT_TRUE(snp.trust_vector.set(TrustClaim::kHardware, trust_value::kGenuineHardware));
  EXPECT_TRUE(snp.trust_vector.set(TrustClaim::kExecutables, trust_value::kApprovedBoot));
  EXPECT_TRUE(
      snp.trust_vector.set(TrustClaim::kInstanceIdentity, trust_value::kTrustworthyInstance));
  snp.appraisal_policy_id = "policy:snp/default";
  snp.annotated_evidence = {{"snp.measurement", "00ab"}, {"snp.tcb", {{"snp", 22}}}};
  snp.extra = {{"ear.veraison.policy-claims", {{"allowed", true}}}};
  r.submods["snp"] = snp;
  EarSubmod gpu;
  gpu.status = Tier::kWarning;
  EXPECT_TRUE(gpu.trust_vector.set(TrustClaim::kConfiguration, trust_value::kUnsafeConfig));
  r.submods["gpu0"] = gpu;
  return r;
}

EarSigner signer_on(EcCurve curve) {
  auto key = PrivateKey::generate_ec(curve);
  EXPECT_TRUE(key);
  auto s = EarSigner::create(std::move(key).value());
  EXPECT_TRUE(s);
  return std::move(s).value();
}

std::string segment(const std::string& token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const std::size_t end = token.find('.', start);
  return token.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(Ear, ClaimsUseTheEarNames) {
  const Json c = ear_claims(sample());
  const Json expected = {
      {"eat_profile", "tag:github.com,2023:veraison/ear"},
      {"iat", 1700000000},
      {"exp", 1700000600},
      {"ear.verifier-id", {{"developer", "concierge"}, {"build", "0.1.0"}}},
      {"eat_nonce", "bm9uY2Utbm9uY2Utbm9uY2U"},
      {"submods",
       {{"snp",
         {{"ear.status", "affirming"},
          {"ear.trustworthiness-vector",
           {{"instance-identity", 2}, {"executables", 3}, {"hardware", 2}}},
          {"ear.appraisal-policy-id", "policy:snp/default"},
          {"ear.veraison.annotated-evidence",
           {{"snp.measurement", "00ab"}, {"snp.tcb", {{"snp", 22}}}}},
          {"ear.veraison.policy-claims", {{"allowed", true}}}}},
        {"gpu0",
         {{"ear.status", "warning"}, {"ear.trustworthiness-vector", {{"configuration", 32}}}}}}}};
  EXPECT_EQ(c, expected) << c.dump(2);
  auto back = parse_ear_claims(c);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, sample());
}

TEST(Ear, OptionalMembersMayBeAbsent) {
  AttestationResult r;
  r.iat = 10;
  r.exp = 20;
  r.submods["x"] = EarSubmod{};
  const Json c = ear_claims(r);
  EXPECT_FALSE(c.contains("eat_nonce"));
  EXPECT_EQ(c["submods"]["x"],
            Json({{"ear.status", "none"}, {"ear.trustworthiness-vector", Json::object()}}));
  EXPECT_EQ(*parse_ear_claims(c), r);
  Json bare = c;
  bare["submods"]["x"].erase("ear.trustworthiness-vector");
  EXPECT_EQ(*parse_ear_claims(bare), r);
}

TEST(Ear, ParsingIsStrict) {
  const Json good = ear_claims(sample());
  ASSERT_TRUE(parse_ear_claims(good));
  const auto expect_malformed = [](const Json& j, const std::string& field) {
    auto r = parse_ear_claims(j);
    ASSERT_FALSE(r) << j.dump();
    EXPECT_EQ(r.error().code, Errc::kMalformed);
    EXPECT_EQ(r.error().field, field) << r.error().to_string();
  };
  for (const char* required : {"eat_profile", "iat", "exp", "ear.verifier-id", "submods"}) {
    Json j = good;
    j.erase(required);
    expect_malformed(j, required);
  }
  Json j = good;
  j["iat"] = 1.5;
  expect_malformed(j, "iat");
  j = good;
  j["exp"] = "soon";
  expect_malformed(j, "exp");
  j = good;
  j["eat_profile"] = 1;
  expect_malformed(j, "eat_profile");
  j = good;
  j["eat_nonce"] = Json::array({"a", "b"});
  expect_malformed(j, "eat_nonce");
  j = good;
  j["ear.verifier-id"].erase("build");
  expect_malformed(j, "ear.verifier-id.build");
  j = good;
  j["submods"] = Json::object();
  expect_malformed(j, "submods");
  j = good;
  j["submods"]["snp"]["ear.status"] = "great";
  expect_malformed(j, "submods.snp.ear.status");
  j = good;
  j["submods"]["snp"].erase("ear.status");
  expect_malformed(j, "submods.snp.ear.status");
  j = good;
  j["submods"]["snp"]["ear.trustworthiness-vector"]["hardware"] = 200;
  expect_malformed(j, "submods.snp.ear.trustworthiness-vector");
  j = good;
  j["submods"]["snp"]["ear.trustworthiness-vector"]["colour"] = 2;
  expect_malformed(j, "submods.snp.ear.trustworthiness-vector");
  j = good;
  j["submods"]["snp"]["ear.appraisal-policy-id"] = 3;
  expect_malformed(j, "submods.snp.ear.appraisal-policy-id");
  j = good;
  j["submods"]["snp"]["ear.veraison.annotated-evidence"] = "text";
  expect_malformed(j, "submods.snp.ear.veraison.annotated-evidence");
  j = good;
  j["submods"]["gpu0"] = 1;
  expect_malformed(j, "submods.gpu0");
  // A status better than its vector.
  j = good;
  j["submods"]["gpu0"]["ear.status"] = "affirming";
  expect_malformed(j, "submods.gpu0.ear.status");
  EXPECT_FALSE(parse_ear_claims(Json::array()));
  // Unknown top-level claims are ignored.
  j = good;
  j["nbf"] = 5;
  j["jti"] = "x";
  EXPECT_EQ(*parse_ear_claims(j), sample());
}

TEST(Ear, ValidationBeforeSigning) {
  EXPECT_TRUE(validate_ear(sample()));
  AttestationResult r = sample();
  r.submods.clear();
  EXPECT_EQ(validate_ear(r).error().code, Errc::kInvalidArgument);
  r = sample();
  r.exp = r.iat;
  EXPECT_FALSE(validate_ear(r));
  r = sample();
  r.submods["snp"].extra["ear.status"] = "affirming";
  EXPECT_FALSE(validate_ear(r));
  r = sample();
  r.submods["snp"].annotated_evidence = Json::array();
  EXPECT_FALSE(validate_ear(r));
  r = sample();
  ASSERT_TRUE(r.submods["snp"].trust_vector.set(TrustClaim::kHardware,
                                                trust_value::kContraindicatedHardware));
  EXPECT_FALSE(validate_ear(r));  // affirming over a contraindicated claim
  r.submods["snp"].status = Tier::kContraindicated;
  EXPECT_TRUE(validate_ear(r));
  r.submods["snp"].status = Tier::kNone;
  EXPECT_TRUE(validate_ear(r));
  r = sample();
  r.submods[""] = EarSubmod{};
  EXPECT_FALSE(validate_ear(r));
  const EarSigner signer = signer_on(EcCurve::kP256);
  EXPECT_EQ(signer.sign(r).error().code, Errc::kInvalidArgument);
}

TEST(Ear, SignerKeysAndAlgorithms) {
  const EarSigner s256 = signer_on(EcCurve::kP256);
  const EarSigner s384 = signer_on(EcCurve::kP384);
  EXPECT_EQ(s256.alg(), jose::JwsAlg::kEs256);
  EXPECT_EQ(s384.alg(), jose::JwsAlg::kEs384);
  const Json jwks = s384.jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], s384.kid());
  EXPECT_EQ(jwks["keys"][0]["alg"], "ES384");
  EXPECT_EQ(jwks["keys"][0]["use"], "sig");
  EXPECT_EQ(jwks["keys"][0]["crv"], "P-384");
  EXPECT_FALSE(jwks["keys"][0].contains("d"));
  auto ed25519 = PrivateKey::from_pem(kEd25519Pem);
  ASSERT_TRUE(ed25519);
  EXPECT_EQ(EarSigner::create(std::move(ed25519).value()).error().code, Errc::kInvalidArgument);
  // The same key through PEM has the same kid.
  auto pem = s256.private_key_pem();
  ASSERT_TRUE(pem);
  auto again = EarSigner::from_pem(*pem);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kid(), s256.kid());
  EXPECT_FALSE(EarSigner::from_pem("not a key"));
}

TEST(Ear, RoundTripBothAlgorithms) {
  for (EcCurve curve : {EcCurve::kP256, EcCurve::kP384}) {
    const EarSigner signer = signer_on(curve);
    auto token = signer.sign(sample());
    ASSERT_TRUE(token) << token.error().to_string();
    auto header = base64url_decode(segment(*token, 0));
    const Json h = Json::parse(as_chars(*header));
    EXPECT_EQ(h["kid"], signer.kid());
    EXPECT_EQ(h["typ"], "JWT");
    auto v = verify_ear(*token, signer.jwks(), at(1700000100));
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_TRUE(v->verdict) << v->verdict.reason;
    ASSERT_TRUE(v->result);
    EXPECT_EQ(*v->result, sample());
    EXPECT_EQ(v->kid, signer.kid());
    EXPECT_EQ(v->alg, signer.alg());
    auto via_set = verify_ear(*token, signer.key_set(), at(1700000100));
    ASSERT_TRUE(via_set);
    EXPECT_TRUE(via_set->verdict);
  }
}

TEST(Ear, TamperedTokensAreRejected) {
  const EarSigner signer = signer_on(EcCurve::kP256);
  const std::string token = *signer.sign(sample());
  std::size_t checked = 0;
  for (const std::string& t : testing::tampered_tokens(token, 3)) {
    auto v = verify_ear(t, signer.key_set(), at(1700000100));
    EXPECT_TRUE(!v || !v->verdict) << "accepted: " << t;
    if (v) {
      EXPECT_FALSE(v->result);
    }
    ++checked;
  }
  EXPECT_GT(checked, 250u);
  // A signature character changed (the first: all six of its bits are used,
  // so the segment still decodes canonically): a rejection, not an error.
  std::string t = token;
  char& c = t[t.rfind('.') + 1];
  c = c == 'A' ? 'B' : 'A';
  auto v = verify_ear(t, signer.jwks(), at(1700000100));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->verdict);
  // Another verifier's key.
  const EarSigner other = signer_on(EcCurve::kP256);
  auto foreign = verify_ear(token, other.jwks(), at(1700000100));
  ASSERT_TRUE(foreign);
  EXPECT_FALSE(foreign->verdict);
  EXPECT_NE(foreign->verdict.reason.find("not in the key set"), std::string::npos);
}

TEST(Ear, TimeAndProfileChecks) {
  const EarSigner signer = signer_on(EcCurve::kP384);
  const std::string token = *signer.sign(sample(1700000000));
  const auto verify_at = [&](std::int64_t now, std::int64_t leeway = 0) {
    auto v = verify_ear(token, signer.jwks(), at(now), seconds(leeway));
    EXPECT_TRUE(v);
    return v ? v->verdict : Verdict::reject("error");
  };
  EXPECT_TRUE(verify_at(1700000599));
  EXPECT_FALSE(verify_at(1700000600));  // expired
  EXPECT_NE(verify_at(1700000600).reason.find("expired"), std::string::npos);
  EXPECT_TRUE(verify_at(1700000600, 60));
  EXPECT_FALSE(verify_at(1700003600, 60));
  EXPECT_FALSE(verify_at(1699999000));  // issued in the future
  EXPECT_TRUE(verify_at(1699999990, 60));

  AttestationResult other = sample();
  other.profile = "tag:example.com,2024:another-profile";
  auto v = verify_ear(*signer.sign(other), signer.jwks(), at(1700000100));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->verdict);
  EXPECT_NE(v->verdict.reason.find("eat_profile"), std::string::npos);
  EXPECT_FALSE(v->result);
}

TEST(Ear, GarbageIsAnError) {
  const EarSigner signer = signer_on(EcCurve::kP256);
  EXPECT_EQ(verify_ear("a.b", signer.jwks(), at(0)).error().code, Errc::kMalformed);
  EXPECT_EQ(verify_ear(*signer.sign(sample()), Json::array(), at(0)).error().code,
            Errc::kMalformed);
  // Validly signed claims that are not an EAR.
  auto key = PrivateKey::from_pem(*signer.private_key_pem());
  ASSERT_TRUE(key);
  auto jwt = jose::sign_jwt(*key, jose::JwsAlg::kEs256, Json{{"exp", 1700000600}, {"iat", 1}});
  ASSERT_TRUE(jwt);
  auto v = verify_ear(*jwt, signer.jwks(), at(1700000100));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::kMalformed);
}

TEST(Ear, KeyFileIsCreatedPrivateAndReloaded) {
  testing::TempDir dir;
  const auto path = dir / "ear-key.pem";
  auto created = EarSigner::load_or_create(path, EcCurve::kP384);
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ(created->alg(), jose::JwsAlg::kEs384);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const Bytes pem = testing::read_file(path);
  EXPECT_NE(std::string(as_chars(pem)).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);

  auto loaded = EarSigner::load_or_create(path);  // the curve only matters for new keys
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->kid(), created->kid());
  EXPECT_EQ(loaded->alg(), jose::JwsAlg::kEs384);
  auto token = created->sign(sample());
  ASSERT_TRUE(token);
  EXPECT_TRUE(verify_ear(*token, loaded->jwks(), at(1700000100))->verdict);

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto loose = EarSigner::load_or_create(path);
  ASSERT_FALSE(loose);
  EXPECT_EQ(loose.error().code, Errc::kInvalidArgument);
  EXPECT_NE(loose.error().message.find("0640"), std::string::npos);

  const auto garbage = dir / "garbage.pem";
  testing::write_file(garbage, as_bytes("not a key"));
  ASSERT_EQ(::chmod(garbage.c_str(), 0600), 0);
  EXPECT_FALSE(EarSigner::load_or_create(garbage));
  EXPECT_EQ(EarSigner::load_or_create(dir / "missing" / "key.pem").error().code, Errc::kIo);
  EXPECT_EQ(EarSigner::load_or_create(dir.path()).error().code, Errc::kInvalidArgument);
}

// ---- interoperability with python3-jwcrypto ----

class EarInterop : public ::testing::Test {
 protected:
  // Every 16th character and each segment's ends: jwcrypto takes ~1.6 ms per
  // P-384 verification; JoseInterop changes every character of shorter tokens.
  static constexpr std::size_t kEvery = 16;
  static void SetUpTestSuite() {
    now_ = unix_seconds(std::chrono::system_clock::now());
    std::vector<testing::JwcryptoVerifyRequest> verify;
    for (EcCurve curve : {EcCurve::kP256, EcCurve::kP384}) {
      EarSigner signer = signer_on(curve);
      auto token = signer.sign(sample(now_));
      ASSERT_TRUE(token);
      tokens_.push_back(*token);
      jwks_.push_back(signer.jwks());
      verify.push_back({*token, signer.jwks(), {"ES256", "ES384"}, true});
      for (const std::string& t : testing::tampered_tokens(*token, kEvery)) {
        verify.push_back({t, signer.jwks(), {"ES256", "ES384"}, true});
      }
    }
    std::vector<testing::JwcryptoSignRequest> sign = {
        {"P-384", "ES384", "py-ear", "", ear_claims(sample(now_)), true}};
    run_ = testing::run_jwcrypto(verify, sign);
  }
  static inline std::int64_t now_ = 0;
  static inline std::vector<std::string> tokens_;
  static inline std::vector<Json> jwks_;
  static inline testing::JwcryptoRun run_;
};

TEST_F(EarInterop, JwcryptoVerifiesOurEarAndRejectsEveryChange) {
  CONCIERGE_REQUIRE_JWCRYPTO(run_);
  std::size_t i = 0;
  for (const std::string& token : tokens_) {
    const auto& good = run_.verified[i++];
    ASSERT_TRUE(good.valid) << good.error;
    auto claims = parse_ear_claims(Json::parse(good.payload));
    ASSERT_TRUE(claims) << claims.error().to_string();
    EXPECT_EQ(*claims, sample(now_));
    const std::size_t variants = testing::tampered_tokens(token, kEvery).size();
    for (std::size_t k = 0; k < variants; ++k) {
      const auto& bad = run_.verified[i++];
      EXPECT_FALSE(bad.valid) << "jwcrypto accepted tampered variant " << k;
    }
  }
  EXPECT_EQ(i, run_.verified.size());
}

TEST_F(EarInterop, WeVerifyAJwcryptoMadeEar) {
  CONCIERGE_REQUIRE_JWCRYPTO(run_);
  const auto& made = run_.made[0];
  auto v = verify_ear(made.token, made.jwks, at(now_ + 1));
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->verdict) << v->verdict.reason;
  EXPECT_EQ(v->kid, "py-ear");
  EXPECT_EQ(v->alg, jose::JwsAlg::kEs384);
  EXPECT_EQ(*v->result, sample(now_));
}

}  // namespace
}  // namespace concierge::verifier
