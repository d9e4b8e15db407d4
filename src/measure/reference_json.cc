// The JSON form of reference values (see reference.h): a strict parser that
// names the path of the first bad entry, and the canonical writer.

// GCC 12 at -O3 reports a false -Wstringop-overread inside std::vector's
// operator<=> once std::set<Bytes>::insert is inlined here (the bound it
// complains about is a size_t it cannot prove non-negative as a ptrdiff_t).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/measure/pcr_bank.h"
#include "concierge/measure/reference.h"

#include "concierge/core/json.h"

namespace concierge::measure {
namespace {

using nlohmann::json;

// A JSON key as it may appear in an error: printable ASCII, other bytes as
// \xNN, at most 40 characters (errors are one line on a terminal).
std::string printable(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (out.size() >= 40) return out + "...";
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

Unexpected bad(std::string path, std::string message) {
  Error e = make_error(Errc::kMalformed, std::move(message));
  e.field = std::move(path);
  return Unexpected(std::move(e));
}

Result<json> parse_json(std::string_view text) {
  return parse_json_with_offset(text, "reference values");
}

Result<HashAlg> parse_bank(const std::string& name, const std::string& path) {
  std::optional<HashAlg> alg = hash_from_name(name);
  if (!alg) return bad(path, "unknown bank");
  return *alg;
}

// A PCR index in canonical decimal ("0" .. "23"; no sign, no leading zero).
std::optional<unsigned> parse_pcr_index(const std::string& s) {
  if (s.empty() || s.size() > 2 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v >= kPcrCount) return std::nullopt;
  return v;
}

Result<Bytes> parse_digest(const json& value, HashAlg bank, const std::string& path) {
  if (!value.is_string()) return bad(path, "expected a hex string");
  auto bytes = hex_decode(value.get_ref<const std::string&>());
  if (!bytes) {
    const Error& e = bytes.error();
    return bad(path,
               e.message + (e.offset ? " (character " + std::to_string(*e.offset) + ")" : ""));
  }
  if (bytes->size() != digest_size(bank)) {
    return bad(path, std::to_string(bytes->size()) + " bytes, a " + std::string(hash_name(bank)) +
                         " digest has " + std::to_string(digest_size(bank)));
  }
  return std::move(bytes).value();
}

Result<void> parse_pcrs(const json& pcrs, ReferenceValues& out) {
  if (!pcrs.is_object()) return bad("pcrs", "expected an object {\"<bank>\": {...}}");
  for (const auto& [name, values] : pcrs.items()) {
    const std::string bank_path = "pcrs." + printable(name);
    CONCIERGE_ASSIGN_OR_RETURN(HashAlg bank, parse_bank(name, bank_path));
    if (!values.is_object()) return bad(bank_path, "expected an object {\"<index>\": \"<hex>\"}");
    auto& bank_values = out.pcrs[bank];
    for (const auto& [index, value] : values.items()) {
      const std::string path = bank_path + "." + printable(index);
      std::optional<unsigned> pcr = parse_pcr_index(index);
      if (!pcr) return bad(path, "a PCR index must be 0-23 in decimal");
      CONCIERGE_ASSIGN_OR_RETURN(bank_values[*pcr], parse_digest(value, bank, path));
    }
  }
  return {};
}

Result<void> parse_digests(const json& digests, ReferenceValues& out) {
  if (!digests.is_object()) return bad("digests", "expected an object {\"<bank>\": [...]}");
  for (const auto& [name, list] : digests.items()) {
    const std::string bank_path = "digests." + printable(name);
    CONCIERGE_ASSIGN_OR_RETURN(HashAlg bank, parse_bank(name, bank_path));
    if (!list.is_array()) return bad(bank_path, "expected an array of hex digests");
    auto& set = out.digests[bank];
    for (std::size_t i = 0; i < list.size(); ++i) {
      CONCIERGE_ASSIGN_OR_RETURN(
          Bytes d, parse_digest(list[i], bank, bank_path + "[" + std::to_string(i) + "]"));
      set.insert(std::move(d));
    }
  }
  return {};
}

}  // namespace

Result<ReferenceValues> parse_reference_values(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(json root, parse_json(json_text));
  if (!root.is_object()) {
    return fail(Errc::kMalformed, "reference values must be a JSON object");
  }
  ReferenceValues out;
  for (const auto& [key, value] : root.items()) {
    if (key == "pcrs") {
      CONCIERGE_RETURN_IF_ERROR(parse_pcrs(value, out));
    } else if (key == "digests") {
      CONCIERGE_RETURN_IF_ERROR(parse_digests(value, out));
    } else {
      return bad(printable(key), "unknown key (expected \"pcrs\" and/or \"digests\")");
    }
  }
  const bool any_value = std::any_of(out.pcrs.begin(), out.pcrs.end(),
                                     [](const auto& bank) { return !bank.second.empty(); });
  if (!any_value && out.digests.empty()) {
    return fail(Errc::kMalformed,
                "reference values are empty: give at least one PCR value or one digest bank");
  }
  return out;
}

json reference_values_json(const ReferenceValues& ref) {
  json out = json::object();
  if (!ref.pcrs.empty()) {
    json pcrs = json::object();
    for (const auto& [bank, values] : ref.pcrs) {
      json b = json::object();
      for (const auto& [pcr, value] : values) b[std::to_string(pcr)] = hex_encode(value);
      pcrs[std::string(hash_name(bank))] = std::move(b);
    }
    out["pcrs"] = std::move(pcrs);
  }
  if (!ref.digests.empty()) {
    json digests = json::object();
    for (const auto& [bank, set] : ref.digests) {
      json list = json::array();
      for (const Bytes& d : set) list.push_back(hex_encode(d));
      digests[std::string(hash_name(bank))] = std::move(list);
    }
    out["digests"] = std::move(digests);
  }
  return out;
}

}  // namespace concierge::measure
