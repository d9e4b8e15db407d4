#include "concierge/verifier/binding.h"

#include <algorithm>

#include "concierge/core/encoding.h"
#include "concierge/core/jcs.h"

namespace concierge::verifier {

Result<Bytes> runtime_data_digest(const nlohmann::json& runtime_data, HashAlg hash,
                                  std::size_t size) {
  if (!runtime_data.is_object()) return fail(Errc::kMalformed, "runtime_data is not an object");
  const auto nonce = runtime_data.find("nonce");
  const auto key = runtime_data.find("tee-pubkey");
  if (nonce == runtime_data.end() || !nonce->is_string()) {
    return fail(Errc::kMalformed, "runtime_data.nonce is missing or not a string");
  }
  if (key == runtime_data.end() || !key->is_object()) {
    return fail(Errc::kMalformed, "runtime_data.tee-pubkey is missing or not a JWK object");
  }
  if (runtime_data.size() != 2) {
    return fail(Errc::kMalformed, "runtime_data has members other than nonce and tee-pubkey");
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::string canonical, jcs::canonicalize(runtime_data));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes d, digest(hash, as_bytes(canonical)));
  if (d.size() > size) {
    return fail(Errc::kInvalidArgument, "the binding digest does not fit the report data");
  }
  d.resize(size, 0);
  return d;
}

Result<Verdict> check_binding(ByteView report_data, const nlohmann::json& runtime_data,
                              HashAlg hash, std::size_t size) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes want, runtime_data_digest(runtime_data, hash, size));
  if (report_data.size() == want.size() && equal_constant_time(report_data, want)) {
    return Verdict::accept();
  }
  return Verdict::reject(
      "report data does not bind the runtime data (nonce and tee-pubkey): expected " +
      hex_encode(want) + ", the evidence has " + hex_encode(report_data));
}

}  // namespace concierge::verifier
