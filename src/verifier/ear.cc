#include "concierge/verifier/ear.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "concierge/core/bytes.h"
#include "concierge/core/state_files.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

constexpr const char* kStatus = "ear.status";
constexpr const char* kVector = "ear.trustworthiness-vector";
constexpr const char* kPolicyId = "ear.appraisal-policy-id";
constexpr const char* kAnnotated = "ear.veraison.annotated-evidence";
constexpr std::array<std::string_view, 4> kTypedSubmodMembers = {kStatus, kVector, kPolicyId,
                                                                 kAnnotated};

Error malformed(const std::string& where, const std::string& what) {
  Error e = make_error(Errc::kMalformed, "EAR: " + where + ": " + what);
  e.field = where;
  return e;
}

// A status may not claim more than its vector: see ear.h.
std::optional<std::string> status_conflict(const EarSubmod& submod) {
  const Tier vector_tier = submod.trust_vector.status();
  if (submod.status == Tier::kNone ||
      static_cast<int>(submod.status) >= static_cast<int>(vector_tier)) {
    return std::nullopt;
  }
  return "status " + std::string(tier_name(submod.status)) +
         " is better than its trustworthiness vector (" + std::string(tier_name(vector_tier)) + ")";
}

Result<std::int64_t> integer_member(const Json& j, const std::string& name) {
  const auto it = j.find(name);
  if (it == j.end()) return Unexpected(malformed(name, "missing"));
  if (it->is_number_integer() &&
      !(it->is_number_unsigned() &&
        it->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
    return it->get<std::int64_t>();
  }
  return Unexpected(malformed(name, "not an integer"));
}

Result<std::string> string_member(const Json& j, const std::string& name,
                                  const std::string& where) {
  const auto it = j.find(name);
  if (it == j.end()) return Unexpected(malformed(where, "missing"));
  if (!it->is_string()) return Unexpected(malformed(where, "not a string"));
  return it->get<std::string>();
}

Result<EarSubmod> parse_submod(const Json& j, const std::string& where) {
  if (!j.is_object()) return Unexpected(malformed(where, "not an object"));
  EarSubmod out;
  CONCIERGE_ASSIGN_OR_RETURN(std::string status, string_member(j, kStatus, where + "." + kStatus));
  const std::optional<Tier> tier = parse_tier(status);
  if (!tier) return Unexpected(malformed(where + "." + kStatus, "unknown tier \"" + status + "\""));
  out.status = *tier;
  if (const auto v = j.find(kVector); v != j.end()) {
    auto vector = TrustVector::from_json(*v);
    if (!vector) return Unexpected(malformed(where + "." + kVector, vector.error().message));
    out.trust_vector = *vector;
  }
  if (j.contains(kPolicyId)) {
    CONCIERGE_ASSIGN_OR_RETURN(out.appraisal_policy_id,
                               string_member(j, kPolicyId, where + "." + kPolicyId));
  }
  if (const auto a = j.find(kAnnotated); a != j.end()) {
    if (!a->is_object()) return Unexpected(malformed(where + "." + kAnnotated, "not an object"));
    out.annotated_evidence = *a;
  }
  for (const auto& [name, value] : j.items()) {
    if (std::find(kTypedSubmodMembers.begin(), kTypedSubmodMembers.end(), name) ==
        kTypedSubmodMembers.end()) {
      out.extra[name] = value;
    }
  }
  if (auto conflict = status_conflict(out)) {
    return Unexpected(malformed(where + "." + kStatus, *conflict));
  }
  return out;
}

// ---- the key file ----

Error io_error(const std::string& what, const std::filesystem::path& path, int err) {
  return make_error(Errc::kIo, what + " " + path.string() + ": " + std::strerror(err));
}

Result<std::string> read_key_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Unexpected(io_error("cannot open", path, errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Unexpected(io_error("cannot stat", path, err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::kInvalidArgument,
                "EAR signing key " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(Errc::kInvalidArgument, "EAR signing key " + path.string() + " has mode " + mode +
                                            ": group and others must have no access (chmod 600)");
  }
  std::string pem;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      wipe(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(pem.data()), pem.size()));
      return Unexpected(io_error("cannot read", path, err));
    }
    if (n == 0) break;
    pem.append(buf, static_cast<std::size_t>(n));
    if (pem.size() > (1u << 20)) break;  // no PEM key is this large
  }
  wipe(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf), sizeof buf));
  ::close(fd);
  return pem;
}

void wipe_string(std::string& s) {
  wipe(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(s.data()), s.size()));
}

// Writes `pem` to a new 0600 file at `path` (state_files::create_file);
// false (no error) when `path` appeared meanwhile.
Result<bool> create_key_file(const std::filesystem::path& path, const std::string& pem) {
  auto created = state_files::create_file(path, pem, 0600, state_files::IfExists::kRefuse);
  if (created) return true;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return false;
  return Unexpected(created.error());
}

}  // namespace

nlohmann::json ear_claims(const AttestationResult& result) {
  Json submods = Json::object();
  for (const auto& [name, submod] : result.submods) {
    Json s = submod.extra.is_object() ? submod.extra : Json::object();
    s[kStatus] = std::string(tier_name(submod.status));
    s[kVector] = submod.trust_vector.to_json();
    if (!submod.appraisal_policy_id.empty()) s[kPolicyId] = submod.appraisal_policy_id;
    if (!submod.annotated_evidence.is_null()) s[kAnnotated] = submod.annotated_evidence;
    submods[name] = std::move(s);
  }
  Json claims = {
      {"eat_profile", result.profile},
      {"iat", result.iat},
      {"exp", result.exp},
      {"ear.verifier-id",
       {{"developer", result.verifier_developer}, {"build", result.verifier_build}}},
      {"submods", std::move(submods)},
  };
  if (result.issuer) claims["iss"] = *result.issuer;
  if (result.audience) claims["aud"] = *result.audience;
  if (result.nonce) claims["eat_nonce"] = *result.nonce;
  if (result.primary) claims[std::string(kPrimaryClaim)] = *result.primary;
  return claims;
}

Result<void> validate_ear(const AttestationResult& result) {
  const auto invalid = [](const std::string& what) {
    return fail(Errc::kInvalidArgument, "EAR: " + what);
  };
  if (result.profile.empty()) return invalid("empty eat_profile");
  if (result.verifier_developer.empty()) return invalid("empty verifier developer");
  if (result.exp <= result.iat) return invalid("exp is not after iat");
  if (result.submods.empty()) return invalid("no submod");
  for (const auto& [name, submod] : result.submods) {
    if (name.empty()) return invalid("a submod with an empty name");
    if (!submod.annotated_evidence.is_null() && !submod.annotated_evidence.is_object()) {
      return invalid("submods." + name + ": annotated evidence is not an object");
    }
    if (!submod.extra.is_object()) return invalid("submods." + name + ": extra is not an object");
    for (std::string_view typed : kTypedSubmodMembers) {
      if (submod.extra.contains(typed)) {
        return invalid("submods." + name + ": extra sets the typed member " + std::string(typed));
      }
    }
    if (auto conflict = status_conflict(submod))
      return invalid("submods." + name + ": " + *conflict);
  }
  if (result.primary && result.submods.count(*result.primary) == 0) {
    return invalid("the primary submod " + *result.primary + " is not among the submods");
  }
  return {};
}

Result<AttestationResult> parse_ear_claims(const nlohmann::json& claims) {
  if (!claims.is_object()) return Unexpected(malformed("claims", "not a JSON object"));
  AttestationResult out;
  CONCIERGE_ASSIGN_OR_RETURN(out.profile, string_member(claims, "eat_profile", "eat_profile"));
  CONCIERGE_ASSIGN_OR_RETURN(out.iat, integer_member(claims, "iat"));
  CONCIERGE_ASSIGN_OR_RETURN(out.exp, integer_member(claims, "exp"));
  const auto vid = claims.find("ear.verifier-id");
  if (vid == claims.end()) return Unexpected(malformed("ear.verifier-id", "missing"));
  if (!vid->is_object()) return Unexpected(malformed("ear.verifier-id", "not an object"));
  CONCIERGE_ASSIGN_OR_RETURN(out.verifier_developer,
                             string_member(*vid, "developer", "ear.verifier-id.developer"));
  CONCIERGE_ASSIGN_OR_RETURN(out.verifier_build,
                             string_member(*vid, "build", "ear.verifier-id.build"));
  if (claims.contains("eat_nonce")) {
    CONCIERGE_ASSIGN_OR_RETURN(out.nonce, string_member(claims, "eat_nonce", "eat_nonce"));
  }
  if (claims.contains("iss")) {
    CONCIERGE_ASSIGN_OR_RETURN(out.issuer, string_member(claims, "iss", "iss"));
  }
  if (claims.contains("aud")) {
    CONCIERGE_ASSIGN_OR_RETURN(out.audience, string_member(claims, "aud", "aud"));
  }
  const auto submods = claims.find("submods");
  if (submods == claims.end()) return Unexpected(malformed("submods", "missing"));
  if (!submods->is_object()) return Unexpected(malformed("submods", "not an object"));
  if (submods->empty()) return Unexpected(malformed("submods", "empty"));
  for (const auto& [name, value] : submods->items()) {
    CONCIERGE_ASSIGN_OR_RETURN(EarSubmod submod, parse_submod(value, "submods." + name));
    out.submods.emplace(name, std::move(submod));
  }
  if (claims.contains(kPrimaryClaim)) {
    CONCIERGE_ASSIGN_OR_RETURN(
        out.primary, string_member(claims, std::string(kPrimaryClaim), std::string(kPrimaryClaim)));
    if (out.submods.count(*out.primary) == 0) {
      return Unexpected(malformed(std::string(kPrimaryClaim), "names no submod"));
    }
  }
  return out;
}

Result<EarSigner> EarSigner::create(PrivateKey key) {
  const std::optional<EcCurve> curve = key.type() == KeyType::kEc ? key.curve() : std::nullopt;
  if (!curve) return fail(Errc::kInvalidArgument, "EAR signing key must be EC P-256 or P-384");
  const jose::JwsAlg alg = jose::jws_alg_for_curve(*curve);
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pub, key.public_key());
  jose::Jwks jwks;
  CONCIERGE_ASSIGN_OR_RETURN(std::string kid, jwks.add(pub, alg));
  return EarSigner(std::move(key), std::move(jwks), std::move(kid), alg);
}

Result<void> EarSigner::add_previous_key(const PublicKey& key) {
  const std::optional<EcCurve> curve = key.type() == KeyType::kEc ? key.curve() : std::nullopt;
  if (!curve) return fail(Errc::kInvalidArgument, "an EAR key must be EC P-256 or P-384");
  CONCIERGE_ASSIGN_OR_RETURN(std::string kid, jwks_.add(key, jose::jws_alg_for_curve(*curve)));
  (void)kid;
  return {};
}

Result<EarSigner> EarSigner::from_pem(std::string_view pem) {
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::from_pem(pem));
  return create(std::move(key));
}

Result<EarSigner> EarSigner::load_or_create(const std::filesystem::path& path,
                                            EcCurve curve_if_new) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)) || attempt > 0) {
      CONCIERGE_ASSIGN_OR_RETURN(std::string pem, read_key_file(path));
      auto signer = from_pem(pem);
      wipe_string(pem);
      if (!signer) {
        return fail(signer.error().code,
                    "EAR signing key " + path.string() + ": " + signer.error().message);
      }
      return signer;
    }
    CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::generate_ec(curve_if_new));
    CONCIERGE_ASSIGN_OR_RETURN(std::string pem, key.to_pem());
    auto created = create_key_file(path, pem);
    wipe_string(pem);
    if (!created) return Unexpected(std::move(created).error());
    if (*created) return create(std::move(key));
    // Another process created the file first: load its key.
  }
  return fail(Errc::kInternal, "EAR signing key: unreachable");
}

Result<std::string> EarSigner::sign(const AttestationResult& result) const {
  CONCIERGE_RETURN_IF_ERROR(validate_ear(result));
  return jose::sign_jwt(key_, alg_, ear_claims(result), Json{{"typ", "JWT"}, {"kid", kid_}});
}

Result<EarVerification> verify_ear(std::string_view token, const jose::Jwks& jwks, TimePoint now,
                                   std::chrono::seconds leeway) {
  const jose::JwtTimeCheck time{now, leeway, /*require_exp=*/true};
  CONCIERGE_ASSIGN_OR_RETURN(
      jose::VerifiedJwt jwt,
      jose::verify_jwt(token, jwks, {jose::JwsAlg::kEs256, jose::JwsAlg::kEs384}, time));
  EarVerification out;
  if (!jwt) {
    out.verdict = std::move(jwt.verdict);
    return out;
  }
  CONCIERGE_ASSIGN_OR_RETURN(AttestationResult result, parse_ear_claims(jwt.claims));
  if (result.profile != kEarProfile) {
    out.verdict = Verdict::reject("EAR: eat_profile \"" + result.profile + "\" is not " +
                                  std::string(kEarProfile));
    return out;
  }
  out.verdict = Verdict::accept();
  out.result = std::move(result);
  out.kid = std::move(jwt.kid);
  out.alg = jwt.alg;
  return out;
}

Result<EarVerification> verify_ear(std::string_view token, const nlohmann::json& jwks,
                                   TimePoint now, std::chrono::seconds leeway) {
  CONCIERGE_ASSIGN_OR_RETURN(jose::Jwks keys, jose::Jwks::from_json(jwks));
  return verify_ear(token, keys, now, leeway);
}

}  // namespace concierge::verifier
