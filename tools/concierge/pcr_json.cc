#include "pcr_json.h"

#include <cstdio>

#include "concierge/core/encoding.h"

namespace concierge::cli {

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
