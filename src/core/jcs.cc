#include "concierge/core/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "concierge/core/json.h"

namespace concierge::jcs {
namespace {

using Json = nlohmann::json;

// Decodes one well-formed UTF-8 sequence (RFC 3629 section 4: no overlong
// forms, no surrogates, nothing above U+10FFFF) starting at s[i]; advances i.
// False on an ill-formed or truncated sequence.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) {
  const auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  i += len;
  return true;
}

// UTF-16 code units of a well-formed UTF-8 string; nullopt when ill-formed.
std::optional<std::u16string> to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    if (!next_code_point(s, i, cp)) return std::nullopt;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

Result<void> append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t start = i;
      char32_t cp = 0;
      if (!next_code_point(s, i, cp)) {
        return fail_at(Errc::kMalformed, "string", start, "JCS: not well-formed UTF-8");
      }
      out.append(s.substr(start, i - start));
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return {};
}

Result<void> append_value(std::string& out, const Json& v, std::size_t depth) {
  if (depth > kMaxDepth) {
    return fail(Errc::kUnsupported,
                "JCS: nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      return {};
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return {};
    case Json::value_t::number_integer:
      out += std::to_string(v.get<std::int64_t>());
      return {};
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<std::uint64_t>());
      return {};
    case Json::value_t::number_float: {
      CONCIERGE_ASSIGN_OR_RETURN(std::string text, number_to_string(v.get<double>()));
      out += text;
      return {};
    }
    case Json::value_t::string:
      return append_quoted(out, v.get_ref<const std::string&>());
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : v) {
        if (!first) out.push_back(',');
        first = false;
        CONCIERGE_RETURN_IF_ERROR(append_value(out, element, depth + 1));
      }
      out.push_back(']');
      return {};
    }
    case Json::value_t::object: {
      std::vector<std::pair<std::u16string, Json::const_iterator>> members;
      members.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto name = to_utf16(it.key());
        if (!name) return fail(Errc::kMalformed, "JCS: member name is not well-formed UTF-8");
        members.emplace_back(std::move(*name), it);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [name, it] : members) {
        if (!first) out.push_back(',');
        first = false;
        CONCIERGE_RETURN_IF_ERROR(append_quoted(out, it.key()));
        out.push_back(':');
        CONCIERGE_RETURN_IF_ERROR(append_value(out, it.value(), depth + 1));
      }
      out.push_back('}');
      return {};
    }
    case Json::value_t::binary:
      return fail(Errc::kUnsupported, "JCS: a binary value has no JSON form");
    case Json::value_t::discarded:
      break;
  }
  return fail(Errc::kInvalidArgument, "JCS: a discarded (parse-failed) value");
}

}  // namespace

Result<std::string> number_to_string(double value) {
  if (!std::isfinite(value)) {
    return fail(Errc::kMalformed, "JCS: NaN and Infinity are not JSON numbers");
  }
  if (value == 0) return std::string("0");  // both +0 and -0
  // Shortest round-trip digits (ties to the closer decimal, as ECMAScript's
  // Number::toString step 5 requires), in scientific form "-d.ddde+XX".
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) return fail(Errc::kInternal, "JCS: cannot format a number");
  const std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const std::size_t e_pos = sci.find('e');
  if (e_pos == std::string_view::npos) return fail(Errc::kInternal, "JCS: unexpected number form");
  std::string out;
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c == '-') {
      out.push_back('-');
    } else if (c != '.') {
      digits.push_back(c);
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = 0;
  const std::string_view exp_text = sci.substr(e_pos + 1);
  const char* exp_begin = exp_text.data() + (exp_text.front() == '+' ? 1 : 0);
  if (std::from_chars(exp_begin, exp_text.data() + exp_text.size(), exponent).ec != std::errc()) {
    return fail(Errc::kInternal, "JCS: unexpected exponent form");
  }
  // ECMA-262 Number::toString: value = digits x 10^(n - k).
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<std::string> quote_string(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 2);
  CONCIERGE_RETURN_IF_ERROR(append_quoted(out, utf8));
  return out;
}

bool utf16_less(std::string_view a, std::string_view b) {
  auto ua = to_utf16(a);
  auto ub = to_utf16(b);
  if (!ua || !ub) return a < b;
  return *ua < *ub;
}

Result<std::string> canonicalize(const nlohmann::json& value) {
  std::string out;
  CONCIERGE_RETURN_IF_ERROR(append_value(out, value, 0));
  return out;
}

Result<nlohmann::json> parse_strict(std::string_view json_text) {
  return parse_json_with_offset(json_text, "JSON", "JSON: ", {.reject_duplicate_names = true});
}

Result<std::string> canonicalize_text(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j, parse_strict(json_text));
  return canonicalize(j);
}

}  // namespace concierge::jcs
