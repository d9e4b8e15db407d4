#include "concierge/core/json.h"

#include <algorithm>
#include <string>

namespace concierge {
namespace {

using Json = nlohmann::json;

// nlohmann's DOM builder, remembering where a syntax error was found.
class PositionedDomParser : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  explicit PositionedDomParser(Json& out) : json_sax_dom_parser(out, /*allow_exceptions=*/false) {}

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
  std::size_t position() const { return position_; }
  const std::string& message() const { return message_; }

 private:
  std::size_t position_ = 0;
  std::string message_;
};

}  // namespace

Result<nlohmann::json> parse_json_with_offset(std::string_view text, std::string_view what,
                                              std::string_view message_prefix) {
  Json root;
  PositionedDomParser sax(root);
  if (!Json::sax_parse(text, &sax)) {
    // The position counts characters read, the failing one included.
    const std::size_t offset = std::min(sax.position() == 0 ? 0 : sax.position() - 1, text.size());
    return fail_at(Errc::kMalformed, std::string(what), offset,
                   std::string(message_prefix) + "not valid JSON: " + sax.message());
  }
  return root;
}

}  // namespace concierge
