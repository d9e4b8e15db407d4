// libFuzzer target: the I-JSON parser and RFC 8785 canonicalization (jcs.h),
// JWS verification (jose.h) and EAR claims parsing (ear.h), on one input.
//  - parse_strict must never crash and fails only with kMalformed; what it
//    accepts canonicalizes, and the canonical form is a fixed point:
//    canonicalize(parse_strict(canonical)) == canonical.
//  - parse_ear_claims of an accepted object must not crash.
//  - verify_jws of the input as a compact token, against a P-256 key made
//    once per process, must not crash and can never accept (nobody here
//    holds the private key); a rejected token carries no header or payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/jcs.h"
#include "concierge/core/jose.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/verifier/ear.h"

namespace {

const concierge::PublicKey& verification_key() {
  static const concierge::PublicKey kKey = [] {
    auto key = concierge::PrivateKey::generate_ec(concierge::EcCurve::kP256);
    if (!key) std::abort();
    auto pub = key->public_key();
    if (!pub) std::abort();
    return std::move(*pub);
  }();
  return kKey;
}

void check_canonical(const nlohmann::json& value) {
  using namespace concierge;
  auto canonical = jcs::canonicalize(value);
  // parse_strict keeps to what canonicalize accepts: well-formed UTF-8,
  // finite numbers, nesting within kMaxDepth.
  if (!canonical) __builtin_trap();
  auto again = jcs::parse_strict(*canonical);
  if (!again) __builtin_trap();
  auto twice = jcs::canonicalize(*again);
  if (!twice || *twice != *canonical) __builtin_trap();
  auto text = jcs::canonicalize_text(*canonical);
  if (!text || *text != *canonical) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = jcs::parse_strict(text);
  if (!parsed) {
    if (parsed.error().code != Errc::kMalformed) __builtin_trap();
  } else {
    check_canonical(*parsed);
    if (parsed->is_object()) {
      if (auto ear = verifier::parse_ear_claims(*parsed)) {
        (void)verifier::validate_ear(*ear);
        (void)verifier::ear_claims(*ear);
      }
    }
  }

  static const std::vector<jose::JwsAlg> kAllowed = {jose::JwsAlg::kEs256, jose::JwsAlg::kEs384};
  auto verified = jose::verify_jws(text, verification_key(), kAllowed);
  if (verified) {
    if (verified->verdict.accepted) __builtin_trap();
    if (!verified->header.is_null() || !verified->payload.empty()) __builtin_trap();
  }
  return 0;
}
