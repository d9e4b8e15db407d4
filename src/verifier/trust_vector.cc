#include "concierge/verifier/trust_vector.h"

#include <string>

namespace concierge::verifier {
namespace {

constexpr std::array<std::string_view, kTrustClaimCount> kClaimNames = {
    "instance-identity", "configuration",  "executables",    "file-system",
    "hardware",          "runtime-opaque", "storage-opaque", "sourced-data"};

constexpr std::array<std::string_view, 4> kTierNames = {"none", "affirming", "warning",
                                                        "contraindicated"};

}  // namespace

std::string_view trust_claim_name(TrustClaim claim) {
  return kClaimNames[static_cast<std::size_t>(claim)];
}

std::optional<TrustClaim> parse_trust_claim(std::string_view name) {
  for (std::size_t i = 0; i < kClaimNames.size(); ++i) {
    if (kClaimNames[i] == name) return static_cast<TrustClaim>(i);
  }
  return std::nullopt;
}

std::string_view tier_name(Tier tier) { return kTierNames[static_cast<std::size_t>(tier)]; }

std::optional<Tier> parse_tier(std::string_view name) {
  for (std::size_t i = 0; i < kTierNames.size(); ++i) {
    if (kTierNames[i] == name) return static_cast<Tier>(i);
  }
  return std::nullopt;
}

Tier tier_of(int value) {
  const int magnitude = value < 0 ? -value - 1 : value;  // -1 -> 0, -2 -> 1, ..., -128 -> 127
  if (value >= -1 && value <= 1) return Tier::kNone;
  if (magnitude <= 31) return Tier::kAffirming;
  if (magnitude <= 95) return Tier::kWarning;
  return Tier::kContraindicated;
}

Result<void> TrustVector::set(TrustClaim claim, int value) {
  if (value < -128 || value > 127) {
    return fail(Errc::kInvalidArgument, std::string(trust_claim_name(claim)) + " value " +
                                            std::to_string(value) + " is outside -128..127");
  }
  values_[static_cast<std::size_t>(claim)] = static_cast<std::int8_t>(value);
  return {};
}

std::optional<int> TrustVector::get(TrustClaim claim) const {
  const auto& v = values_[static_cast<std::size_t>(claim)];
  if (!v) return std::nullopt;
  return *v;
}

Tier TrustVector::status() const {
  Tier worst = Tier::kNone;
  for (const auto& v : values_) {
    if (v && static_cast<int>(tier_of(*v)) > static_cast<int>(worst)) worst = tier_of(*v);
  }
  return worst;
}

nlohmann::json TrustVector::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < kTrustClaimCount; ++i) {
    if (values_[i]) out[std::string(kClaimNames[i])] = static_cast<int>(*values_[i]);
  }
  return out;
}

Result<TrustVector> TrustVector::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail(Errc::kMalformed, "trustworthiness vector is not an object");
  TrustVector out;
  for (const auto& [name, value] : j.items()) {
    const auto claim = parse_trust_claim(name);
    if (!claim) return fail(Errc::kMalformed, "unknown trustworthiness claim '" + name + "'");
    if (!value.is_number_integer()) {
      return fail(Errc::kMalformed, "trustworthiness claim '" + name + "' is not an integer");
    }
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > 127) {
      return fail(Errc::kMalformed, "trustworthiness claim '" + name + "' is outside -128..127");
    }
    const auto v = value.get<std::int64_t>();
    if (v < -128 || v > 127) {
      return fail(Errc::kMalformed, "trustworthiness claim '" + name + "' is outside -128..127");
    }
    CONCIERGE_RETURN_IF_ERROR(out.set(*claim, static_cast<int>(v)));
  }
  return out;
}

}  // namespace concierge::verifier
