#include "pcr_json.h"

#include <cstdio>

#include "concierge/core/encoding.h"
#include "concierge/core/json.h"

namespace concierge::cli {

nlohmann::json pcr_values_json(const PcrValues& values) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [bank, pcrs] : values) {
    nlohmann::json b = nlohmann::json::object();
    for (const auto& [pcr, value] : pcrs) b[std::to_string(pcr)] = hex_encode(value);
    out[std::string(hash_name(bank))] = std::move(b);
  }
  return out;
}

Result<PcrValues> parse_pcrs_json(ByteView text) {
  auto parsed = parse_json_with_offset(as_chars(text), "pcrs");
  nlohmann::json j = parsed ? std::move(*parsed) : nlohmann::json();
  if (!j.is_object() || !j.contains("pcrs") || !j["pcrs"].is_object()) {
    return fail(Errc::kMalformed, "expected {\"pcrs\": {\"<bank>\": {\"<index>\": \"<hex>\"}}}");
  }
  PcrValues out;
  for (const auto& [bank, pcrs] : j["pcrs"].items()) {
    auto alg = hash_from_name(bank);
    if (!alg) return fail(Errc::kMalformed, "unknown bank \"" + bank + "\"");
    if (!pcrs.is_object()) return fail(Errc::kMalformed, "bank " + bank + " is not an object");
    for (const auto& [index, value] : pcrs.items()) {
      unsigned pcr = 0;
      for (char c : index) {
        if (c < '0' || c > '9' || pcr > 23) return fail(Errc::kMalformed, "bad PCR index " + index);
        pcr = pcr * 10 + static_cast<unsigned>(c - '0');
      }
      if (index.empty() || pcr >= measure::kPcrCount || !value.is_string()) {
        return fail(Errc::kMalformed, "bad PCR entry " + bank + ":" + index);
      }
      CONCIERGE_ASSIGN_OR_RETURN(Bytes v, hex_decode(value.get<std::string>()));
      if (v.size() != digest_size(*alg)) {
        return fail(Errc::kMalformed, bank + ":" + index + " has the wrong size");
      }
      out[*alg][pcr] = std::move(v);
    }
  }
  return out;
}

nlohmann::json pcrs_json(const std::vector<measure::PcrBank>& banks, bool all) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& bank : banks) {
    if (!all && !bank.any_touched()) continue;
    nlohmann::json b = nlohmann::json::object();
    for (unsigned pcr = 0; pcr < measure::kPcrCount; ++pcr) {
      if (all || bank.touched(pcr)) b[std::to_string(pcr)] = hex_encode(bank.value(pcr));
    }
    out[std::string(hash_name(bank.alg()))] = std::move(b);
  }
  return out;
}

std::string pcrs_text(const std::vector<measure::PcrBank>& banks, bool all) {
  std::string out;
  for (const auto& bank : banks) {
    if (!all && !bank.any_touched()) continue;
    out += std::string(hash_name(bank.alg())) + ":\n";
    for (unsigned pcr = 0; pcr < measure::kPcrCount; ++pcr) {
      if (!all && !bank.touched(pcr)) continue;
      char idx[16];
      std::snprintf(idx, sizeof idx, "  %2u: ", pcr);
      out += idx + hex_encode(bank.value(pcr)) + "\n";
    }
  }
  return out;
}

void print_json(const nlohmann::json& value) {
  std::printf("%s\n", value.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace concierge::cli
