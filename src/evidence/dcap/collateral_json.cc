// Signed PCS JSON: locating the exact signed bytes, and the field readers the
// DCAP parsers share (collateral.h, namespace detail).
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/core/time.h"
#include "concierge/evidence/dcap/collateral.h"

namespace concierge::evidence::dcap {
namespace {

using detail::Json;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view t, std::size_t i) {
  while (i < t.size() && is_ws(t[i])) ++i;
  return i;
}

// `i` at an opening quote; the index after the closing one, or npos.
std::size_t end_of_string(std::string_view t, std::size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;  // the escaped character (for \uXXXX the hex digits are plain)
    } else if (t[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// `i` at the first character of a value; the index after it, or npos.
// Iterative, so deep nesting cannot exhaust the stack.
std::size_t end_of_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return std::string_view::npos;
  if (t[i] == '"') return end_of_string(t, i);
  if (t[i] == '{' || t[i] == '[') {
    std::size_t depth = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '"') {
        i = end_of_string(t, i);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  while (i < t.size() && !is_ws(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i;
}

Unexpected malformed(std::string message) { return fail(Errc::kMalformed, std::move(message)); }

}  // namespace

Result<SignedJson> split_signed_json(std::string_view response, std::string_view body_key) {
  // The strict parse validates the whole text, so the scan below only has to
  // find boundaries in well-formed JSON (its own checks are defensive).
  CONCIERGE_ASSIGN_OR_RETURN(Json whole, detail::parse_json_object(response, "signed response"));
  std::size_t i = 0;
  if (response.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a UTF-8 BOM, as the parser allows
  i = skip_ws(response, i);
  if (i >= response.size() || response[i] != '{') return malformed("signed response: no object");
  i = skip_ws(response, i + 1);
  std::optional<std::string_view> body;
  std::optional<std::string_view> signature;
  while (i < response.size() && response[i] != '}') {
    const std::size_t key_end = end_of_string(response, i);
    if (response[i] != '"' || key_end == std::string_view::npos) {
      return malformed("signed response: bad member name");
    }
    const auto key = parse_json_with_offset(response.substr(i, key_end - i), "signed response");
    if (!key || !key->is_string()) return malformed("signed response: bad member name");
    i = skip_ws(response, key_end);
    if (i >= response.size() || response[i] != ':') return malformed("signed response: no ':'");
    const std::size_t value_start = skip_ws(response, i + 1);
    const std::size_t value_end = end_of_value(response, value_start);
    if (value_end == std::string_view::npos) return malformed("signed response: truncated value");
    const std::string_view value = response.substr(value_start, value_end - value_start);
    const std::string& name = key->get_ref<const std::string&>();
    std::optional<std::string_view>* slot =
        name == body_key ? &body : (name == "signature" ? &signature : nullptr);
    if (slot != nullptr) {
      if (slot->has_value()) {
        return Unexpected(
            detail::field_error(name, "signed response: member \"" + name + "\" appears twice"));
      }
      *slot = value;
    }
    i = skip_ws(response, value_end);
    if (i < response.size() && response[i] == ',') i = skip_ws(response, i + 1);
  }
  const std::string key(body_key);
  if (!body) return Unexpected(detail::field_error(key, "signed response: no \"" + key + "\""));
  if (body->empty() || body->front() != '{') {
    return Unexpected(
        detail::field_error(key, "signed response: \"" + key + "\" is not an object"));
  }
  if (!signature) {
    return Unexpected(detail::field_error("signature", "signed response: no \"signature\""));
  }
  const auto sig = parse_json_with_offset(*signature, "signature");
  if (!sig || !sig->is_string()) {
    return Unexpected(
        detail::field_error("signature", "signed response: signature is not a string"));
  }
  Result<Bytes> sig_bytes = hex_decode(sig->get_ref<const std::string&>());
  if (!sig_bytes || sig_bytes->size() != 64) {
    return Unexpected(detail::field_error(
        "signature", "signed response: signature is not 64 bytes of hex (P-256 r||s)"));
  }
  return SignedJson{*body, std::move(sig_bytes).value()};
}

namespace detail {

Error field_error(const std::string& path, std::string message) {
  Error e = make_error(Errc::kMalformed, std::move(message));
  e.field = path;
  return e;
}

Result<Json> parse_json_object(std::string_view text, std::string_view what) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j, parse_json_with_offset(text, what, std::string(what) + ": "));
  if (!j.is_object()) return malformed(std::string(what) + ": not a JSON object");
  return j;
}

const Json* find_member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<const Json*> require_member(const Json& object, std::string_view key,
                                   const std::string& path) {
  const Json* m = find_member(object, key);
  if (m == nullptr) return Unexpected(field_error(path, "missing \"" + path + "\""));
  return m;
}

Result<std::uint64_t> read_uint(const Json& object, std::string_view key, std::uint64_t max,
                                const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(const Json* m, require_member(object, key, path));
  if (!m->is_number_unsigned()) {
    return Unexpected(field_error(path, "\"" + path + "\" is not a non-negative integer"));
  }
  const std::uint64_t v = m->get<std::uint64_t>();
  if (v > max) {
    return Unexpected(field_error(
        path, "\"" + path + "\" " + std::to_string(v) + " is larger than " + std::to_string(max)));
  }
  return v;
}

Result<std::string> read_string(const Json& object, std::string_view key, const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(const Json* m, require_member(object, key, path));
  if (!m->is_string()) return Unexpected(field_error(path, "\"" + path + "\" is not a string"));
  return m->get<std::string>();
}

Result<TimePoint> read_time(const Json& object, std::string_view key, const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string text, read_string(object, key, path));
  Result<TimePoint> t = parse_rfc3339(text);
  if (!t) {
    return Unexpected(field_error(path, "\"" + path + "\" is not an RFC 3339 time: " + text));
  }
  return *t;
}

Result<Bytes> read_hex(const Json& object, std::string_view key, std::size_t size,
                       const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string text, read_string(object, key, path));
  Result<Bytes> b = hex_decode(text);
  if (!b || b->size() != size) {
    return Unexpected(field_error(
        path, "\"" + path + "\" is not " + std::to_string(size) + " bytes of hex: " + text));
  }
  return std::move(b).value();
}

Result<std::vector<std::string>> read_advisory_ids(const Json& object, const std::string& path) {
  std::vector<std::string> out;
  const Json* m = find_member(object, "advisoryIDs");
  if (m == nullptr) return out;
  if (!m->is_array()) return Unexpected(field_error(path, "\"" + path + "\" is not an array"));
  out.resize(m->size());
  for (std::size_t i = 0; i < m->size(); ++i) {
    const Json& id = (*m)[i];
    if (!id.is_string()) {
      return Unexpected(field_error(path, "\"" + path + "\" holds a non-string"));
    }
    out[i] = id.get<std::string>();
  }
  return out;
}

}  // namespace detail
}  // namespace concierge::evidence::dcap
