#include "concierge/core/json.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace concierge {
namespace {

using Json = nlohmann::json;

enum class Refusal { kNone, kDepth, kElements, kDuplicate };

// nlohmann's DOM builder (iterative: sax_parse keeps its own stack), with
// the limits of json.h checked as each value arrives; returning false from
// an event stops the parse there. Also remembers where a syntax error was.
class LimitedDomParser : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  LimitedDomParser(Json& out, bool reject_duplicates)
      : json_sax_dom_parser(out, /*allow_exceptions=*/false),
        reject_duplicates_(reject_duplicates) {}

  bool null() { return counted() && json_sax_dom_parser::null(); }
  bool boolean(bool v) { return counted() && json_sax_dom_parser::boolean(v); }
  bool number_integer(number_integer_t v) {
    return counted() && json_sax_dom_parser::number_integer(v);
  }
  bool number_unsigned(number_unsigned_t v) {
    return counted() && json_sax_dom_parser::number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) {
    return counted() && json_sax_dom_parser::number_float(v, s);
  }
  bool string(string_t& v) { return counted() && json_sax_dom_parser::string(v); }
  bool binary(binary_t& v) { return counted() && json_sax_dom_parser::binary(v); }

  bool start_object(std::size_t len) {
    if (!opened()) return false;
    if (reject_duplicates_) names_.emplace_back();
    return json_sax_dom_parser::start_object(len);
  }
  bool end_object() {
    --depth_;
    if (reject_duplicates_ && !names_.empty()) names_.pop_back();
    return json_sax_dom_parser::end_object();
  }
  bool start_array(std::size_t len) { return opened() && json_sax_dom_parser::start_array(len); }
  bool end_array() {
    --depth_;
    return json_sax_dom_parser::end_array();
  }
  bool key(string_t& name) {
    if (reject_duplicates_ && !names_.empty() && !names_.back().insert(name).second) {
      refusal_ = Refusal::kDuplicate;
      duplicate_ = name;
      return false;
    }
    return json_sax_dom_parser::key(name);
  }

  template <typename Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& ex) {
    position_ = position;
    message_ = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    if (auto end = message_.find("] ");
        !message_.empty() && message_[0] == '[' && end != std::string::npos) {
      message_.erase(0, end + 2);
    }
    return json_sax_dom_parser::parse_error(position, last_token, ex);
  }

  Refusal refusal() const { return refusal_; }
  const std::string& duplicate() const { return duplicate_; }
  std::size_t position() const { return position_; }
  const std::string& message() const { return message_; }

 private:
  bool counted() {
    if (++elements_ > kJsonMaxElements) {
      refusal_ = Refusal::kElements;
      return false;
    }
    return true;
  }
  bool opened() {
    if (!counted()) return false;
    if (++depth_ > kJsonMaxDepth) {
      refusal_ = Refusal::kDepth;
      return false;
    }
    return true;
  }

  bool reject_duplicates_;
  std::size_t depth_ = 0;
  std::size_t elements_ = 0;
  std::vector<std::set<std::string>> names_;  // one per open object
  Refusal refusal_ = Refusal::kNone;
  std::string duplicate_;
  std::size_t position_ = 0;
  std::string message_;
};

// Where the bracket opening level kJsonMaxDepth + 1 is (the text parsed
// up to there, so strings are well-formed and need only their escapes
// skipped).
std::size_t too_deep_offset(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kJsonMaxDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return text.size();
}

}  // namespace

Result<nlohmann::json> parse_json_with_offset(std::string_view text, std::string_view what,
                                              std::string_view message_prefix,
                                              JsonParseOptions options) {
  Json root;
  LimitedDomParser sax(root, options.reject_duplicate_names);
  if (Json::sax_parse(text, &sax)) return root;
  const std::string prefix(message_prefix);
  switch (sax.refusal()) {
    case Refusal::kDepth:
      return fail_at(
          Errc::kMalformed, std::string(what), too_deep_offset(text),
          prefix + "JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels");
    case Refusal::kElements: {
      Error e = make_error(Errc::kMalformed, prefix + "JSON with more than " +
                                                 std::to_string(kJsonMaxElements) + " values");
      e.field = std::string(what);
      return Unexpected(std::move(e));
    }
    case Refusal::kDuplicate: {
      Error e = make_error(
          Errc::kMalformed,
          prefix + "duplicate member name " +
              Json(sax.duplicate()).dump(-1, ' ', false, Json::error_handler_t::replace));
      e.field = std::string(what);
      return Unexpected(std::move(e));
    }
    case Refusal::kNone:
      break;
  }
  // The position counts characters read, the failing one included.
  const std::size_t offset = std::min(sax.position() == 0 ? 0 : sax.position() - 1, text.size());
  return fail_at(Errc::kMalformed, std::string(what), offset,
                 prefix + "not valid JSON: " + sax.message());
}

}  // namespace concierge
