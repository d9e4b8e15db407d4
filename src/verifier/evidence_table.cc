// The evidence table: one verifier per kind.
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/verifier/evidence_verifier.h"
#include "verifier/evidence_internal.h"

namespace concierge::verifier {

const std::vector<EvidenceKind>& evidence_kinds() {
  // SNP/TDX/SGX REPORT_DATA is 64 bytes: SHA-384 zero-padded. A TPM nonce
  // (extraData) must fit the TPM's largest digest; SHA-256 fits every TPM.
  static const std::vector<EvidenceKind> kinds = {
      {"snp", HashAlg::kSha384, 64, &verify_snp_evidence},
      {"tdx", HashAlg::kSha384, 64, &verify_tdx_evidence, /*event_log=*/true},
      {"sgx", HashAlg::kSha384, 64, &verify_sgx_evidence},
      {"tpm", HashAlg::kSha256, 32, &verify_tpm_evidence, /*event_log=*/true, "tpm.ak",
       "tpm.required_pcr"},
  };
  return kinds;
}

const EvidenceKind* find_evidence_kind(std::string_view tee) {
  for (const EvidenceKind& k : evidence_kinds()) {
    if (k.tee == tee) return &k;
  }
  return nullptr;
}

Result<std::optional<Bytes>> optional_base64(const nlohmann::json& endorsements,
                                             const std::string& key) {
  const auto it = endorsements.find(key);
  if (it == endorsements.end() || it->is_null()) return std::optional<Bytes>();
  if (!it->is_string()) {
    return fail(Errc::kMalformed, "endorsements." + key + " is not a base64 string");
  }
  auto bytes = base64_decode(it->get<std::string>());
  if (!bytes) return fail(Errc::kMalformed, "endorsements." + key + ": " + bytes.error().message);
  return std::optional<Bytes>(std::move(*bytes));
}

Result<std::optional<std::string>> optional_text(const nlohmann::json& endorsements,
                                                 const std::string& key) {
  const auto it = endorsements.find(key);
  if (it == endorsements.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return fail(Errc::kMalformed, "endorsements." + key + " is not text");
  return std::optional<std::string>(it->get<std::string>());
}

nlohmann::json event_json(const std::string& register_name, std::size_t index,
                          const std::string& description, ByteView digest) {
  return {{"register", register_name},
          {"event", index},
          {"description", description},
          {"digest", hex_encode(digest)}};
}

nlohmann::json compare_with_replay(const std::vector<RegisterReplay>& registers,
                                   const std::string& log_name) {
  nlohmann::json out = {{"replayed", true}, {"matches_registers", true}};
  for (const RegisterReplay& r : registers) {
    if (r.replayed.empty()) {
      out["matches_registers"] = false;
      out["mismatch"] = r.name + ": the " + log_name + " has no bank for it";
      break;
    }
    if (r.quoted.size() == r.replayed.size() && equal_constant_time(r.quoted, r.replayed)) {
      continue;
    }
    out["matches_registers"] = false;
    out["mismatch"] = r.name + " differs: the evidence has " + hex_encode(r.quoted) + ", the " +
                      log_name + " replays to " + hex_encode(r.replayed) + " (" +
                      std::to_string(r.events) + " events)";
    break;
  }
  return out;
}

}  // namespace concierge::verifier
